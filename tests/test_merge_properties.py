"""The core promise, by property: replicas converge whatever the delivery.

Hypothesis builds event logs for several origins (each a real hash chain with strictly
increasing HLCs that interleave across origins), then delivers them to several replicas in
any order, with duplicates, in batches of any size. After every batch a replica's derived
state must equal the reference fold of what it has received; at the end all replicas must be
identical, and every movement and count must conserve quantity.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.replica import Replica
from ledger.sqlite import connect, transaction
from protocol import codec
from protocol.events import Count, Event, Movement, Upsert
from protocol.fold import fold_events

ORIGINS = ["S01", "S01-T2", "W01", "hub"]
REAL = ["S01", "W01"]
PLACES = [*REAL, "@supplier", "@customer", "@transit", "@scrap"]
SKUS = ["A", "B"]
LOTS = [None, "L1", "L2"]
WALL_MS = 10**13  # far beyond every generated clock: no event is held for skew

movements = st.builds(
    Movement,
    sku=st.sampled_from(SKUS),
    qty=st.integers(1, 5000) | st.just(0),
    src=st.sampled_from(PLACES),
    dst=st.sampled_from(PLACES),
    lot=st.sampled_from(LOTS),
    unit_cost=st.none() | st.integers(0, 2000),
    expiry=st.none() | st.sampled_from(["2027-03-01", "2027-04-01"]),
)
counts = st.builds(
    Count,
    location=st.sampled_from(REAL),
    sku=st.sampled_from(SKUS),
    qty=st.integers(0, 8000),
    lot=st.sampled_from(LOTS),
)
upserts = st.builds(
    Upsert,
    entity=st.just("product"),
    key=st.sampled_from(SKUS),
    fields=st.dictionaries(
        st.sampled_from(["name", "price", "unit"]),
        st.text(max_size=3) | st.integers(0, 999),
        min_size=1,
    ),
)
bodies = st.one_of(movements, movements, movements, counts, upserts)


@st.composite
def event_logs(draw) -> list[Event]:
    """Chained logs per origin; clocks drawn from a small range so origins interleave."""
    events = []
    for origin in draw(st.lists(st.sampled_from(ORIGINS), min_size=1, max_size=3, unique=True)):
        items = draw(st.lists(bodies, min_size=1, max_size=12))
        stamps = sorted(
            draw(st.lists(st.integers(0, 40), min_size=len(items), max_size=len(items)))
        )
        prev = codec.GENESIS
        for seq, (body, stamp) in enumerate(zip(items, stamps, strict=True), start=1):
            hlc = ((1000 + stamp) << 16) + seq  # strictly increasing within the origin
            event = Event(origin=origin, seq=seq, hlc=hlc, prev=prev, user="u", body=body)
            prev = codec.event_hash(codec.encode(event))
            events.append(event)
    return events


def deliveries(events: list[Event], rng: random.Random) -> list[list[bytes]]:
    """One replica's view of the network: shuffled, duplicated, cut into batches."""
    raws = [codec.encode(e) for e in events]
    raws += rng.sample(raws, k=rng.randint(0, len(raws)))
    rng.shuffle(raws)
    batches, i = [], 0
    while i < len(raws):
        size = rng.randint(1, 6)
        batches.append(raws[i : i + size])
        i += size
    return batches


def assert_conserved(stock: dict) -> None:
    totals: dict = defaultdict(int)
    for (_, sku, lot), qty in stock.items():
        totals[(sku, lot)] += qty
    assert all(v == 0 for v in totals.values()), totals


def comparable(snap):
    return (
        snap.nonzero_stock(),
        snap.cost,
        snap.cogs,
        snap.variances,
        snap.registers,
        snap.ignored,
        snap.levels_after,
        snap.costs_after,
        snap.lot_expiry,
    )


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(), st.randoms(use_true_random=False))
def test_replicas_converge_under_any_delivery(events, rng):
    reference = fold_events(events)
    assert_conserved(reference.stock)
    finals = []
    for _ in range(3):
        replica = Replica(connect(":memory:"), "X")
        received: list[Event] = []
        for batch in deliveries(events, rng):
            replica.ingest(batch, WALL_MS)
            received += [codec.decode(raw) for raw in batch]
            assert comparable(replica.read.snapshot()) == comparable(fold_events(received))
        finals.append(comparable(replica.read.snapshot()))
        again = [codec.encode(e) for e in events]
        assert replica.ingest(again, WALL_MS).applied == 0  # idempotent
        assert comparable(replica.read.snapshot()) == finals[-1]
        assert_conserved(replica.read.snapshot().stock)
    assert finals[0] == finals[1] == finals[2] == comparable(reference)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(event_logs(), st.randoms(use_true_random=False))
