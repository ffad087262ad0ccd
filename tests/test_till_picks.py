"""Picking an online order at a store: the hub's order reaches a real node ledger as a pick
request, a till picks and sells it, and the hub derives `fulfilled` from the sale."""

from __future__ import annotations

import json

import pytest

from hub import orders
from hub.schemas import CorrectionIn, ProductIn
from hub.schemas_orders import CustomerIn, OrderIn, OrderLineIn
from hub.service import HubService
from hub.store import HubStore
from kucun import cli as kucun_cli
from node import picking
from node.errors import NodeError
from node.permissions import User
from node.service import Node
from node.till.session import TillSession
from node.users import add_user
from replication.clock import wall_ms

CASHIER = User("li", "Li", "cashier")


def copy_logs(src, dst, origins) -> None:
    """What NATS would carry: every verified event of `origins`, as canonical bytes."""
    for origin in origins:
        raws = [raw for _, raw in src.log.raw_events(origin, dst.log.head_seq(origin))]
        dst.ingest(raws, wall_ms())


@pytest.fixture
def shop(tmp_path):
    store, _ = HubStore.init(tmp_path / "hub.db")
    hub = HubService(store)
    hub.put_product(ProductIn(sku="COLA", name="Cola", price="3.00"))
    hub.put_product(ProductIn(sku="RICE", name="Rice", price="25.00"))
    for sku, qty in (("COLA", "20"), ("RICE", "2")):
        hub.correct(CorrectionIn(location="S01", sku=sku, qty=qty, reason="opening stock"))
    node = Node.init(tmp_path / "store.db", "S01-T1", "S01", "nats://127.0.0.1:1")
    add_user(node, "li", "Li", "cashier", "1111")
    yield hub, node, tmp_path / "store.db"
    node.close()


def take(hub: HubService, order_id: str, *lines: tuple[str, str, str | None]) -> str:
    body = OrderIn(
        order_id=order_id,
        customer=CustomerIn(name="Li Lei"),
        lines=[OrderLineIn(sku=s, qty=q, price=p) for s, q, p in lines],
        fulfilment="pickup",
        preferred_store="S01",
    )
    answer, new = orders.take(hub, body, "shop")
    assert new
    return answer.doc


def status(hub: HubService, order_id: str) -> str:
    return orders.view(hub, orders.find(hub, order_id, "shop")).status


def test_an_order_is_picked_and_sold_at_a_till(shop):
    hub, node, _ = shop
    doc = take(hub, "WX-1", ("COLA", "2", "2.80"), ("RICE", "1", None))
    copy_logs(hub.store.events, node.store, ["hub", "hub-S01"])
    (pick,) = picking.picks(node)
    assert (pick.doc, pick.order_id, pick.fulfilment, pick.customer) == (
        doc,
        "WX-1",
        "pickup",
        "Li Lei",
    )
    session = TillSession(node, CASHIER)
    session.open_shift("100.00")
    picking.load(session, doc)
    assert [(x.sku, x.qty, x.unit_price) for x in session.basket.lines] == [
        ("COLA", 2000, 280),  # the shop's price, not an override to approve
        ("RICE", 1000, 2500),
    ]
    assert picking.pick(node, doc).status == "picking"
    with pytest.raises(NodeError):  # one basket at a time
        picking.load(session, doc)
    done = session.pay(["cash"])
    assert node.read.document_header(done.doc).ref == doc
    assert session.order is None
    assert picking.picks(node) == []  # sold: no longer to pick
    copy_logs(node.store, hub.store.events, ["S01-T1"])
    assert status(hub, "WX-1") == "fulfilled"


