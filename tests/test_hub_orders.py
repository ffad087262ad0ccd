"""Online orders through the hub's real HTTP server (aiohttp test server, SQLite file)."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub import webhooks
from hub.api import make_app
from hub.schemas import CorrectionIn, ProductIn
from hub.service import HubService
from hub.store import HubStore
from ledger.order_tables import OrderTables
from ledger.orders_read import OrdersRead
from protocol.events import DocLine, Document
from replication.clock import wall_ms


@pytest.fixture
async def client(tmp_path):
    store, token = HubStore.init(tmp_path / "hub.db")
    hub = HubService(store)
    for sku in ("A1", "B2"):
        hub.put_product(ProductIn(sku=sku, name=sku))
    # S01 holds 3 A1; S02 holds 10 A1 and 1 B2
    for location, sku, qty in (("S01", "A1", "3"), ("S02", "A1", "10"), ("S02", "B2", "1")):
        hub.correct(CorrectionIn(location=location, sku=sku, qty=qty, reason="seed"))
    buyer = store.add_token("shop", "buyer")
    manager = store.add_token("mgr2", "store_manager")
    store.tables.conn.execute("UPDATE api_tokens SET location = 'S02' WHERE name = 'mgr2'")
    async with TestClient(TestServer(make_app(store))) as c:
        c.token, c.buyer, c.manager, c.store, c.hub = token, buyer, manager, store, hub
        yield c


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def order(order_id="WX-1", **changes):
    body = {
        "order_id": order_id,
        "customer": {"name": "Li Lei"},
        "lines": [{"sku": "A1", "qty": "2", "price": "2.50"}],
        "fulfilment": "pickup",
        "preferred_store": "S01",
    }
    body.update(changes)
    return body


async def test_an_order_is_taken_once_and_routed_to_the_preferred_store(client):
    first = await client.post("/api/v1/orders", json=order(), headers=auth(client.buyer))
    assert first.status == 201, await first.text()
    answer = await first.json()
    assert answer["store"] == "S01" and answer["status"] == "routed"
    assert answer["doc"].startswith("ORD-S01-")
    header = client.store.events.read.document_header(answer["doc"])
    assert header.type == "online_order" and header.counterparty == "Li Lei"
    assert header.lines == [DocLine(sku="A1", qty=2000, unit_price=250)]
    heads = client.store.events.log.heads()
    again = await client.post("/api/v1/orders", json=order(), headers=auth(client.buyer))
    assert again.status == 200  # sent again: the same answer
    assert await again.json() == answer
    assert client.store.events.log.heads() == heads  # nothing written
    # the same quantity spelt otherwise is the same order
    same = order(lines=[{"sku": "A1", "qty": "2.000", "price": "2.5"}])
    assert (
        await (await client.post("/api/v1/orders", json=same, headers=auth(client.buyer))).json()
        == answer
    )
    other = await client.post(
        "/api/v1/orders", json=order(lines=[{"sku": "A1", "qty": "3"}]), headers=auth(client.buyer)
    )
    assert other.status == 409
    # another caller's id space is its own
    theirs = await client.post("/api/v1/orders", json=order(), headers=auth(client.token))
    assert theirs.status == 201 and (await theirs.json())["doc"] != answer["doc"]


async def test_routing_most_stock_then_short(client):
    post = lambda body: client.post("/api/v1/orders", json=body, headers=auth(client.buyer))  # noqa: E731
    # S01 lacks 5: the store holding all of it with most stock is S02
    moved = await (await post(order("WX-2", lines=[{"sku": "A1", "qty": "5"}]))).json()
    assert (moved["store"], moved["status"]) == ("S02", "routed")
    # nobody holds 2 B2: S02 covers the most, routed short
    short = await (
        await post(order("WX-3", lines=[{"sku": "A1", "qty": "1"}, {"sku": "B2", "qty": "2"}]))
    ).json()
    assert (short["store"], short["status"]) == ("S02", "short")
    shown = await (await client.get("/api/v1/orders/WX-3", headers=auth(client.buyer))).json()
    assert shown["status"] == "short"
    assert {x["sku"]: x["short"] for x in shown["lines"]} == {"A1": "0.000", "B2": "1.000"}
    unknown = await post(order("WX-4", lines=[{"sku": "ZZ", "qty": "1"}]))
    assert unknown.status == 400 and "ZZ" in await unknown.text()
    client.hub.put_product(ProductIn(sku="C3", name="C3"))
    nowhere = await post(order("WX-5", lines=[{"sku": "C3", "qty": "1"}]))
    assert nowhere.status == 400 and "no store holds" in await nowhere.text()
    bad = await post(order("WX-6", fulfilment="drone"))
    assert bad.status == 400
    assert (await post(order("WX-7", lines=[]))).status == 400


async def test_status_follows_the_documents_citing_the_order(client):
    taken = await (
        await client.post("/api/v1/orders", json=order(), headers=auth(client.buyer))
    ).json()
    doc = taken["doc"]
    replica = client.store.events

    def write(origin, *bodies):
        with replica.work():
            replica.append(list(bodies), "wang", client.hub.clock(), origin=origin)

    async def status():
        r = await client.get("/api/v1/orders/WX-1", headers=auth(client.buyer))
        return (await r.json())["status"]

    write("hub-S01", Document(doc="P-1", type="pick", location="S01", ref=doc))
    assert await status() == "picking"
    write(
        "hub-S01",
        Document(
            doc="S-1", type="sale", location="S01", ref=doc, lines=[DocLine(sku="A1", qty=2000)]
        ),
    )
    assert await status() == "fulfilled"
    cancel = await client.post("/api/v1/orders/WX-1/cancel", json={}, headers=auth(client.buyer))
    assert cancel.status == 409
    listed = await (
        await client.get("/api/v1/orders?status=fulfilled", headers=auth(client.token))
    ).json()
    assert [x["order"] for x in listed["items"]] == ["WX-1"]
    assert OrdersRead(client.store.conn).citing(doc)[-1].doc == "S-1"


async def test_cancel_and_list_pages(client):
    for i in range(3):
        r = await client.post("/api/v1/orders", json=order(f"WX-{i}"), headers=auth(client.buyer))
        assert r.status == 201
    r = await client.post(
        "/api/v1/orders/WX-1/cancel", json={"reason": "rang"}, headers=auth(client.buyer)
    )
    assert r.status == 201 and (await r.json())["status"] == "cancelled"
    again = await client.post("/api/v1/orders/WX-1/cancel", json={}, headers=auth(client.buyer))
    assert (await again.json())["cancel"] == (await r.json())["cancel"]
    first = await (await client.get("/api/v1/orders?limit=2", headers=auth(client.buyer))).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = await (
        await client.get(
            f"/api/v1/orders?limit=2&cursor={first['next_cursor']}", headers=auth(client.buyer)
        )
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    cancelled = await (
        await client.get("/api/v1/orders?status=cancelled", headers=auth(client.buyer))
    ).json()
    assert [x["order"] for x in cancelled["items"]] == ["WX-1"]
    assert (
        await client.get("/api/v1/orders?status=lost", headers=auth(client.buyer))
    ).status == 400
    assert (await client.get("/api/v1/orders?cursor=xyz", headers=auth(client.buyer))).status == 400
    assert (await client.get("/api/v1/orders/NOPE", headers=auth(client.buyer))).status == 404


async def test_a_store_manager_sees_its_own_store_only(client):
    await client.post("/api/v1/orders", json=order(), headers=auth(client.buyer))  # to S01
    mine = await (await client.get("/api/v1/orders", headers=auth(client.manager))).json()
    assert mine["items"] == []
    assert (await client.get("/api/v1/orders/WX-1", headers=auth(client.manager))).status == 403
    assert (
        await client.get("/api/v1/orders?store=S01", headers=auth(client.manager))
    ).status == 403
    viewer = client.store.add_token("look", "viewer")
    assert (
        await client.post("/api/v1/orders", json=order("V"), headers=auth(viewer))
    ).status == 403
    assert (await client.get("/api/v1/orders/WX-1", headers=auth(viewer))).status == 200


# ---- webhooks ------------------------------------------------------------------------------


class Receiver:
    """A real local HTTP server that refuses the first `failures` calls, then takes them."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[int, dict, str | None, bytes]] = []

    async def handle(self, request):
        from aiohttp import web

        raw = await request.read()
        answer = 500 if self.failures > 0 else 200
        self.failures -= 1
        self.calls.append((answer, json.loads(raw), request.headers.get("X-Kucun-Signature"), raw))
        return web.Response(status=answer)


