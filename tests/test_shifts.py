"""Shifts, X and Z reports: the pure figures, and the shift on a real ledger."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node import sales, shifts, users
from node.errors import NodeError
from node.service import Node
from node.sync import sync_once
from protocol import i18n
from protocol.basket import Basket
from protocol.documents import Related
from protocol.events import (
    CUSTOMER,
    SCRAP,
    CashierTotals,
    DocLine,
    Document,
    Movement,
    ShiftReport,
    Tender,
)
from protocol.shifts import net_total, shift_report, tender_order, z_label
from replication.clock import wall_ms
from tests.helpers import wait_until

# ---- pure ------------------------------------------------------------------------------


def related(header: Document, user: str = "wang", seq: int = 1) -> Related:
    return Related(header, "S01", seq, 0, user)


def doc(kind, tenders, shift: str | None = "S01-1", lines=(), ref=None, name="S01-9") -> Document:
    return Document(
        doc=name,
        type=kind,
        location="S01",
        tenders=[Tender(method=m, amount=a) for m, a in tenders],
        lines=list(lines),
        shift=shift,
        ref=ref,
    )


def test_an_empty_shift_expects_its_float():
    report = shift_report("S01-1", 20000, [])
    assert report == ShiftReport(cash_float=20000, expected_cash=20000)
    assert report.number is None and report.counted_cash is None and report.variance is None


def test_figures_of_one_shift_to_the_fen():
    documents = [
        related(doc("sale", [("cash", 3500)])),
        related(doc("sale", [("cash", 1280)], lines=[DocLine(sku="A", qty=1, discount=100)])),
        related(doc("sale", [("card", 5000)]), "li"),
        related(doc("sale", [("cash", 2000), ("wechat", 3050)]), "li"),
        related(doc("return", [("cash", 700)])),
        related(doc("void", [("card", 5000)]), "li"),
        # not in this shift: no shift, another shift, a document that is no sale
        related(doc("sale", [("cash", 999)], shift=None)),
        related(doc("sale", [("cash", 999)], shift="S01-77")),
        related(doc("receipt", [("cash", 999)])),
    ]
    report = shift_report("S01-1", 20000, documents, number=3, counted_cash=26050)
    assert report == ShiftReport(
        number=3,
        sales=4,
        sales_total=14830,
        returns=1,
        returns_total=700,
        voids=1,
        voids_total=5000,
        discounts_total=100,
        tenders=[
            Tender(method="cash", amount=6080),
            Tender(method="card", amount=0),
            Tender(method="wechat", amount=3050),
        ],
        cash_float=20000,
        cash_sales=6780,
        cash_refunds=700,
        expected_cash=26080,
        counted_cash=26050,
        variance=-30,
        cashiers=[
            CashierTotals(user="li", sales=2, sales_total=10050, returns=1, returns_total=5000),
            CashierTotals(user="wang", sales=2, sales_total=4780, returns=1, returns_total=700),
        ],
    )


def test_tenders_are_listed_built_in_first_then_head_offices_by_name():
    documents = [
        related(doc("sale", [("unionpay", 1), ("alipay", 1), ("cash", 1), ("abc", 1)])),
    ]
    methods = [t.method for t in shift_report("S01-1", 0, documents).tenders]
    assert methods == ["cash", "alipay", "abc", "unionpay"]
    assert sorted(["zz", "card", "cash"], key=tender_order) == ["cash", "card", "zz"]


def test_a_z_number_on_paper():
    assert z_label(1) == "Z 0001"
    assert z_label(7) == "Z 0007"
    assert z_label(12345) == "Z 12345"


METHODS = st.sampled_from(["cash", "card", "wechat", "alipay", "unionpay"])
TENDERS = st.lists(st.tuples(METHODS, st.integers(0, 10**10)), min_size=1, max_size=3)
DOCS = st.lists(
    st.tuples(
        st.sampled_from(["sale", "return", "void", "receipt"]),
        TENDERS,
        st.sampled_from(["S01-1", "S01-2", None]),
        st.sampled_from(["wang", "li", "zhao"]),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(DOCS, st.integers(0, 10**10), st.none() | st.integers(0, 10**10))
def test_property_cash_and_tenders_add_up(items, cash_float, counted):
    documents = [related(doc(k, t, shift=s), user) for k, t, s, user in items]
    report = shift_report("S01-1", cash_float, documents, counted_cash=counted)
    assert report.expected_cash == cash_float + report.cash_sales - report.cash_refunds
    assert sum(t.amount for t in report.tenders) == net_total(report)
    assert net_total(report) == report.sales_total - report.returns_total - report.voids_total
    mine = [(k, t) for k, t, s, _ in items if s == "S01-1" and k != "receipt"]
    assert report.sales == sum(k == "sale" for k, _ in mine)
    assert report.returns + report.voids == len(mine) - report.sales
    cash = {"sale": 0, "refund": 0}
    for k, t in mine:
        cash["sale" if k == "sale" else "refund"] += sum(a for m, a in t if m == "cash")
    assert (report.cash_sales, report.cash_refunds) == (cash["sale"], cash["refund"])
    assert sum(c.sales_total for c in report.cashiers) == report.sales_total
    assert sum(c.returns_total for c in report.cashiers) == (
        report.returns_total + report.voids_total
    )
    if counted is None:
        assert report.variance is None
    else:
        assert report.variance == counted - report.expected_cash


# ---- on a ledger -----------------------------------------------------------------------


def translated(error: NodeError) -> str:
    """The error's English text, after checking its zh-CN text is registered and rendered."""
    assert error.template in i18n.translations(), error.template
    zh = error.text("zh-CN")
    assert zh != error.text("en") and not zh.isascii()
    assert len(zh.splitlines()) == 1
    return error.text("en")


