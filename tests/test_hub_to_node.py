"""Head office → stores: products, purchase orders and transfers through the real hub."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request

import pytest

from tests.helpers import kucun, wait_until


def post(hub, path: str, body: object) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://{hub.http}{path}",
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {hub.token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def init_node(tmp_path, nats_server, node: str, location: str | None = None) -> str:
    db = str(tmp_path / f"{node}.db")
    kucun(
        "node",
        "init",
        "--db",
        db,
        "--node",
        node,
        "--location",
        location or node,
        "--nats",
        nats_server.url,
        check=True,
    )
    return db


def sync_until(db: str, predicate) -> None:
    """Sync until the hub's events have reached this node (the hub publishes in the
    background, so one round may come too early)."""

    def attempt():
        kucun("node", "sync", "--db", db, "--once", check=True)
        return predicate()

    assert wait_until(attempt, timeout=30, interval=0.3)


def documents(db: str) -> list[dict]:
    return json.loads(kucun("node", "documents", "--db", db, "--json", check=True).stdout)["items"]


@pytest.mark.slow
def test_products_from_head_office_reach_the_counter(tmp_path, nats_server, hub):
    db = init_node(tmp_path, nats_server, "S01")
    status, body = post(
        hub,
        "/api/v1/products",
        {"sku": "TEA", "name": "绿茶 500ml", "price": "4.50", "unit": "pcs"},
    )
    assert status == 201, body

    def has_tea():
        return kucun("node", "sell", "--db", db, "TEA", "2").returncode == 0

    sync_until(db, has_tea)
    assert "total 9.00" in kucun("node", "sell", "--db", db, "TEA", "2", check=True).stdout


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "invalid request body"),
        ({"sku": "X", "price": "1.005"}, "decimal places"),
        ({"sku": "X", "colour": "red"}, "invalid request body"),
        ({"sku": "X"}, "nothing to change"),
        ({"sku": "X", "unit": "box"}, "unit must be"),
    ],
)
@pytest.mark.slow
def test_bad_product_requests_are_refused_clearly(hub, body, message):
    before = hub.get("/healthz", auth=False)[1]["origins"]
    status, reply = post(hub, "/api/v1/products", body)
    assert status == 400
    assert message in reply["error"]
    assert hub.get("/healthz", auth=False)[1]["origins"] == before


@pytest.mark.slow
def test_purchase_order_received_in_two_deliveries(tmp_path, nats_server, hub):
    db = init_node(tmp_path, nats_server, "S01")
    kucun(
        "node", "product", "add", "--db", db, "RICE", "--name", "Rice", "--unit", "kg", check=True
    )
    status, body = post(
        hub,
        "/api/v1/purchase-orders",
        {
            "location": "S01",
            "supplier": "ACME",
            "lines": [{"sku": "RICE", "qty": "50", "unit_cost": "4.20"}],
        },
    )
    assert status == 201, body
    po = body["doc"]
    sync_until(db, lambda: any(d["doc"] == po for d in documents(db)))
    assert documents(db)[0]["status"] == "ordered"

    kucun("node", "po", "receive", "--db", db, po, "RICE=20", check=True)
    kucun("node", "sync", "--db", db, "--once", check=True)
    assert wait_until(lambda: hub.get(f"/api/v1/documents/{po}")[1]["status"] == "partly_received")
    kucun("node", "po", "receive", "--db", db, po, check=True)  # the rest: 30
    kucun("node", "sync", "--db", db, "--once", check=True)
    assert wait_until(lambda: hub.get(f"/api/v1/documents/{po}")[1]["status"] == "received")
    assert hub.stock(location="S01")[0]["qty"] == "50.000"
    assert hub.get("/api/v1/cost?location=S01")[1]["items"] == [
        {"location": "S01", "sku": "RICE", "qty": "50.000", "value": "210.00"}
    ]
    assert documents(db) == []


@pytest.mark.slow
def test_transfer_is_routed_and_a_short_delivery_stays_visible(tmp_path, nats_server, hub):
    warehouse = init_node(tmp_path, nats_server, "W01")
    store = init_node(tmp_path, nats_server, "S01")
    for db in (warehouse, store):
        kucun("node", "product", "add", "--db", db, "OIL", "--name", "Oil", check=True)
    kucun("node", "receive", "--db", warehouse, "OIL", "40", "--cost", "30.00", check=True)
    shipped = kucun(
        "node", "transfer", "ship", "--db", warehouse, "--to", "S01", "OIL=12", check=True
    ).stdout
    doc = shipped.split()[2]
    kucun("node", "sync", "--db", warehouse, "--once", check=True)
    assert wait_until(lambda: hub.get(f"/api/v1/documents/{doc}")[1].get("status") == "in_transit")

    sync_until(store, lambda: any(d["doc"] == doc for d in documents(store)))
    received = kucun("node", "transfer", "receive", "--db", store, doc, "OIL=11", check=True)
    assert "received_with_discrepancy" in received.stdout
    kucun("node", "sync", "--db", store, "--once", check=True)
    assert wait_until(
        lambda: hub.get(f"/api/v1/documents/{doc}")[1]["status"] == "received_with_discrepancy"
    )
    line = hub.get(f"/api/v1/documents/{doc}")[1]["lines"][0]
    assert (line["shipped"], line["done"], line["discrepancy"]) == ("12.000", "11.000", "-1.000")
    stock = {i["location"]: i["qty"] for i in hub.stock(sku="OIL")}
    assert stock == {"S01": "11.000", "W01": "28.000"}


@pytest.mark.slow
def test_node_lag_and_gaps_are_reported(tmp_path, nats_server, hub):
    db = init_node(tmp_path, nats_server, "S01")
    kucun("node", "product", "add", "--db", db, "A", "--name", "A", check=True)
    kucun("node", "sync", "--db", db, "--once", check=True)
    status, body = hub.get("/api/v1/nodes")
    assert status == 200
    (item,) = [i for i in body["items"] if i["origin"] == "S01"]
    assert item["ingested_seq"] == 1 and item["missing"] == [] and item["waiting"] == 0
    assert item["last_ingest_age_s"] is not None


@pytest.mark.slow
def test_users_and_corrections_from_head_office(tmp_path, nats_server, hub):
    db = init_node(tmp_path, nats_server, "S01")
    kucun("node", "product", "add", "--db", db, "A", "--name", "A", check=True)
    kucun("node", "receive", "--db", db, "A", "10", check=True)
    assert post(hub, "/api/v1/users", {"user": "li", "name": "李娜", "role": "cashier"})[0] == 201
    assert post(hub, "/api/v1/users", {"user": "li", "role": "pirate"})[0] == 400
    status, body = post(
        hub,
        "/api/v1/corrections",
        {"location": "S01", "sku": "A", "qty": "-2", "reason": "breakage"},
    )
    assert status == 201, body

    def corrected():
        stock = json.loads(kucun("node", "stock", "--db", db, "--json", check=True).stdout)
        return stock["items"] == [{"location": "S01", "sku": "A", "lot": None, "qty": "8.000"}]

    sync_until(db, corrected)
    assert wait_until(
        lambda: hub.stock(location="S01") and hub.stock(location="S01")[0]["qty"] == "8.000"
    )
    with sqlite3.connect(db) as conn:
        role = conn.execute(
            "SELECT value FROM registers WHERE entity='user' AND key='li' AND field='role'"
        ).fetchone()
    assert role == ('"cashier"',)
