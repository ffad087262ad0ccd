"""The hub's paged lists through the real HTTP server, over data made by real events (a
store's node writes them, the hub ingests them): keyset pages lose and repeat nothing
while rows arrive between them, every filter narrows, every bad value is a 400, and a
store manager sees its own store only."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub import lists
from hub import schemas_lists as sl
from hub.api import make_app
from hub.route import Call, Forbidden, Principal
from hub.routing import route_transfers
from hub.schemas import CorrectionIn, ProductIn, UserIn
from hub.service import HubService
from hub.store import HubStore
from node import logistics
from node.service import Node
from protocol import paging
from protocol.events import Document
from replication.clock import wall_ms

OFFLINE = "nats://127.0.0.1:1"
SOON = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
LATER = (datetime.now(UTC).date() + timedelta(days=60)).isoformat()


def node(tmp_path, name: str) -> Node:
    n = Node.init(tmp_path / f"{name}.db", name, None, OFFLINE)
    for sku in ("A", "B"):
        n.add_product(sku, f"product {sku}", None, "5.00")
    return n


def ship(hub: HubStore, *nodes: Node) -> None:
    """What the nodes wrote since last time, into the hub (as ingest would)."""
    for n in nodes:
        origin = n.config.node
        after = hub.events.log.head_seq(origin)
        hub.events.ingest([raw for _, raw in n.store.log.raw_events(origin, after)], wall_ms())


def build(folder: Path) -> str:
    """The world every test starts from, made once: two stores' events, a head-office
    correction, users, a dead letter; returns the admin token."""
    store, token = HubStore.init(folder / "hub.db")
    service = HubService(store)
    for sku in ("A", "B"):
        service.put_product(ProductIn(sku=sku, name=f"product {sku}"))
    service.put_user(UserIn(user="li", name="Li", role="cashier", locations="S01", pin="4821"))
    service.put_user(UserIn(user="wang", role="manager", locations="S01,S02"))
    service.put_user(UserIn(user="zhao", role="cashier", locations="S02", active=False))
    s01, s02 = node(folder, "S01"), node(folder, "S02")
    s01.receive("A", "10", "1.50", lot="L1", expiry=SOON)
    s01.receive("A", "4", "1.60", lot="L2", expiry=LATER)
    s01.receive("B", "5", "2.00")
    s01.sell("A", "2")
    logistics.ship_transfer(s01, "S02", [("A", 3000)])
    s02.receive("B", "7", "2.00")
    ship(store, s01, s02)
    service.correct(CorrectionIn(location="S01", sku="B", qty="-20", reason="broken"))
    store.events.ingest([b"not an event"], wall_ms())
    for conn in (s01.conn, s02.conn, store.conn):  # all in the main file, to copy it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for n in (s01, s02):
        n.close()
    store.conn.close()
    return token


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("lists")
    return folder, build(folder)


@pytest.fixture
async def world(tmp_path, template):
    folder, token = template
    for name in ("hub.db", "S01.db", "S02.db"):
        shutil.copy(folder / name, tmp_path / name)
    store = HubStore.open(tmp_path / "hub.db")
    service = HubService(store)
    s01, s02 = Node.open(tmp_path / "S01.db"), Node.open(tmp_path / "S02.db")
    manager = store.add_token("s01-manager", "store_manager", "S01")
    async with TestClient(TestServer(make_app(store))) as client:
        client.tokens = {"admin": token, "manager": manager}
        client.store, client.service, client.nodes = store, service, (s01, s02)
        yield client
    for n in (s01, s02):
        n.close()
    store.conn.close()


async def get(client: TestClient, path: str, who: str = "admin", status: int = 200) -> Any:
    response = await client.get(path, headers={"Authorization": f"Bearer {client.tokens[who]}"})
    body = await response.read()
    assert response.status == status, body
    return msgspec.json.decode(body)


async def page_all(client: TestClient, path: str, between=None) -> list[dict]:
    """Every item of a list, a page at a time (`between` runs after each page)."""
    items: list[dict] = []
    cursor = None
    sep = "&" if "?" in path else "?"
    for _ in range(1000):
        url = path + (f"{sep}cursor={cursor}" if cursor else "")
        body = await get(client, url)
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        if between:
            between()
    raise AssertionError("the list never ended")


async def test_every_list_answers_its_declared_struct(world):
    for path, struct in (
        ("/api/v1/sync", sl.SyncOut),
        ("/api/v1/stock", sl.StockPage),
        ("/api/v1/movements", sl.MovementsOut),
        ("/api/v1/documents", sl.DocumentsOut),
        ("/api/v1/alerts", sl.AlertsOut),
        ("/api/v1/users", sl.UsersOut),
        ("/api/v1/rejected", sl.RejectedPage),
    ):
        response = await world.get(
            path, headers={"Authorization": f"Bearer {world.tokens['admin']}"}
        )
        assert response.status == 200, path
        page = msgspec.json.decode(await response.read(), type=struct)
        assert page.items, path  # type: ignore[attr-defined]


# ---- stock -------------------------------------------------------------------------------


async def test_stock_by_lot_with_expiry_and_what_is_in_transit(world):
    body = await get(world, "/api/v1/stock?location=S01")
    items = {(i["sku"], i["lot"]): i for i in body["items"]}
    assert items[("A", "L1")] == {
        "location": "S01",
        "sku": "A",
        "lot": "L1",
        "qty": "5.000",
        "expiry": SOON,
    }  # 10 in, 2 sold (first to expire), 3 shipped
    assert items[("A", "L2")]["expiry"] == LATER
    assert items[("B", None)] == {"location": "S01", "sku": "B", "lot": None, "qty": "-15.000"}
    assert body["in_transit"] == []  # nothing is shipped to S01
    to_s02 = (await get(world, "/api/v1/stock?location=S02"))["in_transit"]
    assert [(t["sku"], t["qty"]) for t in to_s02] == [("A", "3.000")]
    assert to_s02[0]["transfers"][0].startswith("S01-")
    expiring = (await get(world, "/api/v1/stock?expiring_within_days=7"))["items"]
    assert [(i["sku"], i["lot"]) for i in expiring] == [("A", "L1")]
    assert (await get(world, "/api/v1/stock?expiring_within_days=100"))["items"][1]["lot"] == "L2"
    only = (await get(world, "/api/v1/stock?sku=B"))["items"]
    assert {i["location"] for i in only} == {"S01", "S02"}
    assert [i["lot"] for i in (await get(world, "/api/v1/stock?lot=L2"))["items"]] == ["L2"]


async def test_stock_pages_lose_and_repeat_nothing_while_stock_arrives(world):
    s01, s02 = world.nodes
    everything = await page_all(world, "/api/v1/stock")
    skus = iter(f"{p}{i}" for i in range(3) for p in ("0", "Z"))  # before and after A, B

    def arrive() -> None:  # new keys before and after the cursor, for three pages
        for n in (s01, s02):
            sku = next(skus, None)
            if sku is None:
                return
            n.add_product(sku, "new", None, "1.00")
            n.receive(sku, "1")
        ship(world.store, s01, s02)

    paged = await page_all(world, "/api/v1/stock?limit=1", between=arrive)
    keys = [(i["location"], i["sku"], i["lot"]) for i in paged]
    assert len(keys) == len(set(keys))  # nothing twice
    assert {(i["location"], i["sku"], i["lot"]) for i in everything} <= set(keys)  # nothing lost
    assert keys == sorted(keys, key=lambda k: (k[0], k[1], k[2] or ""))


# ---- movements ---------------------------------------------------------------------------


async def test_movements_newest_first_with_kind_user_cost_and_document(world):
    items = await page_all(world, "/api/v1/movements?location=S01&limit=2")
    kinds = [i["kind"] for i in items]
    assert kinds == ["correction", "transfer_out", "sale", "receipt", "receipt", "receipt"]
    times = [i["time"] for i in items]
    assert times == sorted(times, reverse=True)
    receipt = items[-1]
    assert receipt["qty"] == "10.000" and receipt["unit_cost"] == "1.50"
    assert receipt["src"] == "@supplier" and receipt["dst"] == "S01"
    assert receipt["user"] == "admin" and receipt["doc_type"] == "receipt"
    assert items[0]["user"] == "api" and items[0]["qty"] == "-20.000"
    sale = (await get(world, "/api/v1/movements?kind=sale"))["items"]
    assert [(m["location"], m["qty"], m["lot"]) for m in sale] == [("S01", "-2.000", "L1")]
    transfer = (await get(world, "/api/v1/movements?kind=transfer_out"))["items"][0]
    assert transfer["dst"] == "@transit"
    by_doc = (await get(world, f"/api/v1/movements?doc={transfer['doc']}"))["items"]
    assert [m["doc"] for m in by_doc] == [transfer["doc"]]
    assert {m["sku"] for m in (await get(world, "/api/v1/movements?sku=B"))["items"]} == {"B"}
    assert (await get(world, "/api/v1/movements?location=S02"))["items"][0]["kind"] == "receipt"


async def test_movements_by_time(world):
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    all_today = (await get(world, f"/api/v1/movements?from={today}&to={today}"))["items"]
    assert len(all_today) == 7
    assert (await get(world, f"/api/v1/movements?from={tomorrow}"))["items"] == []
    newest = all_today[0]["time"]
    before = (await get(world, f"/api/v1/movements?to={newest}"))["items"]
    assert len(before) == 7  # `to` names a moment: it is included
    assert (await get(world, "/api/v1/movements?from=2000-01-01&to=2000-01-02"))["items"] == []


async def test_movement_pages_lose_and_repeat_nothing_while_sales_arrive(world):
    s01, _ = world.nodes
    before = await page_all(world, "/api/v1/movements")

    def sell() -> None:
        s01.sell("B", "1")
        ship(world.store, s01)

    paged = await page_all(world, "/api/v1/movements?limit=1", between=sell)
    keys = [(m["origin"], m["seq"], m["location"], m["sku"]) for m in paged]
    assert keys == [(m["origin"], m["seq"], m["location"], m["sku"]) for m in before]


# ---- documents ---------------------------------------------------------------------------


async def test_documents_with_status_and_discrepancy(world):
    items = await page_all(world, "/api/v1/documents?limit=3")
    types = [d["type"] for d in items]
    assert types == ["count", "receipt", "transfer", "sale", "receipt", "receipt", "receipt"]
    transfer = (await get(world, "/api/v1/documents?type=transfer"))["items"][0]
    assert transfer["status"] == "in_transit" and transfer["counterparty"] == "S02"
    assert transfer["lines"][0]["shipped"] == "3.000" and transfer["has_discrepancy"] is False
    assert transfer["user"] == "admin" and transfer["location"] == "S01"
    assert (await get(world, "/api/v1/documents?status=in_transit"))["items"] == [transfer]
    s02 = (await get(world, "/api/v1/documents?location=S02"))["items"]
    assert [d["type"] for d in s02] == ["receipt"]
    assert (await get(world, "/api/v1/documents?has_discrepancy=true"))["items"] == []
    assert len((await get(world, "/api/v1/documents?has_discrepancy=false"))["items"]) == 7


async def test_a_short_receipt_of_a_transfer_has_a_discrepancy(world):
    _, s02 = world.nodes
    transfer = (await get(world, "/api/v1/documents?type=transfer"))["items"][0]["doc"]
    # the routed transfer reaches S02's node as the hub's event; S02 receives 2 of 3
    with world.store.events.work():
        route_transfers(world.store.events, world.store.tables, wall_ms())
    hub_log = "hub-S02"
    raws = [raw for _, raw in world.store.events.log.raw_events(hub_log, 0)]
    s02.store.ingest(raws, wall_ms())
    short = [logistics.Arrived("A", 2000, lot="L1")]
    logistics.receive_transfer(s02, transfer, short, logistics.Confirmation(recount=short))
    ship(world.store, s02)
    found = (await get(world, "/api/v1/documents?has_discrepancy=true"))["items"]
    assert [(d["doc"], d["status"]) for d in found] == [(transfer, "received_with_discrepancy")]
    arrived = (await get(world, "/api/v1/movements?kind=transfer_in"))["items"]
    assert [(m["location"], m["qty"]) for m in arrived] == [("S02", "2.000")]
    alerts = await page_all(world, "/api/v1/alerts?limit=1")
    assert [(a["kind"], a["location"], a["id"] is None) for a in alerts] == [
        ("transfer_discrepancy", "S02", True),  # derived, and newest: the receipt's time
        ("negative_stock", "S01", False),
    ]
    assert alerts[0]["key"].startswith(f"transfer_discrepancy:{transfer}/")
    assert "A 2.000/3.000" in alerts[0]["message"]
    mine = (await get(world, "/api/v1/alerts?kind=transfer_discrepancy&location=S01"))["items"]
    assert mine == []


# ---- alerts, users, dead letters ---------------------------------------------------------


async def test_alerts_with_their_key_and_acknowledgement(world):
    items = (await get(world, "/api/v1/alerts"))["items"]
    assert [(a["kind"], a["location"], a["sku"], a["qty"]) for a in items] == [
        ("negative_stock", "S01", "B", "-15.000")
    ]
    assert items[0]["key"].startswith("negative_stock:S01/B//") and not items[0]["acknowledged"]
    assert (await get(world, "/api/v1/alerts?acknowledged=true"))["items"] == []
    s01, _ = world.nodes  # a till acknowledges it under the same key
    ack = Document(doc="", type="alert_ack", location="S01", ref=items[0]["key"])
    s01.post(lambda doc: [msgspec.structs.replace(ack, doc=doc)])
    ship(world.store, s01)
    acked = (await get(world, "/api/v1/alerts?acknowledged=true"))["items"]
    assert [a["key"] for a in acked] == [items[0]["key"]]
    assert (await get(world, "/api/v1/alerts?acknowledged=false"))["items"] == []
    assert (await get(world, "/api/v1/alerts?location=S02"))["items"] == []
    assert (await get(world, "/api/v1/alerts?kind=expiring"))["items"] == []


async def test_users_never_show_a_pin_hash(world):
    body = await get(world, "/api/v1/users")
    assert body["items"][0] == {
        "user": "li",
        "name": "Li",
        "role": "cashier",
        "locations": "S01",
        "active": True,
        "has_pin": True,
    }
    assert b"pin_hash" not in msgspec.json.encode(body)
    assert [u["user"] for u in await page_all(world, "/api/v1/users?limit=1")] == [
        "li",
        "wang",
        "zhao",
    ]
    assert [u["user"] for u in (await get(world, "/api/v1/users?role=cashier"))["items"]] == [
        "li",
        "zhao",
    ]
    assert [u["user"] for u in (await get(world, "/api/v1/users?location=S02"))["items"]] == [
        "wang",
        "zhao",
    ]
    assert [u["user"] for u in (await get(world, "/api/v1/users?active=false"))["items"]] == [
        "zhao"
    ]
    assert [u["user"] for u in (await get(world, "/api/v1/users?active=true"))["items"]] == [
        "li",
        "wang",
    ]


async def test_dead_letters_page_by_id(world):
    for i in range(3):
        world.store.events.ingest([f"junk {i}".encode()], wall_ms())
    items = await page_all(world, "/api/v1/rejected?limit=2")
    assert [i["id"] for i in items] == sorted(i["id"] for i in items) and len(items) == 4
    assert items[0]["size"] == len(b"not an event") and items[0]["reason"]
    assert items[0]["at"].endswith("Z")
    assert (await get(world, "/api/v1/rejected?origin=S09"))["items"] == []


# ---- stores with sync state --------------------------------------------------------------


async def test_sync_lists_each_location_with_its_nodes(world):
    body = await get(world, "/api/v1/sync")
    by_location = {i["location"]: i["nodes"] for i in body["items"]}
    assert set(by_location) == {"S01", "S02"}  # the hub's own logs are not stores
    (s01,) = by_location["S01"]
    assert s01["node"] == "S01" and s01["ingested_seq"] == s01["folded_seq"] > 0
    assert s01["reported"] is None and s01["missing"] == []
    first = await get(world, "/api/v1/sync?limit=1")
    assert [i["location"] for i in first["items"]] == ["S01"]
    rest = await get(world, f"/api/v1/sync?limit=1&cursor={first['next_cursor']}")
    assert [i["location"] for i in rest["items"]] == ["S02"] and rest["next_cursor"] is None


# ---- a store manager sees its own store --------------------------------------------------


async def test_a_store_manager_sees_its_own_store_only(world):
    """Through `Call.scope`: narrowed when it names none, refused when it names another."""
    for path in ("sync", "stock", "movements", "documents", "alerts"):
        _scoped(world, path)


async def test_a_store_managers_token_sees_its_own_store_only(world):
    """The same through the server, with a store manager's token of S01."""
    for path in ("sync", "stock", "movements", "documents", "alerts"):
        mine = await get(world, f"/api/v1/{path}", who="manager")
        assert mine["items"], path
        for item in mine["items"]:
            assert item["location"] == "S01", (path, item)
        named = await get(world, f"/api/v1/{path}?location=S01", who="manager")
        assert len(named["items"]) == len(mine["items"])  # (sync's ages go on)
        if path != "sync":
            assert named == mine
        await get(world, f"/api/v1/{path}?location=S02", who="manager", status=403)
    for path in ("users", "rejected"):
        await get(world, f"/api/v1/{path}", who="manager", status=403)