async def test_a_webhook_is_retried_with_backoff_then_delivered_once_per_status(client, tmp_path):
    from aiohttp import web

    receiver = Receiver(failures=2)
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    async with TestServer(app) as server:
        url = str(server.make_url("/hook"))
        body = order(webhook_url=url, webhook_secret="s3cret-s3cret-s3cret")
        r = await client.post("/api/v1/orders", json=body, headers=auth(client.buyer))
        doc = (await r.json())["doc"]
        start = wall_ms()
        ticks = iter(range(start, start + 10**9, 1500))  # each look at the clock: 1.5 s later
        stop = asyncio.Event()
        task = asyncio.create_task(
            webhooks.deliver_forever(
                str(tmp_path / "hub.db"), stop, interval=0.01, clock=lambda: next(ticks)
            )
        )
        assert await wait_for(lambda: len(receiver.calls) == 3)
        assert [c[0] for c in receiver.calls] == [500, 500, 200]
        payload = receiver.calls[-1][1]
        assert (payload["order_id"], payload["status"], payload["store"]) == (
            "WX-1",
            "routed",
            "S01",
        )
        assert payload["lines"][0]["sku"] == "A1"
        for _, _, signed, raw in receiver.calls:
            assert signed == webhooks.signature("s3cret-s3cret-s3cret", raw)
        # a new status is delivered once more; the same status is not sent again
        with client.store.events.work():
            client.store.events.append(
                [Document(doc="P-9", type="pick", location="S01", ref=doc)],
                "wang",
                client.hub.clock(),
                origin="hub-S01",
            )
        assert await wait_for(lambda: len(receiver.calls) == 4)
        assert receiver.calls[-1][1]["status"] == "picking"
        stop.set()
        await asyncio.wait_for(task, 5)
    attempts = OrderTables(client.store.conn).attempts(doc)
    assert [(a.status, a.http_status) for a in attempts] == [
        ("routed", 500),
        ("routed", 500),
        ("routed", 200),
        ("picking", 200),
    ]


def test_backoff_doubles_and_gives_up(tmp_path):
    store, _ = HubStore.init(tmp_path / "hub.db")
    hub = HubService(store)
    hub.put_product(ProductIn(sku="A1", name="A1"))
    hub.correct(CorrectionIn(location="S01", sku="A1", qty="5", reason="seed"))
    from hub import orders as hub_orders
    from hub.schemas_orders import OrderIn

    body = msgspec.convert(order(webhook_url="http://127.0.0.1:9/x"), OrderIn)
    hub_orders.take(hub, body, "shop")
    assert [webhooks.backoff_ms(n) for n in (1, 2, 3, 4)] == [1000, 2000, 4000, 8000]
    assert webhooks.backoff_ms(30) == webhooks.MAX_BACKOFF_MS
    now = wall_ms()
    for tries in range(webhooks.MAX_TRIES):
        (call,) = webhooks.due(hub, now)
        webhooks.record(hub, call, now, None, "refused")
        wait = webhooks.backoff_ms(tries + 1)
        assert webhooks.due(hub, now + wait - 1) == []
        now += wait
    assert webhooks.due(hub, now + 10**9) == []  # given up on this status


async def wait_for(predicate, timeout: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()
