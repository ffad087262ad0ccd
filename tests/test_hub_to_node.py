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
        ({"sku": "X", "unit": "box"}, "Invalid enum value 'box' - at `$.unit`"),
    ],
)
@pytest.mark.slow
def test_bad_product_requests_are_refused_clearly(hub, body, message):
    before = hub.get("/healthz", auth=False)[1]["origins"]
    status, reply = post(hub, "/api/v1/products", body)
    assert status == 400
    assert message in reply["detail"]
    assert hub.get("/healthz", auth=False)[1]["origins"] == before


@pytest.mark.slow
def test_purchase_order_received_in_two_deliveries(tmp_path, nats_server, hub):
    db = init_node(tmp_path, nats_server, "S01")
    # head office creates the product, then orders it (an order for an unknown SKU is refused)
    status, body = post(hub, "/api/v1/products", {"sku": "RICE", "name": "Rice", "unit": "kg"})
    assert status == 201, body
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
    refused = kucun("node", "transfer", "receive", "--db", store, doc, "OIL=11")
    assert refused.returncode != 0 and "OIL 11.000 arrived, 12.000 shipped" in refused.stderr
    assert "--recount" in refused.stderr or "--approver" in refused.stderr
    received = kucun(
        "node", "transfer", "receive", "--db", store, doc, "OIL=11", "--recount", "OIL=11",
        check=True,
    )  # fmt: skip
    assert "received_with_discrepancy" in received.stdout
    costs = json.loads(kucun("node", "stock", "--db", store, "--json", check=True).stdout)
    assert costs["items"] == [{"location": "S01", "sku": "OIL", "lot": None, "qty": "11.000"}]
    kucun("node", "sync", "--db", store, "--once", check=True)
    assert wait_until(
        lambda: hub.get(f"/api/v1/documents/{doc}")[1]["status"] == "received_with_discrepancy"
    )
    line = hub.get(f"/api/v1/documents/{doc}")[1]["lines"][0]
    assert (line["shipped"], line["done"], line["discrepancy"]) == ("12.000", "11.000", "-1.000")
    stock = {i["location"]: i["qty"] for i in hub.stock(sku="OIL")}
    assert stock == {"S01": "11.000", "W01": "28.000"}
    # transit kept value: S01 booked what arrived at the warehouse's average cost
    cost = {i["location"]: i["value"] for i in hub.get("/api/v1/cost?sku=OIL")[1]["items"]}
    assert cost == {"S01": "330.00", "W01": "840.00"}
    (receipt,) = hub.get(f"/api/v1/documents/{doc}")[1]["receipts"]
    assert receipt["recounted"] and receipt["lines"][0]["unit_cost"] == "30.00"
    # a shipment arrives once: receiving "the rest" again is refused (a retyped command
    # books nothing); the missing one turning up later is a manager's extra receipt
    again = kucun("node", "transfer", "receive", "--db", store, doc)
    assert again.returncode != 0 and "already received with discrepancy" in again.stderr
    assert "--force" in again.stderr and "Traceback" not in again.stderr
    kucun("node", "user", "add", "--db", store, "m01", "--name", "Li", "--role", "manager",
          "--pin", "2468", check=True)  # fmt: skip
    found = kucun(
        "node", "transfer", "receive", "--db", store, doc, "OIL=1",
        "--force", "--approver", "m01", "--pin", "2468", check=True,
    ).stdout  # fmt: skip
    assert f"received transfer {doc}: received" in found


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


@pytest.mark.slow
def test_two_tills_receiving_one_order_offline_alert_everyone(tmp_path, nats_server, hub):
    """Both receipts stay; the hub and both tills show over_received and "received twice";
    a manager's reversal at one till clears it everywhere."""
    tills = [init_node(tmp_path, nats_server, t, "S01") for t in ("S01-T1", "S01-T2")]
    status, body = post(hub, "/api/v1/products", {"sku": "A1", "name": "Apple"})
    assert status == 201, body
    kucun(
        "node", "user", "add", "--db", tills[0], "wang", "--role", "manager", "--pin", "4821",
        check=True,
    )  # fmt: skip
    status, body = post(
        hub,
        "/api/v1/purchase-orders",
        {
            "location": "S01",
            "supplier": "ACME",
            "lines": [{"sku": "A1", "qty": "20", "unit_cost": "2.30"}],
        },
    )
    assert status == 201, body
    po = body["doc"]
    for db in tills:
        sync_until(db, lambda db=db: any(d["doc"] == po for d in documents(db)))
    receipts = [
        kucun("node", "po", "receive", "--db", db, po, check=True).stdout.split("receipt ")[1]
        for db in tills
    ]
    receipts = [r.rstrip(")\n") for r in receipts]
    again = kucun("node", "po", "receive", "--db", tills[0], po, "A1=5")
    assert again.returncode != 0 and "already received" in again.stderr
    assert receipts[0] in again.stderr
    for db in tills:
        kucun("node", "sync", "--db", db, "--once", check=True)

    def hub_alerts():
        answer = hub.get(f"/api/v1/documents/{po}")[1]
        return [a["kind"] for a in answer.get("alerts", [])] == ["received_twice"] and answer

    answer = wait_until(hub_alerts)
    assert answer and answer["status"] == "over_received"
    assert sorted(r["doc"] for r in answer["receipts"]) == sorted(receipts)
    for db in tills:  # each till gets the other's receipt (a sibling at S01) and the alert
        sync_until(db, lambda db=db: [a["kind"] for d in documents(db) for a in d["alerts"]])
        (listed,) = documents(db)
        assert listed["status"] == "over_received"
        assert sorted(r["doc"] for r in listed["receipts"]) == sorted(receipts)
    text = kucun("node", "documents", "--db", tills[1], check=True).stdout
    assert "received twice" in text and receipts[0] in text and receipts[1] in text

    # a manager at T1 reverses T1's own receipt: resolved at the hub too
    kucun(
        "node", "po", "reverse", "--db", tills[0], receipts[0], "--approver", "wang",
        "--pin", "4821", check=True,
    )  # fmt: skip
    kucun("node", "sync", "--db", tills[0], "--once", check=True)

    def resolved():
        answer = hub.get(f"/api/v1/documents/{po}")[1]
        return answer["status"] == "received" and answer["alerts"] == [] and answer

    answer = wait_until(resolved)
    assert answer, hub.get(f"/api/v1/documents/{po}")[1]
    (reversed_receipt,) = [r for r in answer["receipts"] if r["reversed_by"]]
    assert reversed_receipt["doc"] == receipts[0]
    assert hub.stock(location="S01")[0]["qty"] == "20.000"