def _scoped(world: TestClient, path: str) -> None:
    from hub import routes_lists

    route = next(r for r in routes_lists.ROUTES if r.path == f"/api/v1/{path}")
    assert route.scoped
    manager = Principal("s01-manager", "store_manager", "S01")

    def call(query: dict[str, str]) -> Any:
        return route.handler(
            Call(
                hub=world.service,
                body=None,
                query=query,
                path={},
                openapi=None,  # type: ignore[arg-type]
                principal=manager,
            )
        )

    page = msgspec.to_builtins(call({}))
    for item in page["items"]:
        assert item.get("location", "S01") == "S01", item
    with pytest.raises(Forbidden):
        call({"location": "S02"})


# ---- bad values --------------------------------------------------------------------------


BAD = [
    "stock?limit=0",
    "stock?limit=1001",
    "stock?limit=x",
    "stock?cursor=nonsense",
    "stock?expiring_within_days=-1",
    "stock?location=no%20such",
    "movements?kind=theft",
    "movements?from=yesterday",
    "movements?to=2026-02-30",
    "movements?from=2026-12-02&to=2026-12-01",
    "movements?cursor=" + paging.encode_cursor("stock", ("S01", "A", "")),
    "documents?type=invoice",
    "documents?status=lost",
    "documents?has_discrepancy=maybe",
    "alerts?kind=fire",
    "alerts?acknowledged=1",
    "alerts?cursor=" + paging.encode_cursor("alerts", ("x",)),
    "users?role=boss",
    "users?active=yes",
    "rejected?limit=-5",
    "rejected?cursor=%00",
    "sync?cursor=abc",
    "sync?limit=99999",
]


