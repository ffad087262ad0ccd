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
    assert set(spec["components"]["schemas"]) >= {"PurchaseOrderIn", "CorrectionIn", "Problem"}


@pytest.mark.parametrize("path", ["/api/v1/stock", "/api/v1/nodes", "/api/v1/cost"])
async def test_token_required(client, path):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        response = await client.get(path, headers=headers)
        assert response.status == 401
        assert "token" in (await response.json())["detail"]


async def test_purchase_order_validation(client):
    bad = [
        ({"location": "S.01", "supplier": "A", "lines": [{"sku": "A", "qty": "1"}]}, "location"),
        ({"location": "S01", "supplier": "A", "lines": []}, "$.lines must not be empty"),
        (
            {"location": "S01", "supplier": "A", "lines": [{"sku": "A", "qty": "-1"}]},
            "more than zero",
        ),
        ({"location": "S01", "lines": []}, "invalid request body"),
    ]
    for body, message in bad:
        response = await client.post("/api/v1/purchase-orders", json=body, headers=auth(client))
        assert response.status == 400
        assert message in (await response.json())["detail"]
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
    assert bad.status == 400 and "4 to 12 digits" in (await bad.json())["detail"]
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


# ---- errors are problem details (RFC 9457) ----------------------------------------------

PO = "/api/v1/purchase-orders"


def json_headers(client) -> dict:
    return {**auth(client), "Content-Type": "application/json"}


async def problem_of(response, status: int) -> dict:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body = await response.json()
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"location": "S01", "supplier": "A", "lines": [{"sku": "", "qty": "1"}]},
            "$.lines[0].sku",
        ),
        ({"location": "S01", "supplier": "A", "lines": [{"sku": "A", "qty": 1}]}, "$.lines[0].qty"),
        ({"location": "S.1", "supplier": "A", "lines": [{"sku": "A", "qty": "1"}]}, "$.location"),
        (
            {"location": "S01", "supplier": "A", "lines": [{"sku": "A", "qty": "0"}]},
            "$.lines[0].qty",
        ),
        ({"location": "S01", "supplier": "", "lines": [{"sku": "A", "qty": "1"}]}, "$.supplier"),
        ({"location": "S01", "supplier": "A", "lines": [{"sku": "B", "qty": "1"}]}, "$.lines"),
        ({"location": "S01", "supplier": "A", "lines": [{"sku": "A", "qty": "1"}], "x": 1}, "$.x"),
    ],
)
async def test_a_refusal_names_its_field(client, body, field):
    """The decoder's refusals and the service's alike: a program can point at the input."""
    response = await client.post(PO, json=body, headers=auth(client))
    problem = await problem_of(response, 400)
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert problem["errors"][0]["message"]


async def test_aiohttps_own_refusals_are_problems_too(client):
    await problem_of(await client.get("/api/v1/nowhere", headers=auth(client)), 404)
    wrong = await client.delete("/api/v1/openapi.json", headers=auth(client))
    assert "GET" in (await problem_of(wrong, 405))["detail"]
    assert "GET" in wrong.headers["Allow"]
    unauthorized = await client.get("/api/v1/stock")
    await problem_of(unauthorized, 401)
    assert unauthorized.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_body_over_1_mib_is_413_and_writes_nothing(client):
    from hub.api import SERVICE_KEY

    log = client.server.app[SERVICE_KEY].store.events.log
    before = log.head("hub-S01")
    note = "x" * (1024 * 1024)
    body = {"location": "S01", "supplier": "A", "lines": [{"sku": "A", "qty": "1"}], "note": note}
    response = await client.post(PO, json=body, headers=auth(client))
    assert "1,048,576" in (await problem_of(response, 413))["detail"]
    assert log.head("hub-S01") == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_not_sent_as_json_is_415(client, content_type):
    body = b'{"location": "S01", "supplier": "A", "lines": [{"sku": "A", "qty": "1"}]}'
    headers = {**auth(client), "Content-Type": content_type}
    response = await client.post(PO, data=body, headers=headers)
    assert "application/json" in (await problem_of(response, 415))["detail"]


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"[]"])
async def test_invalid_json_is_a_400_problem(client, raw):
    response = await client.post(PO, data=raw, headers=json_headers(client))
    assert "invalid request body" in (await problem_of(response, 400))["detail"]


async def test_an_unexpected_failure_is_a_logged_500_problem(tmp_path, caplog):
    """The last resort: a traceback in the log, a problem to the caller, never a page."""
    from hub.route import Route
    from hub.schemas import DocCreated

    def broken(call) -> DocCreated:
        raise ZeroDivisionError("boom")

    store, token = HubStore.init(tmp_path / "hub.db")
    app = make_app(store)
    from hub import api

    route = Route(method="GET", path="/broken", handler=broken, summary="x", response=DocCreated)
    handler = api._endpoint(route, app[api.SERVICE_KEY], openapi_document())
    app[api.ENDPOINTS_KEY][handler] = route
    app.router.add_get("/broken", handler)
    async with TestClient(TestServer(app)) as c:
        response = await c.get("/broken", headers={"Authorization": f"Bearer {token}"})
        problem = await problem_of(response, 500)
    assert "boom" not in problem["detail"]
    assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)


def openapi_document():
    from hub import openapi
    from hub.routes import ROUTES

    return openapi.build(ROUTES)


async def test_a_missing_field_is_named(client):
    body = {"location": "S01", "lines": [{"sku": "A", "qty": "1"}]}
    response = await client.post(PO, json=body, headers=auth(client))
    problem = await problem_of(response, 400)
    assert [e["field"] for e in problem["errors"]] == ["$.supplier"]