def test_short_and_refusals(shop):
    hub, node, _ = shop
    doc = take(hub, "WX-2", ("RICE", "2", None))
    copy_logs(hub.store.events, node.store, ["hub", "hub-S01"])
    node.user = "li"
    with pytest.raises(NodeError):
        picking.short(node, doc, {"RICE": 3000})  # more than ordered
    with pytest.raises(NodeError):
        picking.short(node, doc, {"COLA": 1000})  # not a line of the order
    with pytest.raises(NodeError):
        picking.start(node, "ORD-S09-1")
    picking.short(node, doc, {"RICE": 1000}, note="one bag torn")
    assert picking.pick(node, doc).status == "short"
    with pytest.raises(NodeError):  # declared short: nothing left to pick
        picking.start(node, doc)
    copy_logs(node.store, hub.store.events, ["S01-T1"])
    assert status(hub, "WX-2") == "short"


def picks(capsys, *argv: str) -> tuple[int, str]:
    """`kucun node picks …` in-process, through the real entry point."""
    try:
        code = kucun_cli.main(["node", "picks", *argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().out


def test_the_command_line_lists_starts_and_sells(shop, capsys, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    hub, node, db = shop
    doc = take(hub, "WX-3", ("COLA", "1", None))
    copy_logs(hub.store.events, node.store, ["hub", "hub-S01"])
    add_user(node, "admin", "Admin", "admin", "9999")
    code, out = picks(capsys, "--db", str(db), "--json")
    assert code == 0
    assert [(p["doc"], p["order"], p["status"]) for p in json.loads(out)] == [
        (doc, "WX-3", "routed")
    ]
    code, out = picks(capsys, "--db", str(db))
    assert code == 0 and doc in out and "COLA" in out
    assert picks(capsys, "start", doc, "--db", str(db))[0] == 0
    code, out = picks(capsys, "sell", doc, "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["total"] == "3.00"
    code, out = picks(capsys, "--db", str(db))
    assert "no online orders" in out
    assert picks(capsys, "start", doc, "--db", str(db))[0] != 0  # sold: nothing to pick
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    assert "本店没有待拣货的线上订单" in picks(capsys, "--db", str(db))[1]
    copy_logs(node.store, hub.store.events, ["S01-T1"])
    assert status(hub, "WX-3") == "fulfilled"


def test_two_tills_sell_the_same_order_offline(shop, tmp_path):
    """docs/merge-rules.md "Online orders": both sales stand, fulfilled_twice, in any order."""
    import itertools

    from ledger.orders_read import OrdersRead
    from ledger.replica import Replica
    from ledger.sqlite import connect
    from protocol import orders as rules
    from protocol.orders import OrderAlert

    hub, t1, _ = shop
    t2 = Node.init(tmp_path / "t2.db", "S01-T2", "S01", "nats://127.0.0.1:1")
    doc = take(hub, "WX-9", ("COLA", "2", None))
    for till in (t1, t2):
        copy_logs(hub.store.events, till.store, ["hub", "hub-S01"])
    copy_logs(t1.store, t2.store, ["S01-T1"])  # li, the cashier, is known to both
    sold = []
    for till in (t1, t2):  # offline from each other
        session = TillSession(till, CASHIER)
        session.open_shift("0")
        picking.load(session, doc)
        sold.append(session.pay(["cash"]).doc)
        assert rules.status(*_order(till, doc)).status == "fulfilled"  # alone
    logs = {
        "hub": [hub.store.events, ("hub", "hub-S01")],
        "T1": [t1.store, ("S01-T1",)],
        "T2": [t2.store, ("S01-T2",)],
    }
    for delivery in itertools.permutations(logs):
        replica = Replica(connect(":memory:"), "hub")
        for name in delivery:
            source, origins = logs[name]
            copy_logs(source, replica, list(origins))
        state = rules.status(*_order_of(OrdersRead(replica.conn), doc))
        assert state.status == "fulfilled"
        assert state.alerts == [OrderAlert("fulfilled_twice", "COLA", 2000)]
        assert sorted(state.sales) == sorted(sold)
        stock = sum(r.qty for r in replica.read.stock(location="S01", sku="COLA"))
        assert stock == 20_000 - 4000
    t2.close()


def _order(node: Node, doc: str):
    from ledger.orders_read import OrdersRead

    return _order_of(OrdersRead(node.conn), doc)


def _order_of(read, doc: str):
    header = read.order(doc)
    assert header is not None
    return header, read.citing(doc)


# ---- the picks screen (pilot) ----------------------------------------------------------


async def _log_in(pilot, user: str, pin: str) -> None:
    await pilot.press(*user, "enter", *pin, "enter")
    for _ in range(100):
        await pilot.pause(0.02)
        if pilot.app.user is not None:
            return


async def _until(pilot, predicate) -> bool:
    for _ in range(100):
        if predicate():
            return True
        await pilot.pause(0.02)
    return predicate()


async def test_a_manager_picks_an_order_into_the_sale_basket(shop, monkeypatch):
    from node.till.app import TillApp
    from node.till.picks import PicksScreen

    monkeypatch.setenv("KUCUN_LANG", "en")
    hub, node, _ = shop
    doc = take(hub, "WX-5", ("COLA", "3", None))
    copy_logs(hub.store.events, node.store, ["hub", "hub-S01"])
    add_user(node, "wang", "Wang", "manager", "2222")
    app = TillApp(node, sync=False, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await _log_in(pilot, "wang", "2222")
        assert type(app.screen).__name__ == "SaleScreen"
        await pilot.press("f3", "f5")
        assert await _until(pilot, lambda: isinstance(app.screen, PicksScreen))
        shown = "".join(str(w.render()) for w in app.screen.query("Static"))
        assert "Online orders: 1 to pick" in shown
        await pilot.press("enter")
        assert await _until(pilot, lambda: type(app.screen).__name__ == "SaleScreen")
        assert app.session.order == doc
        assert [(x.sku, x.qty) for x in app.session.basket.lines] == [("COLA", 3000)]
        assert picking.pick(node, doc).status == "picking"


async def test_a_clerk_posts_the_pick_and_records_a_short(shop, monkeypatch):
    from node.till.app import TillApp
    from node.till.picks import PicksScreen

    monkeypatch.setenv("KUCUN_LANG", "en")
    hub, node, _ = shop
    doc = take(hub, "WX-6", ("COLA", "3", None), ("RICE", "2", None))
    copy_logs(hub.store.events, node.store, ["hub", "hub-S01"])
    add_user(node, "zhao", "Zhao", "clerk", "3333")
    app = TillApp(node, sync=False, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await _log_in(pilot, "zhao", "3333")
        await pilot.press("f5")
        assert await _until(pilot, lambda: isinstance(app.screen, PicksScreen))
        screen = app.screen
        await pilot.press("enter")
        assert await _until(pilot, lambda: "Picking WX-6" in screen.message)
        assert picking.pick(node, doc).status == "picking"
        await pilot.press("f4")
        await pilot.pause(0.1)
        await pilot.press(*"RICE=1", "enter")
        assert await _until(pilot, lambda: "short recorded" in screen.message)
        assert picking.pick(node, doc).status == "short"
        assert "No online orders to pick" in str(screen.query_one("#title").render())


def test_selling_beyond_stock_needs_the_flag(shop, capsys, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    hub, node, db = shop
    doc = take(hub, "WX-8", ("RICE", "3", None))  # S01 holds 2: routed short
    assert status(hub, "WX-8") == "short"
    copy_logs(hub.store.events, node.store, ["hub", "hub-S01"])
    add_user(node, "admin", "Admin", "admin", "9999")
    assert [p.doc for p in picking.picks(node)] == [doc]  # short of stock, still to pick
    assert picks(capsys, "sell", doc, "--db", str(db))[0] != 0
    assert picks(capsys, "sell", doc, "--db", str(db), "--beyond-stock")[0] == 0
    copy_logs(node.store, hub.store.events, ["S01-T1"])
    assert status(hub, "WX-8") == "fulfilled"