async def test_bad_values_are_refused_with_a_reason(world):
    for query in BAD:
        body = await get(world, f"/api/v1/{query}", status=400)
        assert body, query  # the error body says why (its shape is hub/api.py's)


async def test_a_filter_on_something_derived_scans_a_bounded_stretch(world, monkeypatch):
    """A rare status deep in a long list: a short page with a cursor, never the whole
    table in one request."""
    monkeypatch.setattr(lists, "SCAN_BUDGET", 2)
    first = await get(world, "/api/v1/documents?status=in_transit&limit=1")
    assert first["items"] == [] and first["next_cursor"] is not None
    found = await page_all(world, "/api/v1/documents?status=in_transit&limit=1")
    assert [d["type"] for d in found] == ["transfer"]


ODD = [
    "",
    "0",
    "-1",
    "99999999999999999999",
    "true",
    "x" * 300,
    "%00",
    "%ff%fe",
    "%ED%A0%80",
    "2026-12-01",
    "9999-12-31T23:59:59-14:00",
    "S01",
    "国",
    "null",
    "[]",
]


async def test_odd_values_of_every_list_parameter_are_never_500(world):
    from hub import routes_lists

    for route in routes_lists.ROUTES:
        if route.method != "GET" or route.path in ("/api/v1/audit",):
            continue
        for q in route.query:
            for value in ODD:
                response = await world.get(
                    f"{route.path}?{q.name}={value}",
                    headers={"Authorization": f"Bearer {world.tokens['admin']}"},
                )
                assert response.status in (200, 400), (route.path, q.name, value)


async def test_a_tills_count_is_a_count_with_its_variance(world):
    s01, _ = world.nodes
    s01.count("A", "9", lot="L2")  # 4 were there
    ship(world.store, s01)
    (count,) = (await get(world, "/api/v1/movements?kind=count"))["items"]
    assert (count["location"], count["lot"], count["counted"]) == ("S01", "L2", "9.000")
    assert count["qty"] == "5.000" and count["src"] is None and count["dst"] is None
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert len((await get(world, f"/api/v1/documents?from={today}"))["items"]) == 8
    assert (await get(world, f"/api/v1/documents?from={tomorrow}"))["items"] == []
    assert (await get(world, "/api/v1/documents?to=2000-01-01"))["items"] == []