def staff(node: Node) -> None:
    for user, role in (("wang", "cashier"), ("li", "cashier"), ("zhao", "manager")):
        users.add_user(node, user, None, role, None)
    users.add_user(node, "qian", None, "clerk", None)


@pytest.fixture
def node(tmp_path):
    n = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    n.add_product("A1", "Apple", price="3.50")
    n.receive("A1", "100")
    staff(n)
    yield n
    n.close()


def sale(node: Node, shift, tenders, qty=1000, discount=0, user="wang") -> str:
    """A sale header as the sales core writes it, and its movement."""
    node.user = user
    amount = sum(a for _, a in tenders)
    here = node.config.location
    (header, *_) = node.post(
        lambda d: [
            Document(
                doc=d,
                type="sale",
                location=here,
                tenders=[Tender(method=m, amount=a) for m, a in tenders],
                lines=[
                    DocLine(
                        sku="A1",
                        qty=qty,
                        unit_price=(amount + discount) * 1000 // qty,
                        discount=discount or None,
                        amount=amount,
                    )
                ],
                shift=shift,
            ),
            Movement(sku="A1", qty=qty, src=here, dst=CUSTOMER, doc=d),
        ]
    )
    assert isinstance(header.body, Document)
    return header.body.doc


def refund(node: Node, kind, ref, shift, tenders, qty=1000, scrap=False, user="wang") -> str:
    node.user = user
    amount = sum(a for _, a in tenders)
    here = node.config.location
    (header, *_) = node.post(
        lambda d: [
            Document(
                doc=d,
                type=kind,
                location=here,
                ref=ref,
                tenders=[Tender(method=m, amount=a) for m, a in tenders],
                lines=[DocLine(sku="A1", qty=qty, amount=amount, scrap=scrap)],
                shift=shift,
            ),
            Movement(sku="A1", qty=qty, src=CUSTOMER, dst=SCRAP if scrap else here, doc=d),
        ]
    )
    assert isinstance(header.body, Document)
    return header.body.doc


