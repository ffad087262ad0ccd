"""What is returnable of a sale, what a return refunds and to which tenders: pure rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocol import returns
from protocol.events import DocLine, Document, Tender

SALE = Document(
    doc="S01-T1-5",
    type="sale",
    location="S01",
    lines=[
        DocLine(sku="COLA", qty=3000, unit_price=300, amount=800, discount=100),
        DocLine(sku="APPLE", qty=350, unit_price=980, amount=343),
    ],
    tenders=[Tender(method="card", amount=500), Tender(method="cash", amount=643)],
)


def ret(doc: str, *lines: DocLine, tenders=()) -> Document:
    return Document(
        doc=doc,
        type="return",
        location="S01",
        ref=SALE.doc,
        lines=list(lines),
        tenders=list(tenders),
    )


def test_groups_show_sold_returned_and_left():
    earlier = [ret("S01-T2-1", DocLine(sku="COLA", qty=1000, unit_price=300, amount=267))]
    cola, apple = returns.groups(SALE, earlier)
    assert (cola.sold, cola.returned, cola.left, cola.refunded) == (3000, 1000, 2000, 267)
    assert cola.unit_amount == 267  # 8.00 / 3, half-up
    assert (apple.left, apple.unit_amount) == (350, 980)
    assert not cola.returned_twice


def test_returning_one_piece_at_a_time_refunds_exactly_the_line():
    group = returns.groups(SALE, [])[0]
    paid = []
    for _ in range(3):
        amount = group.refund(1000)
        paid.append(amount)
        group = returns.ReturnGroup(
            group.sku,
            group.unit_price,
            group.sold,
            group.amount,
            group.returned + 1000,
            group.refunded + amount,
        )
    assert paid == [267, 266, 267] and sum(paid) == 800
    assert group.left == 0 and group.refund(1000) == 0


def test_a_second_whole_return_is_flagged_returned_twice():
    whole = DocLine(sku="COLA", qty=3000, unit_price=300, amount=800)
    both = [ret("S01-T1-9", whole), ret("S01-T2-4", whole)]
    (alert,) = returns.alerts(SALE, both)
    assert alert.kind == "returned_twice" and alert.sku == "COLA"
    assert (alert.sold, alert.returned) == (3000, 6000)
    assert "S01-T1-9" in alert.message and "S01-T2-4" in alert.message
    cola = returns.groups(SALE, both)[0]
    assert cola.left == 0 and cola.returned_twice  # never below zero


def test_refunds_go_to_non_cash_first_then_cash():
    assert returns.refund_tenders(300, SALE.tenders, []) == [Tender(method="card", amount=300)]
    assert returns.refund_tenders(700, SALE.tenders, []) == [
        Tender(method="card", amount=500),
        Tender(method="cash", amount=200),
    ]
    earlier = [[Tender(method="card", amount=450)]]
    assert returns.refund_tenders(100, SALE.tenders, earlier) == [
        Tender(method="card", amount=50),
        Tender(method="cash", amount=50),
    ]
    assert returns.refund_tenders(0, SALE.tenders, []) == [Tender(method="cash", amount=0)]


def test_lots_go_back_where_the_sale_drew_them():
    drawn = [("L1", 2000), ("L9", 1000)]
    assert returns.lots_back(drawn, [], 1000) == [("L9", 1000)]
    assert returns.lots_back(drawn, [("L9", 1000)], 2000) == [("L1", 2000)]
    assert returns.lots_back(drawn, [], 4000) == [("L9", 1000), ("L1", 2000), (None, 1000)]
    assert returns.lots_back([], [], 500) == [(None, 500)]


def test_half_up_division():
    assert [returns.half_up_div(n, 2) for n in (0, 1, 2, 3)] == [0, 1, 1, 2]
    assert returns.half_up_div(800, 3) == 267 and returns.half_up_div(1600, 3) == 533


# ---- properties -----------------------------------------------------------------------------


@st.composite
def sale_and_splits(draw):
    qty = draw(st.integers(1, 50)) * draw(st.sampled_from([1, 1000]))
    amount = draw(st.integers(0, 1_000_000))
    cuts = draw(st.lists(st.integers(1, qty), max_size=8))
    splits, left = [], qty
    for c in cuts:
        take = min(c, left)
        if take:
            splits.append(take)
            left -= take
    return qty, amount, splits, left


def _apply(group: returns.ReturnGroup, qty: int) -> tuple[returns.ReturnGroup, int]:
    amount = group.refund(qty)
    return (
        returns.ReturnGroup(
            group.sku,
            group.unit_price,
            group.sold,
            group.amount,
            group.returned + qty,
            group.refunded + amount,
        ),
        amount,
    )


@given(sale_and_splits())
def test_refunds_never_exceed_what_was_paid(case):
    qty, amount, splits, _ = case
    group = returns.ReturnGroup("A", 1, qty, amount)
    total = 0
    for part in splits:
        group, refund = _apply(group, part)
        assert refund >= 0
        total += refund
        assert total <= amount
    assert total == returns.half_up_div(amount * group.returned, qty)


@given(sale_and_splits())
def test_returning_everything_in_any_split_refunds_exactly_the_line(case):
    qty, amount, splits, left = case
    group = returns.ReturnGroup("A", 1, qty, amount)
    total = 0
    for part in [*splits, left] if left else splits:
        group, refund = _apply(group, part)
        total += refund
    assert group.left == 0 and total == amount


@given(
    st.lists(
        st.tuples(st.sampled_from(["cash", "card", "wechat", "alipay"]), st.integers(0, 10_000)),
        min_size=1,
        max_size=4,
        unique_by=lambda t: t[0],
    ),
    st.lists(st.integers(0, 10_000), max_size=5),
)
def test_split_refunds_never_give_a_tender_more_than_it_paid(paid, refunds):
    tenders = [Tender(method=m, amount=a) for m, a in paid]
    total = sum(a for _, a in paid)
    earlier: list[list[Tender]] = []
    refunded = 0
    for r in refunds:
        r = min(r, total - refunded)
        split = returns.refund_tenders(r, tenders, earlier)
        assert sum(t.amount for t in split) == r
        earlier.append(split)
        refunded += r
    back: dict[str, int] = {}
    for split in earlier:
        for t in split:
            back[t.method] = back.get(t.method, 0) + t.amount
    for method, amount in paid:
        if method != "cash":
            assert back.get(method, 0) <= amount
    assert sum(back.values()) <= total