def test_partitioned_replicas_converge_after_exchange(events, rng):
    """Two replicas each see part of the events, then sync with each other."""
    a = Replica(connect(":memory:"), "A")
    b = Replica(connect(":memory:"), "B")
    raws = [codec.encode(e) for e in events]
    for raw in raws:
        rng.choice([a, b]).ingest([raw], WALL_MS)
    for source, target in ((a, b), (b, a)):
        for origin in source.log.heads():
            target.ingest([r for _, r in source.log.raw_events(origin, 0, 10**6)], WALL_MS)
        # events still waiting behind a gap are exchanged too
        target.ingest(raws, WALL_MS)
    assert (
        comparable(a.read.snapshot())
        == comparable(b.read.snapshot())
        == comparable(fold_events(events))
    )


@settings(max_examples=80, deadline=None)
@given(st.lists(bodies, min_size=1, max_size=200), st.randoms(use_true_random=False))
def test_bulk_append_in_order_matches_reference(items, rng):
    """The in-order fast path (whole batches folded in memory) against the reference."""
    store = Replica(connect(":memory:"), "S01")
    i = 0
    while i < len(items):
        size = rng.randint(1, 50)
        store.append(items[i : i + size], "u", wall_ms=1000 + i)
        i += size
    events = list(store.log.events("S01"))
    assert comparable(store.read.snapshot()) == comparable(fold_events(events))


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(), st.randoms(use_true_random=False))
def test_deferred_folding_shows_exactly_the_folded_prefixes(events, rng):
    """The hub stores first and folds later, in chunks, while more arrives (and a node
    folds inline after a backlog). After every step the derived state is the reference
    fold of each origin's first `folded` events, and once projected it is the whole fold."""
    replica = Replica(connect(":memory:"), "X")
    by_key = {(e.origin, e.seq): e for e in events}
    for batch in deliveries(events, rng):
        replica.ingest(batch, WALL_MS, fold=rng.random() < 0.3)
        if rng.random() < 0.5:
            replica.project(per_origin=rng.randint(1, 4))
        folded = replica.projector.folded()
        shown = [e for (o, s), e in by_key.items() if s <= folded.get(o, 0)]
        assert comparable(replica.read.snapshot()) == comparable(fold_events(shown))
        assert replica.projector.unfolded() == sum(
            head - folded.get(origin, 0) for origin, head in replica.log.heads().items()
        )
    while replica.project(per_origin=rng.randint(1, 5)):
        pass
    assert replica.projector.unfolded() == 0
    assert comparable(replica.read.snapshot()) == comparable(fold_events(events))


@settings(max_examples=60, deadline=None)
@given(st.lists(bodies, min_size=1, max_size=120), st.randoms(use_true_random=False))
def test_bulk_append_without_folding_then_projecting_matches_reference(items, rng):
    store = Replica(connect(":memory:"), "S01")
    i = 0
    while i < len(items):
        size = rng.randint(1, 40)
        store.append(items[i : i + size], "u", wall_ms=1000 + i, fold=rng.random() < 0.3)
        i += size
    while store.project(per_origin=rng.randint(1, 60)):
        pass
    events = list(store.log.events("S01"))
    assert comparable(store.read.snapshot()) == comparable(fold_events(events))