def a_day(node: Node, shift: str) -> None:
    """Two cash sales (one discounted), a card sale, a split cash+wechat sale, a cash
    refund and the void of the card sale."""
    first = sale(node, shift, [("cash", 3500)], qty=10000)
    sale(node, shift, [("cash", 1280)], discount=100)
    card = sale(node, shift, [("card", 5000)], user="li")
    sale(node, shift, [("cash", 2000), ("wechat", 3050)], user="li")
    refund(node, "return", first, shift, [("cash", 700)], qty=2000)
    refund(node, "void", card, shift, [("card", 5000)], user="li")


def test_a_shift_from_float_to_z_report(node):
    assert shifts.current_shift(node) is None
    node.user = "zhao"
    opened = shifts.open_shift(node, "200.00")
    assert opened.cash_float == 20000 and opened.opened_by == "zhao"
    assert shifts.current_shift(node) == opened
    a_day(node, opened.doc)
    sale(node, None, [("cash", 12345)])  # taken with no shift: in none

    x = shifts.x_report(node)
    assert x.number is None and x.counted_cash is None
    assert (x.sales, x.sales_total, x.returns, x.returns_total) == (4, 14830, 1, 700)
    assert (x.voids, x.voids_total, x.discounts_total) == (1, 5000, 100)
    assert x.tenders == [
        Tender(method="cash", amount=6080),
        Tender(method="card", amount=0),
        Tender(method="wechat", amount=3050),
    ]
    assert (x.cash_float, x.cash_sales, x.cash_refunds, x.expected_cash) == (
        20000,
        6780,
        700,
        26080,
    )
    assert x.cashiers == [
        CashierTotals(user="li", sales=2, sales_total=10050, returns=1, returns_total=5000),
        CashierTotals(user="wang", sales=2, sales_total=4780, returns=1, returns_total=700),
    ]
    head = node.store.log.head_seq("S01")
    assert (x.first_seq, x.last_seq) == (opened.seq, head)
    assert node.store.log.head_seq("S01") == head  # an X report writes nothing

    node.user = "zhao"
    closed = shifts.close_shift(node, "260.50")
    assert closed.report.number == 1
    assert (closed.report.counted_cash, closed.report.variance) == (26050, -30)
    assert closed.report.expected_cash == 26080
    assert (closed.report.first_seq, closed.report.last_seq) == (opened.seq, head)
    assert closed.shift == opened.doc and closed.closed_by == "zhao"
    assert closed.doc == f"S01-{head + 1}"
    # the Z report is the X report's figures with the count and the number
    assert closed.report.tenders == x.tenders and closed.report.cashiers == x.cashiers
    assert shifts.current_shift(node) is None
    header = node.read.document_header(closed.doc)
    assert header is not None and header.type == "z_report" and header.ref == opened.doc
    assert header.report == closed.report
    event = node.store.log.event("S01", head + 1)
    assert event is not None and event.user == "zhao"


def test_two_shifts_in_a_row_are_scoped_separately_and_numbered(node, tmp_path):
    first = shifts.open_shift(node, "200")
    a_day(node, first.doc)
    z1 = shifts.close_shift(node, "260.80")
    assert z1.report.variance == 0

    second = shifts.open_shift(node, "100.00")
    assert second.doc != first.doc
    x = shifts.x_report(node)
    assert x == ShiftReport(
        cash_float=10000, expected_cash=10000, first_seq=second.seq, last_seq=second.seq
    )
    sale(node, second.doc, [("alipay", 990)], user="li")
    # a late document naming the closed shift counts in neither report now
    sale(node, first.doc, [("cash", 500)])
    z2 = shifts.close_shift(node, "99.00")
    assert z2.report.number == 2
    assert (z2.report.sales, z2.report.sales_total) == (1, 990)
    assert z2.report.tenders == [Tender(method="alipay", amount=990)]
    assert (z2.report.expected_cash, z2.report.variance) == (10000, -100)
    assert [z.report.number for z in shifts.z_reports(node)] == [1, 2]
    assert shifts.z_reports(node)[0] == z1  # immutable: the first is as it was

    # reopening the ledger gives the same Z reports
    node.close()
    again = Node.open(tmp_path / "store.db")
    try:
        assert shifts.z_reports(again) == [z1, z2]
        assert shifts.current_shift(again) is None
    finally:
        again.close()


