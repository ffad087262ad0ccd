"""Sales, returns and voids on a real ledger: stock, tenders, approvals, users on events."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from node import users
from node.errors import NodeError
from node.permissions import approve
from node.sales import (
    ReturnLine,
    Shortfall,
    basket_line,
    post_return,
    post_sale,
    returnable,
    shortfalls,
    void_sale,
)
from node.service import Node
from protocol.basket import Basket
from protocol.events import Document, Movement, Tender


@pytest.fixture(scope="module")
def stocked(tmp_path_factory):
    """The store's ledger, built once (PIN hashing is slow on purpose), copied per test."""
    path = tmp_path_factory.mktemp("stocked") / "store.db"
    n = Node.init(path, "S01", None, "nats://127.0.0.1:1")
    n.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    n.add_product("APPLE", "Apple", barcode="00123", price="9.80", unit="kg")
    n.add_product("SOAP", "Soap", price="5.00")
    n.receive("COLA", "10", cost="2.00", lot="L9", expiry="2027-12-31")
    n.receive("COLA", "10", cost="2.00", lot="L1", expiry="2027-01-31")
    n.receive("APPLE", "5", cost="6.00")
    n.receive("SOAP", "8", cost="3.00")
    users.add_user(n, "zhao", "赵经理", "manager", "2468")
    users.add_user(n, "li", "李收银", "cashier", "1357", approver="zhao", approver_pin="2468")
    users.add_user(n, "qian", "钱库管", "clerk", "9753", approver="zhao", approver_pin="2468")
    n.close()
    return path


