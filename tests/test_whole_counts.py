"""Counts mean what the clerk saw: a count without a lot is the product's total there.

The rule (`protocol.fold.whole_count`, docs/merge-rules.md "Counting a product that has
lots") with the worked examples of the docs, on the pure function and on a real ledger
file, delivered in every order.
"""

from __future__ import annotations

import itertools

import pytest

from ledger.replica import Replica
from ledger.sqlite import connect
from node.service import Node
from protocol import codec
from protocol.events import CUSTOMER, SUPPLIER, Count, Movement
from protocol.fold import fold_events, whole_count, whole_count_members

U = 1000  # milli-units per piece


@pytest.mark.parametrize(
    ("counted", "members", "expected"),
    [
        # no lots: the lot-less bucket is set, as it always was
        (7, [], [(None, 7)]),
        (7, [(None, 3)], [(None, 7)]),
        # one lot: the count sets it; no second bucket beside it
        (7, [("L1", 7)], [("L1", 7)]),
        (6, [("L1", 7)], [("L1", 6)]),
        # missing goods are missing from the oldest lot first
        (8, [("L1", 5), ("L2", 5)], [("L1", 3), ("L2", 5)]),
        (3, [("L1", 5), ("L2", 5)], [("L1", 0), ("L2", 3)]),
        # goods found beyond the books go to the newest lot still holding stock
        (12, [("L1", 5), ("L2", 5)], [("L1", 5), ("L2", 7)]),
        (12, [("L1", 5), ("L2", 0)], [("L1", 12)]),
        # the lot-less bucket (sold or received without a lot) is the oldest of all
        (7, [(None, -3), ("L1", 10)], [(None, 0), ("L1", 7)]),
        (9, [(None, 2), ("L1", 8)], [(None, 1), ("L1", 8)]),
        # a negative (phantom) lot holds nothing and is cleared
        (4, [("L1", -2), ("L2", 6)], [("L1", 0), ("L2", 4)]),
        # nothing on the shelf at all
        (0, [("L1", 5), ("L2", 2)], [("L1", 0), ("L2", 0)]),
        (0, [("L1", 0)], [("L1", 0)]),
        # surplus with nothing held on the books goes to the newest lot
        (5, [("L1", 0), ("L2", -1)], [("L2", 5)]),
    ],
)
def test_whole_count_spreads_the_total(counted, members, expected):
    rows = whole_count(counted, members)
    assert rows == expected
    assert sum(level for _, level in rows) == counted
    written = dict(rows)
    # a lot without a row held nothing and still holds nothing
    assert all(level == 0 for lot, level in members if lot not in written)


def test_members_are_ordered_lot_less_first_then_by_first_movement():
    seen = {"L9": (5, "S01", 1), None: (9, "S01", 2), "L1": (7, "S01", 3)}
    levels = {"L1": 1, None: 2, "L9": 3}
    assert whole_count_members(levels, seen) == [(None, 2), ("L9", 3), ("L1", 1)]


def test_the_readme_stocktake_no_longer_doubles_the_stock(tmp_path):
    """Receive 10 into lot L1, sell 3, `kucun node count A1 7`: one row of 7, not two."""
    node = Node.init(tmp_path / "s01.db", "S01", None, "nats://127.0.0.1:1")
    node.add_product("A1", "Apple", price="3.00")
    node.receive("A1", "10", cost="2.00", lot="L1", expiry="2027-01-31")
    node.sell("A1", "3")
    node.count("A1", "7")
    rows = node.stock("A1")
    assert [(r.lot, r.qty) for r in rows] == [("L1", 7 * U)]
    node.count("A1", "6")
    assert [(r.lot, r.qty) for r in node.stock("A1")] == [("L1", 6 * U)]
    assert node.read.cost(location="S01", sku="A1")[0].qty == 6 * U


def _chain(origin: str, bodies, start_ms: int):
    replica = Replica(connect(":memory:"), origin)
    events = []
    for i, body in enumerate(bodies):
        events += replica.append([body], "u", wall_ms=start_ms + i * 1000)
    return events


def test_worked_example_two_lots_and_a_late_sale_in_every_order():
    """docs/merge-rules.md: L1 (older) 5 and L2 (newer) 5 at S01; a clerk counts 8 of A;
    an offline till had sold 1 of L2 before the count. In time order the books held 9 at
    the count, so 1 is missing — from the oldest lot — and the sale before the count is
    absorbed: L1 4, L2 4, whatever arrives first."""
    back_office = _chain(
        "S01",
        [
            Movement(sku="A", qty=5 * U, src=SUPPLIER, dst="S01", lot="L1", expiry="2027-01-01"),
            Movement(sku="A", qty=5 * U, src=SUPPLIER, dst="S01", lot="L2", expiry="2027-03-01"),
        ],
        start_ms=1_000_000,
    )
    till = _chain(
        "S01-T2",
        [Movement(sku="A", qty=1 * U, src="S01", dst=CUSTOMER, lot="L2")],
        start_ms=1_010_000,
    )
    clerk = _chain("S01-T3", [Count(location="S01", sku="A", qty=8 * U)], start_ms=1_020_000)
    events = back_office + till + clerk
    reference = fold_events(events)
    assert reference.nonzero_stock()[("S01", "A", "L1")] == 4 * U
    assert reference.nonzero_stock()[("S01", "A", "L2")] == 4 * U
    assert reference.variances[("S01-T3", 1)] == -1 * U
    for order in itertools.permutations([back_office, till, clerk]):
        replica = Replica(connect(":memory:"), "X")
        for log in order:
            replica.ingest([codec.encode(e) for e in log], wall_ms=10**13)
        stock = {(r.lot, r.qty) for r in replica.read.stock(location="S01", sku="A")}
        assert stock == {("L1", 4 * U), ("L2", 4 * U)}, order
        assert replica.read.variances()[("S01-T3", 1)] == -1 * U
        total = sum(r.qty for r in replica.read.stock(sku="A", include_virtual=True))
        assert total == 0  # still double entry: @count holds the other side
