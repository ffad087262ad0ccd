"""Reorder points from head office: POST /api/v1/reorder-points on the real hub API (an
in-process aiohttp client on a real SQLite file), the hub's log moved to a till's ledger,
and the till's alert when stock there falls to the point."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api import SERVICE_KEY, make_app
from hub.store import HubStore
from node import alerts
from node.service import Node
from protocol.events import Upsert
from replication.clock import wall_ms


@pytest.fixture
async def client(tmp_path):
    store, token = HubStore.init(tmp_path / "hub.db")
    async with TestClient(TestServer(make_app(store))) as c:
        c.token = token  # type: ignore[attr-defined]
        yield c


def auth(client) -> dict:
    return {"Authorization": f"Bearer {client.token}"}


def hub_raws(client) -> list[bytes]:
    hub = client.server.app[SERVICE_KEY].store.events
    return [raw for _, raw in hub.log.raw_events("hub", 0)]


async def test_a_reorder_point_head_office_sets_gives_the_till_an_alert(client, tmp_path):
    body = {"location": "S01", "sku": "A1", "point": "5", "qty": "24"}
    response = await client.post("/api/v1/reorder-points", json=body, headers=auth(client))
    assert response.status == 201, await response.text()
    answer = await response.json()
    assert (answer["location"], answer["sku"], answer["origin"]) == ("S01", "A1", "hub")
    (upsert,) = [e.body for e in client.server.app[SERVICE_KEY].store.events.log.events()]
    assert upsert == Upsert(entity="reorder", key="S01/A1", fields={"point": 5000, "qty": 24000})

    till = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    till.add_product("A1", "Apple", price="3.50")
    till.receive("A1", "6")
    till.store.ingest(hub_raws(client), wall_ms())
    assert [(p.point, p.qty) for p in alerts.reorder_points(till, "S01").values()] == [
        (5000, 24000)
    ]
    assert alerts.gather(till) == []
    till.sell("A1", "1")
    (low,) = alerts.gather(till)
    assert (low.kind, low.sku) == ("below_reorder", "A1")
    # head office lowers the point: the condition changed, and so did the key
    body["point"] = "2"
    assert (await client.post("/api/v1/reorder-points", json=body, headers=auth(client))).status
    till.store.ingest(hub_raws(client), wall_ms())
    assert alerts.gather(till) == []
    # another store's point is not this till's
    other = {"location": "S02", "sku": "A1", "point": "100", "qty": "1"}
    assert (
        await client.post("/api/v1/reorder-points", json=other, headers=auth(client))
    ).status == 201
    till.store.ingest(hub_raws(client), wall_ms())
    assert alerts.gather(till) == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"location": "S.01", "sku": "A1", "point": "5", "qty": "1"}, "location"),
        ({"location": "S01", "sku": "", "point": "5", "qty": "1"}, "sku"),
        ({"location": "S01", "sku": "A1", "point": "-1", "qty": "1"}, "zero or more"),
        ({"location": "S01", "sku": "A1", "point": "five", "qty": "1"}, "point"),
        ({"location": "S01", "sku": "A1", "point": "5", "qty": "0"}, "more than zero"),
        ({"location": "S01", "sku": "A1", "point": "5"}, "invalid request body"),
    ],
)
async def test_bad_reorder_points_are_refused_and_nothing_is_written(client, body, words):
    response = await client.post("/api/v1/reorder-points", json=body, headers=auth(client))
    assert response.status == 400
    assert words in (await response.json())["detail"]
    assert hub_raws(client) == []


async def test_the_route_needs_a_token_and_is_in_the_openapi_document(client):
    body = {"location": "S01", "sku": "A1", "point": "5", "qty": "24"}
    assert (await client.post("/api/v1/reorder-points", json=body)).status == 401
    spec = await (await client.get("/api/v1/openapi.json", headers=auth(client))).json()
    assert "post" in spec["paths"]["/api/v1/reorder-points"]
    assert "ReorderPointIn" in spec["components"]["schemas"]