@pytest.fixture
def node(stocked, tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    for suffix in ("", "-wal", "-shm"):  # with its write-ahead log, however far checkpointed
        source = stocked.with_name(stocked.name + suffix)
        if source.exists():
            shutil.copy(source, tmp_path / f"store.db{suffix}")
    n = Node.open(tmp_path / "store.db")
    n.user = "li"
    yield n
    n.close()


def head(node):
    return node.store.log.head_seq("S01")


def state(node):
    return head(node), node.stock()


def level(node, sku, lot=None, location="S01"):
    return sum(
        r.qty
        for r in node.read.stock(location=location, sku=sku, include_virtual=True)
        if lot is None or r.lot == lot
    )


def scan(node, *codes, weigh=None) -> Basket:
    b = Basket()
    for code in codes:
        b, _ = b.add(basket_line(node, code, weigh))
    return b


def test_a_mixed_basket_with_a_weighed_item_split_tender_and_change(node):
    b = scan(node, "6901234567892", "APPLE", "6901234567892", weigh=lambda: 1234)
    assert [(x.sku, x.qty) for x in b.lines] == [("COLA", 2000), ("APPLE", 1234)]
    assert b.total == 600 + 1209
    posted = post_sale(node, b, ["card:10.00", "cash:20.00"], shift="S01-40")
    assert (posted.total, posted.change) == (1809, 1191)
    assert posted.tenders == [Tender(method="card", amount=1000), Tender(method="cash", amount=809)]
    header = posted.events[0].body
    assert isinstance(header, Document)
    assert (header.type, header.doc, header.shift) == ("sale", posted.doc, "S01-40")
    assert [(x.sku, x.qty, x.unit_price, x.amount) for x in header.lines] == [
        ("COLA", 2000, 300, 600),
        ("APPLE", 1234, 980, 1209),
    ]
    moves = [e.body for e in posted.events[1:]]
    assert [(m.sku, m.lot, m.qty, m.dst) for m in moves if isinstance(m, Movement)] == [
        ("COLA", "L1", 2000, "@customer"),  # first expiry first out
        ("APPLE", None, 1234, "@customer"),
    ]
    assert {e.user for e in posted.events} == {"li"}
    assert level(node, "COLA", "L1") == 8000 and level(node, "APPLE") == 5000 - 1234
    # the ledger, not the till, costs the goods: 2 × 2.00 at moving average
    cogs = node.read.cogs()
    assert cogs[("S01", posted.events[1].seq, "S01")] == 400
    assert all(m.unit_cost is None for m in moves if isinstance(m, Movement))


def test_a_refused_tender_writes_nothing(node):
    before = state(node)
    with pytest.raises(NodeError, match="only cash gives change"):
        post_sale(node, scan(node, "COLA"), ["card:5.00"])
    with pytest.raises(NodeError, match="empty"):
        post_sale(node, Basket(), ["cash"])
    assert state(node) == before


def test_selling_beyond_stock_warns_asks_and_records(node):
    b = scan(node, "SOAP 1000")
    assert shortfalls(node, b) == [Shortfall(0, "SOAP", 1_000_000, 8000)]
    node.user = "zhao"  # 1000 pieces is a large quantity: the manager sells
    before = state(node)
    with pytest.raises(NodeError, match=r"selling 1000\.000 with 8\.000 in stock.*confirm"):
        post_sale(node, b, ["cash"])
    assert state(node) == before
    posted = post_sale(node, b, ["cash"], confirmed_beyond_stock=True)
    (line,) = posted.events[0].body.lines  # type: ignore[union-attr]
    assert line.beyond_stock == 992_000
    assert level(node, "SOAP") == -992_000


def test_two_lines_of_one_product_share_the_stock_check(node):
    b = scan(node, "SOAP 5").override_price(0, 450)  # a second line at another price
    b, _ = b.add(basket_line(node, "SOAP 5"))
    assert len(b) == 2
    assert shortfalls(node, b) == [Shortfall(1, "SOAP", 10_000, 8000)]


def test_a_cashier_discount_needs_a_managers_approval(node):
    b = scan(node, "COLA 3")
    before = state(node)
    with pytest.raises(NodeError, match="discount needs a manager's approval"):
        post_sale(node, b.discount(0, 100), ["cash"])
    assert state(node) == before
    who = approve(node, "discount", "zhao", "2468")
    posted = post_sale(node, b.discount(0, 100, approved_by=who), ["cash"])
    (line,) = posted.events[0].body.lines  # type: ignore[union-attr]
    assert (line.discount, line.amount, line.approved_by) == (100, 800, "zhao")
    assert {e.user for e in posted.events} == {"li"}  # the cashier acted; the manager approved


@pytest.mark.parametrize(
    ("approver", "pin", "message"),
    [
        ("zhao", "0000", "wrong PIN for zhao"),
        ("qian", "9753", r"qian \(clerk\) may not approve price override"),
        ("li", "1357", "someone else than li"),
        ("nobody", "1234", "no user 'nobody' here"),
        ("", "1234", "approver's user id"),
    ],
)
def test_approvals_that_do_not_count(node, approver, pin, message):
    with pytest.raises(NodeError, match=message):
        approve(node, "price_override", approver, pin)


def test_an_approval_is_checked_again_when_posting(node):
    b = scan(node, "COLA").override_price(0, 100, approved_by="qian")  # not a manager
    before = state(node)
    with pytest.raises(NodeError, match="may not approve it here"):
        post_sale(node, b, ["cash"])
    assert state(node) == before


def test_an_inactive_manager_cannot_approve(node):
    from protocol.events import Upsert

    node.store.append([Upsert(entity="user", key="zhao", fields={"active": False})], "admin", 1)
    with pytest.raises(NodeError, match="not active"):
        approve(node, "discount", "zhao", "2468")


def test_a_manager_overrides_a_price_without_asking_anyone(node):
    node.user = "zhao"
    posted = post_sale(node, scan(node, "COLA 2").override_price(0, 250), ["wechat"])
    (line,) = posted.events[0].body.lines  # type: ignore[union-attr]
    assert (line.unit_price, line.list_price, line.amount, line.approved_by) == (
        250,
        300,
        500,
        None,
    )
    assert posted.events[0].user == "zhao"


def test_a_large_quantity_needs_approval(node):
    b = scan(node, "COLA 100")
    with pytest.raises(NodeError, match="large quantity needs a manager's approval"):
        post_sale(node, b, ["cash"], confirmed_beyond_stock=True)
    assert not scan(node, "COLA 99").lines[0].approved_by
    post_sale(node, scan(node, "COLA 99"), ["cash"], confirmed_beyond_stock=True)
    ok = Basket((replace(b.lines[0], approved_by=approve(node, "large_quantity", "zhao", "2468")),))
    posted = post_sale(node, ok, ["cash"], confirmed_beyond_stock=True)
    assert posted.events[0].body.lines[0].approved_by == "zhao"  # type: ignore[union-attr]


def test_a_clerk_may_not_sell(node):
    node.user = "qian"
    before = state(node)
    with pytest.raises(NodeError, match=r"qian \(clerk\) may not sell"):
        post_sale(node, scan(node, "COLA"), ["cash"])
    assert state(node) == before


# ---- returns ----------------------------------------------------------------------------------


@pytest.fixture
def sale(node):
    """3 Cola (1.00 off) and 0.5 kg apple: 8.00 + 4.90, paid 5.00 card and 7.90 cash."""
    b = scan(node, "COLA 3", "APPLE 0.500").discount(0, 100, approved_by="zhao")
    return post_sale(node, b, ["card:5.00", "cash"])


def test_a_partial_return_refunds_by_the_original_tenders(node, sale):
    assert [
        (x.sku, x.sold, x.returned, x.left, x.unit_amount) for x in returnable(node, sale.doc)
    ] == [
        ("COLA", 3000, 0, 3000, 267),
        ("APPLE", 500, 0, 500, 980),
    ]
    shelf = level(node, "COLA", "L1")
    first = post_return(node, sale.doc, [ReturnLine("COLA", 1000)], shift="S01-40")
    assert first.refund == 267
    assert first.tenders == [Tender(method="card", amount=267)]  # non-cash first
    assert level(node, "COLA", "L1") == shelf + 1000  # back into the lot it came from
    header = first.events[0].body
    assert isinstance(header, Document)
    assert (header.type, header.ref, header.shift, header.approved_by) == (
        "return",
        sale.doc,
        "S01-40",
        None,
    )
    assert {e.user for e in first.events} == {"li"}
    rest = post_return(
        node, sale.doc, [ReturnLine("COLA", 2000), ReturnLine("APPLE", 500, scrap=True)]
    )
    assert rest.refund == 533 + 490  # what is left of 8.00, exactly, and the apple
    assert rest.tenders == [Tender(method="card", amount=233), Tender(method="cash", amount=790)]
    assert level(node, "APPLE", location="@scrap") == 500
    assert [x.left for x in returnable(node, sale.doc)] == [0, 0]


def test_returning_more_than_is_left_is_refused_and_writes_nothing(node, sale):
    post_return(node, sale.doc, [ReturnLine("COLA", 2000)])
    before = state(node)
    for lines, message in [
        ([ReturnLine("COLA", 2000)], r"at most 1\.000 is left"),
        ([ReturnLine("COLA", 1000), ReturnLine("COLA", 1000)], r"at most 0\.000 is left"),
        ([ReturnLine("SOAP", 1000)], "did not sell SOAP"),
        ([ReturnLine("COLA", 500)], "whole number"),
        ([ReturnLine("COLA", 0)], "more than zero"),
        ([], "at least one line"),
    ]:
        with pytest.raises(NodeError, match=message):
            post_return(node, sale.doc, lines)
    with pytest.raises(NodeError, match="no sale S01-999"):
        post_return(node, "S01-999", [ReturnLine("COLA", 1000)])
    with pytest.raises(NodeError, match="is a receipt, not a sale"):
        post_return(node, "S01-4", [ReturnLine("COLA", 1000)])  # the first receipt
    assert state(node) == before


def test_a_return_without_receipt_needs_an_override(node):
    lines = [ReturnLine("SOAP", 2000, unit_price=500)]
    before = state(node)
    with pytest.raises(NodeError, match="return without receipt needs a manager's approval"):
        post_return(node, None, lines)
    assert state(node) == before
    who = approve(node, "return_without_receipt", "zhao", "2468")
    done = post_return(node, None, lines, approved_by=who)
    assert (done.refund, done.tenders) == (1000, [Tender(method="cash", amount=1000)])
    header = done.events[0].body
    assert isinstance(header, Document)
    assert (header.ref, header.approved_by, done.events[0].user) == (None, "zhao", "li")
    assert level(node, "SOAP") == 10_000


def test_void_of_a_posted_sale_returns_what_is_left(node, sale):
    post_return(node, sale.doc, [ReturnLine("COLA", 1000)])
    before = state(node)
    with pytest.raises(NodeError, match="void sale needs a manager's approval"):
        void_sale(node, sale.doc, approved_by=None)
    assert state(node) == before
    voided = void_sale(node, sale.doc, approved_by=approve(node, "void_sale", "zhao", "2468"))
    header = voided.events[0].body
    assert isinstance(header, Document)
    assert (header.type, header.ref, header.approved_by) == ("void", sale.doc, "zhao")
    assert [(x.sku, x.qty) for x in header.lines] == [("COLA", 2000), ("APPLE", 500)]
    assert voided.refund == 533 + 490
    assert level(node, "COLA") == 20_000 and level(node, "APPLE") == 5000
    with pytest.raises(NodeError, match="nothing is left to void"):
        void_sale(node, sale.doc, approved_by="zhao")


def test_a_sale_posted_before_sales_had_lines_can_be_returned(node):
    node.user = "admin"
    events = node.sell("SOAP", "2", tender=["card:4.00", "cash"])
    doc = events[0].body.doc  # type: ignore[union-attr]
    (line,) = returnable(node, doc)
    assert (line.sku, line.sold, line.unit_amount) == ("SOAP", 2000, 500)
    done = post_return(node, doc, [ReturnLine("SOAP", 2000)])
    assert done.tenders == [Tender(method="card", amount=400), Tender(method="cash", amount=600)]


def test_sales_messages_in_chinese(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    with pytest.raises(NodeError) as caught:
        post_sale(node, scan(node, "COLA").discount(0, 10), ["cash"])
    assert str(caught.value) == "打折需要经理批准：请经理输入编号和 PIN"
    with pytest.raises(NodeError) as caught:
        basket_line(node, "")
    assert str(caught.value) == "没有扫到内容：请扫码或输入商品编号"
    with pytest.raises(NodeError) as caught:
        basket_line(node, "ZZZ")
    assert str(caught.value).startswith("未知编码 'ZZZ'")


def test_basket_lines_from_labels_typed_quantities_and_the_scale(node):
    node.add_product("CAKE", "Cake", barcode="plu:12345", price="25.00", unit="kg")
    label = basket_line(node, "2812345012505")  # PLU 12345, 12.50 printed
    assert (label.sku, label.qty, label.label_total, label.total) == ("CAKE", 500, 1250, 1250)
    assert basket_line(node, "APPLE 0.350").total == 343
    assert basket_line(node, "APPLE", weigh=lambda: 1234).qty == 1234
    gs1 = basket_line(node, "01069012345678921727123110L9")
    assert (gs1.sku, gs1.lot, gs1.expiry, gs1.qty) == ("COLA", "L9", "2027-12-31", 1000)
    for text, message in [
        ("APPLE", "no scale is connected"),
        ("COLA 1.5", "whole number"),
        ("COLA 1 2", "at most one quantity"),
        ("ZZZ", "unknown code 'ZZZ'"),
    ]:
        with pytest.raises(NodeError, match=message):
            basket_line(node, text)


def test_a_return_without_receipt_needs_a_price(node):
    node.user = "zhao"
    before = state(node)
    with pytest.raises(NodeError, match="give the price to refund for SOAP"):
        post_return(node, None, [ReturnLine("SOAP", 1000)])
    with pytest.raises(NodeError, match="must not be negative"):
        post_return(node, None, [ReturnLine("SOAP", 1000, unit_price=-1)])
    with pytest.raises(NodeError, match="no product 'GHOST' here"):
        post_return(node, None, [ReturnLine("GHOST", 1000, unit_price=1)])
    assert state(node) == before
    done = post_return(node, None, [ReturnLine("SOAP", 1000, unit_price=450, scrap=True)])
    assert done.events[0].body.approved_by is None  # a manager needs no one  # type: ignore[union-attr]
    assert level(node, "SOAP", location="@scrap") == 1000