def test_opening_twice_says_which_shift_and_since_when(node):
    opened = shifts.open_shift(node, "200.00")
    head = node.store.log.head_seq("S01")
    with pytest.raises(NodeError) as err:
        shifts.open_shift(node, "50.00")
    text = translated(err.value)
    assert opened.doc in text and opened.opened_at in text and "admin" in text
    assert "Z report" in text
    assert opened.doc in err.value.text("zh-CN") and "班次" in err.value.text("zh-CN")
    assert node.store.log.head_seq("S01") == head  # nothing written


def test_closing_or_x_with_no_shift_is_refused(node):
    head = node.store.log.head_seq("S01")
    with pytest.raises(NodeError) as err:
        shifts.close_shift(node, "0")
    assert "no shift is open" in translated(err.value)
    with pytest.raises(NodeError) as err:
        shifts.x_report(node)
    assert "open one with its cash float" in translated(err.value)
    assert err.value.text("zh-CN") == "本收银台尚未开班：请先输入备用金开班"
    assert node.store.log.head_seq("S01") == head


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("abc", "is not an amount"),
        ("", "is not an amount"),
        ("1.234", "is not an amount"),
        ("1e3", "is not an amount"),
        ("99999999999", "is not an amount"),
        ("9" * 5000, "is not an amount"),
        ("-5", "must not be negative"),
    ],
)
def test_bad_amounts_are_refused_with_nothing_written(node, text, words):
    head = node.store.log.head_seq("S01")
    with pytest.raises(NodeError) as err:
        shifts.open_shift(node, text)
    assert words in translated(err.value) and "200.00" in translated(err.value)
    shifts.open_shift(node, "0")
    with pytest.raises(NodeError) as err:
        shifts.close_shift(node, text)
    assert words in translated(err.value) and "512.30" in translated(err.value)
    assert node.store.log.head_seq("S01") == head + 1  # only the shift_open
    assert len(translated(err.value).splitlines()) == 1
    assert len(translated(err.value)) < 200  # a long text is quoted by its start


def test_a_return_at_another_till_is_in_that_tills_shift(node, tmp_path):
    other = Node.init(tmp_path / "t2.db", "S01-T2", "S01", "nats://127.0.0.1:1")
    try:
        mine = shifts.open_shift(node, "200.00")
        sold = sale(node, mine.doc, [("cash", 3500)], qty=10000)
        theirs = shifts.open_shift(other, "50.00")
        # the other till has the sale (as by sync) and takes a return of it
        raws = [
            raw for _, raw in node.store.log.raw_events("S01", 0, node.store.log.head_seq("S01"))
        ]
        other.store.ingest(raws, wall_ms())
        refund(other, "return", sold, theirs.doc, [("cash", 350)])
        raws = [
            raw
            for _, raw in other.store.log.raw_events(
                "S01-T2", 0, other.store.log.head_seq("S01-T2")
            )
        ]
        node.store.ingest(raws, wall_ms())

        here = shifts.x_report(node)
        assert (here.sales_total, here.returns, here.expected_cash) == (3500, 0, 23500)
        there = shifts.x_report(other)
        assert (there.sales, there.returns_total, there.expected_cash) == (0, 350, 4650)
        # each till has its own shift and its own Z numbers
        assert shifts.current_shift(node) == mine
        assert shifts.close_shift(other, "46.50").report.number == 1
        assert shifts.close_shift(node, "235.00").report.number == 1
    finally:
        other.close()


