"""The hub API in-process (aiohttp test client on a real SQLite file): contract checks."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api import make_app
from hub.schemas import ProductIn
from hub.service import HubService
from hub.store import HubStore


@pytest.fixture
async def client(tmp_path):
    store, token = HubStore.init(tmp_path / "hub.db")
    HubService(store).put_product(ProductIn(sku="A", name="Apple"))  # what the orders order
    async with TestClient(TestServer(make_app(store))) as c:
        c.token = token
        yield c


def auth(client) -> dict:
    return {"Authorization": f"Bearer {client.token}"}


async def test_openapi_describes_every_route(client):
    spec = await (await client.get("/api/v1/openapi.json", headers=auth(client))).json()
    assert spec["openapi"].startswith("3.1")
    routes = {r.resource.canonical for r in client.server.app.router.routes()}
    assert routes == set(spec["paths"])
    assert set(spec["components"]["schemas"]) >= {"ProductIn", "PurchaseOrderIn"}


@pytest.mark.parametrize("path", ["/api/v1/stock", "/api/v1/nodes", "/api/v1/cost"])
async def test_token_required(client, path):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        response = await client.get(path, headers=headers)
        assert response.status == 401
        assert "token" in (await response.json())["error"]


async def test_purchase_order_validation(client):
    bad = [
        ({"location": "S.01", "supplier": "A", "lines": [{"sku": "A", "qty": "1"}]}, "location"),
        ({"location": "S01", "supplier": "A", "lines": []}, "at least one line"),
        (
            {"location": "S01", "supplier": "A", "lines": [{"sku": "A", "qty": "-1"}]},
            "more than zero",
        ),
        ({"location": "S01", "lines": []}, "invalid request body"),
    ]
    for body, message in bad:
        response = await client.post("/api/v1/purchase-orders", json=body, headers=auth(client))
        assert response.status == 400
        assert message in (await response.json())["error"]
    ok = await client.post(
        "/api/v1/purchase-orders",
        headers=auth(client),
        json={"location": "S01", "supplier": "ACME", "lines": [{"sku": "A", "qty": "5"}]},
    )
    assert ok.status == 201
    doc = (await ok.json())["doc"]
    status = await (await client.get(f"/api/v1/documents/{doc}", headers=auth(client))).json()
    assert status["status"] == "ordered"
    missing = await client.get("/api/v1/documents/NOPE", headers=auth(client))
    assert missing.status == 404


async def test_a_user_head_office_creates_with_a_pin_logs_in_at_a_till(client, tmp_path):
    """POST /api/v1/users with a PIN: the hub keeps and sends only its scrypt hash, and the
    till that receives the hub's log lets the cashier log in with the PIN."""
    from node import permissions
    from node.service import Node
    from replication.clock import wall_ms

    body = {"user": "zhang", "name": "张伟", "role": "cashier", "pin": "4821"}
    response = await client.post("/api/v1/users", json=body, headers=auth(client))
    assert response.status == 201, await response.text()
    bad = await client.post("/api/v1/users", json={"user": "x", "pin": "12"}, headers=auth(client))
    assert bad.status == 400 and "4 to 12 digits" in (await bad.json())["error"]
    from hub.api import SERVICE_KEY

    hub = client.server.app[SERVICE_KEY].store.events
    raws = [raw for _, raw in hub.log.raw_events("hub", 0)]
    assert raws and all(b"4821" not in raw for raw in raws)  # never the PIN itself
    till = Node.init(tmp_path / "till.db", "S01", None, "nats://127.0.0.1:1")
    till.store.ingest(raws, wall_ms())
    user = permissions.authenticate(till, "zhang", "4821")
    assert (user.id, user.name, user.role) == ("zhang", "张伟", "cashier")


async def test_the_hub_shows_a_stocktake_with_its_places_and_approved_variance(client, tmp_path):
    """A till's stocktake (two places, approved) at the hub: counted per place, the
    approval, and the variance it approved at the hub's moving-average cost."""
    from hub.api import SERVICE_KEY
    from node import stocktake
    from node.service import Node
    from replication.clock import wall_ms

    till = Node.init(tmp_path / "till.db", "S01", None, "nats://127.0.0.1:1")
    till.add_product("COLA", "Cola", price="3.00")
    till.receive("COLA", "10", cost="2.00")
    (opened, *_) = stocktake.open_stocktake(till)
    doc = f"S01-{opened.seq}"
    stocktake.tally(till, doc, "shelf", [stocktake.Counted("COLA", 6000)])
    stocktake.tally(till, doc, "back store", [stocktake.Counted("COLA", 3000)])
    stocktake.approve(till, doc)
    hub = client.server.app[SERVICE_KEY].store.events
    hub.ingest([raw for _, raw in till.store.log.raw_events("S01", 0)], wall_ms())
    response = await client.get(f"/api/v1/documents/{doc}", headers=auth(client))
    assert response.status == 200, await response.text()
    body = (await response.json())["stocktake"]
    assert body["status"] == "approved"
    assert body["counted"] == [{"sku": "COLA", "lot": None, "qty": "9.000"}]
    assert {(p["place"], p["qty"]) for p in body["places"]} == {
        ("shelf", "6.000"),
        ("back store", "3.000"),
    }
    (approval,) = body["approvals"]
    assert approval["lines"] == [
        {"sku": "COLA", "lot": None, "counted": "9.000", "variance": "-1.000", "value": "-2.00"}
    ]
    assert hub.read.stock(location="S01", sku="COLA")[0].qty == 9000