def hub_deliver(replica: Replica, batch: list[bytes]) -> int:
    """As hub ingest does: each origin's part of a delivery is one message, stored whole
    when it continues its origin's log, else through the general path."""
    by_origin: dict[str, list[bytes]] = defaultdict(list)
    for raw in batch:
        by_origin[codec.decode(raw).origin].append(raw)
    whole = 0
    with transaction(replica.conn):
        for origin, raws in by_origin.items():
            stored = replica.ingest_batch(origin, codec.encode_batch(raws), raws, WALL_MS)
            if stored:
                whole += 1
            else:
                replica.ingest(raws, WALL_MS, fold=False)
    return whole


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(), st.randoms(use_true_random=False), st.booleans())
def test_batches_stored_whole_fold_like_everything_else(events, rng, in_order):
    """Batches that continue their origin's log are kept whole until folded; any mix of
    those, the general path (gaps, resends, forgeries would take it), and projection in
    chunks shows exactly the folded prefixes, and ends as the reference fold with the log
    reading back every event, byte for byte, whichever form it is stored in."""
    replica = Replica(connect(":memory:"), "X")
    by_key = {(e.origin, e.seq): e for e in events}
    if in_order:  # a node syncing: consecutive runs of one origin at a time
        raws = [codec.encode(e) for e in sorted(events, key=lambda e: (e.origin, e.seq))]
        batches, i = [], 0
        while i < len(raws):
            size = rng.randint(1, 6)
            batches.append(raws[i : i + size])
            i += size
    else:
        batches = deliveries(events, rng)
    for batch in batches:
        hub_deliver(replica, batch)
        if rng.random() < 0.4:
            replica.project(per_origin=rng.randint(1, 4))
        folded = replica.projector.folded()
        shown = [e for (o, s), e in by_key.items() if s <= folded.get(o, 0)]
        assert comparable(replica.read.snapshot()) == comparable(fold_events(shown))
    while replica.project(per_origin=rng.randint(1, 5)):
        pass
    assert comparable(replica.read.snapshot()) == comparable(fold_events(events))
    stored = [
        (o, seq, raw)
        for o in replica.log.heads()
        for seq, raw in replica.log.raw_events(o, 0, limit=len(events) + 1)
    ]
    assert sorted((o, s) for o, s, _ in stored) == sorted(by_key)
    assert all(codec.decode(raw) == by_key[(o, s)] for o, s, raw in stored)
    assert sorted(replica.log.events(), key=lambda e: (e.origin, e.seq)) == sorted(
        events, key=lambda e: (e.origin, e.seq)
    )


def test_only_a_batch_that_continues_its_log_is_stored_whole():
    logs = {e.seq: codec.encode(e) for e in _chain("S01", 6)}
    replica = Replica(connect(":memory:"), "X")

    def whole(*seqs: int) -> bool:
        return hub_deliver(replica, [logs[s] for s in seqs]) == 1

    assert not whole(2, 3)  # a gap before it: waits, in rows
    assert not whole(1) and replica.log.head_seq("S01") == 3  # fills the gap: general path
    assert not whole(3)  # a resend
    assert whole(4, 5) and replica.log.head_seq("S01") == 5
    assert not whole(6, 6)  # twice in one batch
    assert replica.log.head_seq("S01") == 6 and replica.project(per_origin=None) == 6
    body = Movement(sku="A", qty=1, src="S01", dst="@customer")
    forged = Event(origin="S01", seq=7, hlc=2000 << 16, prev=b"\x07" * 16, user="u", body=body)
    logs[7] = codec.encode(forged)
    assert not whole(7) and replica.log.head_seq("S01") == 6
    assert replica.quarantine.rejected()[-1]["reason"] == "hash chain broken at S01:7"
    ahead = _chain("F1", 1, hlc_ms=WALL_MS + 3_600_000)
    logs[8] = codec.encode(ahead[0])
    assert not whole(8) and replica.quarantine.held()[0]["origin"] == "F1"


def _chain(origin: str, n: int, hlc_ms: int = 1000) -> list[Event]:
    events, prev = [], codec.GENESIS
    for seq in range(1, n + 1):
        body = Movement(sku="A", qty=1000, src="@supplier", dst="S01", unit_cost=100)
        hlc = (hlc_ms + seq) << 16
        event = Event(origin=origin, seq=seq, hlc=hlc, prev=prev, user="u", body=body)
        prev = codec.event_hash(codec.encode(event))
        events.append(event)
    return events


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(movements, movements, counts), min_size=0, max_size=40),
    st.sampled_from(REAL),
    st.sampled_from(SKUS),
    st.integers(0, 9000),
    st.randoms(use_true_random=False),
)
def test_a_count_without_a_lot_sets_the_total_whatever_the_lots(items, location, sku, qty, rng):
    """After a count of the product's total, the location's total is what was counted and
    no lot is below zero, however the lots stood, delivered whole or late."""
    store = Replica(connect(":memory:"), "S01")
    store.append(items, "u", wall_ms=1000)
    store.append([Count(location=location, sku=sku, qty=qty)], "u", wall_ms=2000)
    events = list(store.log.events("S01"))
    other = Replica(connect(":memory:"), "X")  # the same events in any order, in batches
    for batch in deliveries(events, rng):
        other.ingest(batch, WALL_MS)
    for replica in (store, other):
        rows = replica.read.stock(location=location, sku=sku)
        assert sum(r.qty for r in rows) == qty
        assert all(r.qty >= 0 for r in rows), rows
        assert comparable(replica.read.snapshot()) == comparable(fold_events(events))
