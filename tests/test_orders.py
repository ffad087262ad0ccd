"""Online orders, pure: routing, status derivation, idempotency (protocol/orders.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocol import orders
from protocol.events import DocLine, Document
from protocol.orders import Candidate, Routing, route, status


def store(location, kind="store", active=True, **held):
    return Candidate(
        location=location, held={k: v * 1000 for k, v in held.items()}, kind=kind, active=active
    )


def test_the_preferred_store_when_it_holds_it_all():
    pool = [store("S01", A=2), store("S02", A=50)]
    assert route([("A", 2000)], pool, "pickup", "S01") == Routing("S01")
    # it lacks: the store holding all of it with the most stock
    assert route([("A", 3000)], pool, "pickup", "S01") == Routing("S02")


def test_the_most_stock_then_the_most_lines_covered_short():
    pool = [store("S01", A=5), store("S02", A=9), store("S03", A=1, B=1, C=1)]
    assert route([("A", 4000)], pool, "pickup") == Routing("S02")
    # nobody has all: S03 covers two lines (B, C), S01 and S02 one
    assert route([("A", 2000), ("B", 1000), ("C", 1000)], pool, "pickup") == Routing(
        "S03", {"A": 1000}
    )
    # lines of one SKU add up
    assert route([("A", 3000), ("A", 3000)], pool, "pickup") == Routing("S02")


def test_warehouses_deliver_only_and_inactive_stores_never():
    pool = [
        store("W1", kind="warehouse", A=99),
        store("S01", A=1),
        store("S09", active=False, A=50),
    ]
    assert route([("A", 5000)], pool, "delivery") == Routing("W1")
    assert route([("A", 5000)], pool, "pickup") == Routing("S01", {"A": 4000})
    assert route([("A", 5000)], pool, "pickup", "S09") == Routing("S01", {"A": 4000})


def test_nothing_anywhere_is_not_routed():
    assert route([("A", 1000)], [store("S01", B=3)], "pickup") is None
    assert route([("A", 1000)], [], "delivery") is None
    assert route([("A", 1000)], [store("S01", A=-4)], "pickup") is None


@given(
    st.lists(st.dictionaries(st.sampled_from("ABC"), st.integers(-3, 9)), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1, 5)), min_size=1, max_size=4),
)
def test_routing_is_by_holdings_never_by_list_order(holdings, lines):
    pool = [store(f"S{i}", **held) for i, held in enumerate(holdings)]
    wanted = [(sku, qty * 1000) for sku, qty in lines]
    chosen = route(wanted, pool, "pickup")
    assert chosen == route(wanted, list(reversed(pool)), "pickup")
    need = orders.needed(wanted)
    if chosen is not None:
        held = next(c for c in pool if c.location == chosen.store).held
        assert chosen.short == {
            s: q - max(held.get(s, 0), 0) for s, q in need.items() if held.get(s, 0) < q
        }
        if any(all(c.held.get(s, 0) >= q for s, q in need.items()) for c in pool):
            assert not chosen.short


ORDER = Document(
    doc="ORD-S01-1",
    type="online_order",
    location="S01",
    lines=[DocLine(sku="A", qty=2000), DocLine(sku="B", qty=1000)],
)


def doc(kind, name, *lines):
    return Document(
        doc=name,
        type=kind,
        location="S01",
        ref=ORDER.doc,
        lines=[DocLine(sku=s, qty=q * 1000) for s, q in lines],
    )


def test_status_from_citing_documents():
    assert status(ORDER, []).status == "routed"
    assert status(ORDER, [], {"B": 1000}).status == "short"
    assert status(ORDER, [doc("pick", "P")]).status == "picking"
    assert status(ORDER, [doc("pick", "P")]).open
    full = status(ORDER, [doc("pick", "P"), doc("sale", "S", ("A", 2), ("B", 1))])
    assert (full.status, full.sales, full.open, full.alerts) == ("fulfilled", ["S"], False, [])
    part = status(ORDER, [doc("pick_short", "X", ("B", 1)), doc("sale", "S", ("A", 2))])
    assert part.status == "short"
    assert [(x.sku, x.sold, x.short) for x in part.lines] == [("A", 2000, 0), ("B", 0, 1000)]
    declared = status(ORDER, [doc("pick", "P"), doc("pick_short", "X", ("B", 1))])
    assert (declared.status, declared.open) == ("short", False)
    assert status(ORDER, [doc("order_cancel", "C")]).status == "cancelled"


def test_two_sales_both_stand():
    twice = status(ORDER, [doc("sale", "S1", ("A", 2), ("B", 1)), doc("sale", "S2", ("A", 2))])
    assert twice.status == "fulfilled"
    assert twice.alerts == [orders.OrderAlert("fulfilled_twice", "A", 2000)]
    after = status(ORDER, [doc("order_cancel", "C"), doc("sale", "S", ("A", 2), ("B", 1))])
    assert after.status == "fulfilled" and after.alerts == [orders.OrderAlert("sold_after_cancel")]


def test_note_and_idempotency():
    note = orders.order_note("pickup", "WX 1", "ring\ntwice")
    assert orders.parse_note(note) == ("pickup", "WX 1", "ring\ntwice")
    assert orders.parse_note(orders.order_note("delivery", "A", None)) == ("delivery", "A", None)
    one = orders.canonical({"b": [1, 2], "a": "x"})
    assert orders.same_order(one, orders.canonical({"a": "x", "b": [1, 2]}))
    assert not orders.same_order(one, orders.canonical({"a": "x", "b": [1, 3]}))