def test_only_till_roles_work_shifts(node):
    node.user = "qian"  # a clerk
    head = node.store.log.head_seq("S01")
    with pytest.raises(NodeError) as err:
        shifts.open_shift(node, "200.00")
    assert "qian (clerk) may not shift" in translated(err.value)
    node.user = "wang"
    opened = shifts.open_shift(node, "200.00")
    node.user = "qian"
    for attempt in (shifts.x_report, lambda n: shifts.close_shift(n, "200.00")):
        with pytest.raises(NodeError):
            attempt(node)
    assert node.store.log.head_seq("S01") == head + 1
    assert shifts.current_shift(node) == opened  # anyone may see that a shift is open


def test_a_shift_through_the_sales_core(node):
    """Sales, a return and a void posted by node.sales, checked against the ledger."""
    node.user = "wang"
    opened = shifts.open_shift(node, "200.00")
    basket, _ = Basket().add(sales.basket_line(node, "A1 3"))  # 10.50
    first = sales.post_sale(node, basket, ["cash:20"], shift=opened.doc)
    assert (first.total, first.change) == (1050, 950)
    basket, _ = Basket().add(sales.basket_line(node, "A1 2"))  # 7.00
    second = sales.post_sale(node, basket, ["card"], shift=opened.doc)
    third = sales.post_sale(node, basket, ["cash"])  # no shift given: the open one
    assert node.read.document_header(third.doc).shift == opened.doc
    back = sales.post_return(
        node, first.doc, [sales.ReturnLine(sku="A1", qty=1000)], shift=opened.doc
    )
    void = sales.void_sale(node, second.doc, approved_by="zhao", shift=opened.doc)
    assert (back.refund, void.refund) == (350, 700)

    x = shifts.x_report(node)
    ids = (first.doc, second.doc, third.doc, back.doc, void.doc)
    docs = [node.read.document_header(d) for d in ids]
    cash = [sum(t.amount for t in d.tenders if t.method == "cash") for d in docs if d]
    assert x.cash_sales == cash[0] + cash[1] + cash[2] == 1750
    assert x.cash_refunds == cash[3] + cash[4] == 350
    assert x.expected_cash == 20000 + 1750 - 350
    assert (x.sales, x.sales_total, x.returns_total, x.voids_total) == (3, 2450, 350, 700)
    assert x.tenders == [Tender(method="cash", amount=1400), Tender(method="card", amount=0)]
    assert x.cashiers == [
        CashierTotals(user="wang", sales=3, sales_total=2450, returns=2, returns_total=1050)
    ]
    z = shifts.close_shift(node, "214.00")
    assert (z.report.number, z.report.variance) == (1, 0)


@pytest.mark.slow
def test_a_z_report_reaches_the_hub_as_printed(tmp_path, nats_server, hub):
    till = Node.init(tmp_path / "till.db", "S01-T1", "S01", nats_server.url)
    try:
        till.add_product("A1", "Apple", price="3.50")
        till.receive("A1", "100")
        staff(till)
        till.user = "zhao"
        opened = shifts.open_shift(till, "200.00")
        a_day(till, opened.doc)
        z = shifts.close_shift(till, "260.50")
        summary = asyncio.run(sync_once(till, confirm_timeout=20))
        assert summary.unconfirmed == 0
        head = till.store.log.head_seq("S01-T1")
        assert wait_until(lambda: hub.ingested("S01-T1") == head, timeout=30)
        status, body = hub.get(f"/api/v1/documents/{z.doc}")
        assert status == 200, body
        assert (body["type"], body["shift"]) == ("z_report", opened.doc)
        report = body["shift_report"]
        assert (report["number"], report["sales_total"], report["expected_cash"]) == (
            1,
            "148.30",
            "260.80",
        )
        assert (report["counted_cash"], report["variance"]) == ("260.50", "-0.30")
        assert report["tenders"] == [
            {"method": "cash", "amount": "60.80"},
            {"method": "card", "amount": "0.00"},
            {"method": "wechat", "amount": "30.50"},
        ]
        status, body = hub.get(f"/api/v1/documents/{opened.doc}")
        assert status == 200 and body["type"] == "shift_open"
    finally:
        till.close()
