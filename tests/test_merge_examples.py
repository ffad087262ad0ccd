"""The worked examples of docs/merge-rules.md, each delivered in every order."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from ledger.replica import Replica
from ledger.sqlite import connect
from protocol import codec
from protocol.events import Count, DocLine, Document, Event, Movement
from protocol.hlc import pack

WALL_MS = 10**13


def at(clock: str) -> int:
    """HLC for a wall-clock time on 2026-11-25, e.g. "10:00:05"."""
    moment = datetime.fromisoformat(f"2026-11-25T{clock}+08:00")
    return pack(int(moment.timestamp() * 1000), 0)


def log(origin: str, *entries: tuple[str, object]) -> list[bytes]:
    raws, prev = [], codec.GENESIS
    for seq, (clock, body) in enumerate(entries, start=1):
        event = Event(origin=origin, seq=seq, hlc=at(clock), prev=prev, user="u", body=body)
        raw = codec.encode(event)
        prev = codec.event_hash(raw)
        raws.append(raw)
    return raws


def deliver_in_every_order(*logs: list[bytes]):
    """Hub replicas fed each log whole, in every order of the logs."""
    for order in itertools.permutations(logs):
        hub = Replica(connect(":memory:"), "hub")
        for raws in order:
            hub.ingest(raws, WALL_MS)
        yield hub


def receive(qty, cost=None, loc="S01", sku="A", doc=None):
    return Movement(sku=sku, qty=qty * 1000, src="@supplier", dst=loc, unit_cost=cost, doc=doc)


def sell(qty, loc="S01", sku="A"):
    return Movement(sku=sku, qty=qty * 1000, src=loc, dst="@customer", unit_price=350)


def level(hub, loc="S01", sku="A"):
    return {(r.location, r.sku): r.qty for r in hub.read.stock(include_virtual=True)}.get(
        (loc, sku), 0
    )


def test_cashier_sells_during_stocktake():
    office = log("S01", ("09:00:00", receive(10)))
    clerk = log("S01-T9", ("10:00:00", Count(location="S01", sku="A", qty=8000)))
    cashier = log("S01-T1", ("09:59:58", sell(1)), ("10:00:05", sell(1)))
    for hub in deliver_in_every_order(office, clerk, cashier):
        assert level(hub) == 7000  # 8 counted, then the sale after the count
        assert level(hub, "@count") == 1000  # only 1 unit unexplained, not 2
        assert list(hub.read.snapshot().variances.values()) == [-1000]


def test_offline_counter_sales_before_and_after_a_count():
    office = log("S01", ("08:00:00", receive(20)))
    t1 = log("S01-T1", ("09:00:00", sell(3)), ("13:00:00", sell(1)))
    t2_offline = log("S01-T2", ("10:30:00", sell(5)), ("12:30:00", sell(2)))
    count = log("S01-T9", ("12:00:00", Count(location="S01", sku="A", qty=11000)))
    for hub in deliver_in_every_order(office, t1, t2_offline, count):
        # 20 - 3 - 5 = 12 expected at noon, 11 on the shelf: 1 missing; then -2 and -1.
        assert level(hub) == 8000
        assert level(hub, "@count") == 1000
        assert level(hub, "@customer") == 11_000


def test_late_movement_before_count_is_kept_but_does_not_change_level():
    early = log(
        "S01", ("09:00:00", receive(10)), ("11:00:00", Count(location="S01", sku="A", qty=10_000))
    )
    late = log("S01-T2", ("10:00:00", sell(4)))
    hub = Replica(connect(":memory:"), "hub")
    hub.ingest(early, WALL_MS)
    assert (level(hub), level(hub, "@count")) == (10_000, 0)
    hub.ingest(late, WALL_MS)
    assert level(hub) == 10_000  # the count still says what was on the shelf
    assert level(hub, "@customer") == 4000  # the sale is kept ...
    assert level(hub, "@count") == -4000  # ... and explains 4 more found than the books said


def test_back_dated_receipt_refolds_cost_of_later_sales():
    t1 = log("S01-T1", ("09:00:00", receive(10, cost=200)), ("11:00:00", sell(5)))
    t2 = log("S01-T2", ("10:00:00", receive(10, cost=400)))
    seen = set()
    for hub in deliver_in_every_order(t1, t2):
        (cost,) = hub.read.cost(location="S01", sku="A")
        assert (cost.qty, cost.value) == (15_000, 4500)  # average 3.00 on 15 left
        assert hub.read.snapshot().cogs == {("S01-T1", 2, "S01"): 1500}  # 5 x 3.00, not 5 x 2.00
        seen.add(cost)
    assert len(seen) == 1


def test_single_order_receipt_cost_is_its_average():
    hub = Replica(connect(":memory:"), "hub")
    hub.ingest(log("S01", ("09:00:00", receive(10, cost=200)), ("09:01:00", sell(5))), WALL_MS)
    assert hub.read.snapshot().cogs == {("S01", 2, "S01"): 1000}


def test_purchase_order_status_follows_receipts():
    po = Document(
        doc="PO-1",
        type="purchase_order",
        location="S01",
        counterparty="ACME",
        lines=[DocLine(sku="A", qty=10_000), DocLine(sku="B", qty=5000)],
    )
    head_office = log("hub", ("08:00:00", po))
    first = log("S01", ("09:00:00", receive(10, doc="PO-1")))
    second = log("S01-T2", ("10:00:00", receive(5, sku="B", doc="PO-1")))
    hub = Replica(connect(":memory:"), "hub")
    hub.ingest(head_office, WALL_MS)
    assert hub.read.document("PO-1").status == "ordered"
    hub.ingest(first, WALL_MS)
    assert hub.read.document("PO-1").status == "partly_received"
    hub.ingest(second, WALL_MS)
    assert hub.read.document("PO-1").status == "received"
    for other in deliver_in_every_order(second, first, head_office):
        assert other.read.document("PO-1") == hub.read.document("PO-1")


@pytest.mark.parametrize(
    ("received", "status"),
    [(None, "in_transit"), (6, "received"), (5, "received_with_discrepancy")],
)
def test_transfer_status_and_discrepancy(received, status):
    header = Document(
        doc="T-1",
        type="transfer",
        location="W01",
        counterparty="S01",
        lines=[DocLine(sku="A", qty=6000)],
    )
    ship = Movement(sku="A", qty=6000, src="W01", dst="@transit", doc="T-1")
    hub = Replica(connect(":memory:"), "hub")
    hub.ingest(log("W01", ("08:00:00", header)), WALL_MS)
    assert hub.read.document("T-1").status == "planned"
    hub.ingest(log("W01", ("08:00:00", header), ("09:00:00", ship)), WALL_MS)
    if received is not None:
        arrive = Movement(sku="A", qty=received * 1000, src="@transit", dst="S01", doc="T-1")
        hub.ingest(log("S01", ("15:00:00", arrive)), WALL_MS)
    result = hub.read.document("T-1")
    assert result.status == status
    if received is not None:
        assert result.lines[0].discrepancy == received * 1000 - 6000
        assert level(hub, "@transit") == 6000 - received * 1000  # the gap stays visible


def test_clock_too_far_ahead_is_held_not_lost():
    hub = Replica(connect(":memory:"), "hub", max_skew_ms=60_000)
    now = at("10:00:00") >> 16
    raws = log("S01", ("09:00:00", receive(10)), ("11:00:00", sell(1)), ("11:00:01", sell(1)))
    result = hub.ingest(raws, now)
    assert result.applied == 1 and len(result.held) == 1
    assert "ahead" in hub.quarantine.held()[0]["reason"]
    assert level(hub) == 10_000
    assert sum(a.kind == "clock_skew" for a in hub.read.alerts()) == 1
    result = hub.release_held(now + 3_600_000)  # an hour later the clock is believable
    assert result.applied == 2
    assert level(hub) == 8000 and hub.quarantine.held() == []


def test_invalid_but_authentic_event_is_kept_and_ignored_everywhere():
    raws = log(
        "S01",
        ("09:00:00", receive(10)),
        ("09:01:00", Movement(sku="A", qty=0, src="S01", dst="@customer")),
        ("09:02:00", sell(1)),
    )
    hub = Replica(connect(":memory:"), "hub")
    assert hub.ingest(raws, WALL_MS).applied == 3
    assert level(hub) == 9000
    assert hub.read.snapshot().ignored == {("S01", 2): "movement quantity must be positive, got 0"}
