"""The hub API in-process (aiohttp test client on a real SQLite file): contract checks."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api import make_app
from hub.store import HubStore


@pytest.fixture
async def client(tmp_path):
    store, token = HubStore.init(tmp_path / "hub.db")
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


@pytest.mark.parametrize("path", ["/api/v1/stock", "/api/v1/nodes", "/api/v1/openapi.json"])
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
