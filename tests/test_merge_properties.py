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

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.sqlite import connect
from ledger.store import EventStore
from protocol import codec
from protocol.events import Count, Event, Movement, Upsert
from protocol.fold import fold_events

ORIGINS = ["S01", "S01-T2", "W01", "hub"]
REAL = ["S01", "W01"]
PLACES = [*REAL, "@supplier", "@customer", "@transit", "@scrap"]
SKUS = ["A", "B"]
LOTS = [None, "L1"]
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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(), st.randoms(use_true_random=False))
def test_replicas_converge_under_any_delivery(events, rng):
    reference = fold_events(events)
    assert_conserved(reference.stock)
    finals = []
    for _ in range(3):
        replica = EventStore(connect(":memory:"), "X")
        received: list[Event] = []
        for batch in deliveries(events, rng):
            replica.ingest(batch, WALL_MS)
            received += [codec.decode(raw) for raw in batch]
            assert comparable(replica.snapshot()) == comparable(fold_events(received))
        finals.append(comparable(replica.snapshot()))
        again = [codec.encode(e) for e in events]
        assert replica.ingest(again, WALL_MS).applied == 0  # idempotent
        assert comparable(replica.snapshot()) == finals[-1]
        assert_conserved(replica.snapshot().stock)
    assert finals[0] == finals[1] == finals[2] == comparable(reference)


@settings(max_examples=60, deadline=None)
@given(event_logs(), st.randoms(use_true_random=False))
def test_partitioned_replicas_converge_after_exchange(events, rng):
    """Two replicas each see part of the events, then sync with each other."""
    a = EventStore(connect(":memory:"), "A")
    b = EventStore(connect(":memory:"), "B")
    raws = [codec.encode(e) for e in events]
    for raw in raws:
        rng.choice([a, b]).ingest([raw], WALL_MS)
    for source, target in ((a, b), (b, a)):
        for origin in source.heads():
            target.ingest([r for _, r in source.raw_events(origin, 0, 10**6)], WALL_MS)
        # events still waiting behind a gap are exchanged too
        target.ingest(raws, WALL_MS)
    assert comparable(a.snapshot()) == comparable(b.snapshot()) == comparable(fold_events(events))


@settings(max_examples=80, deadline=None)
@given(st.lists(bodies, min_size=1, max_size=200), st.randoms(use_true_random=False))
def test_bulk_append_in_order_matches_reference(items, rng):
    """The in-order fast path (whole batches folded in memory) against the reference."""
    store = EventStore(connect(":memory:"), "S01")
    i = 0
    while i < len(items):
        size = rng.randint(1, 50)
        store.append(items[i : i + size], "u", wall_ms=1000 + i)
        i += size
    events = list(store.events("S01"))
    assert comparable(store.snapshot()) == comparable(fold_events(events))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_logs(), st.randoms(use_true_random=False))
def test_deferred_folding_shows_exactly_the_folded_prefixes(events, rng):
    """The hub stores first and folds later, in chunks, while more arrives (and a node
    folds inline after a backlog). After every step the derived state is the reference
    fold of each origin's first `folded` events, and once projected it is the whole fold."""
    replica = EventStore(connect(":memory:"), "X")
    by_key = {(e.origin, e.seq): e for e in events}
    for batch in deliveries(events, rng):
        replica.ingest(batch, WALL_MS, fold=rng.random() < 0.3)
        if rng.random() < 0.5:
            replica.project(per_origin=rng.randint(1, 4))
        folded = replica.folded()
        shown = [e for (o, s), e in by_key.items() if s <= folded.get(o, 0)]
        assert comparable(replica.snapshot()) == comparable(fold_events(shown))
        assert replica.unfolded() == sum(
            head - folded.get(origin, 0) for origin, head in replica.heads().items()
        )
    while replica.project(per_origin=rng.randint(1, 5)):
        pass
    assert replica.unfolded() == 0
    assert comparable(replica.snapshot()) == comparable(fold_events(events))


@settings(max_examples=60, deadline=None)
@given(st.lists(bodies, min_size=1, max_size=120), st.randoms(use_true_random=False))
def test_bulk_append_without_folding_then_projecting_matches_reference(items, rng):
    store = EventStore(connect(":memory:"), "S01")
    i = 0
    while i < len(items):
        size = rng.randint(1, 40)
        store.append(items[i : i + size], "u", wall_ms=1000 + i, fold=rng.random() < 0.3)
        i += size
    while store.project(per_origin=rng.randint(1, 60)):
        pass
    events = list(store.events("S01"))
    assert comparable(store.snapshot()) == comparable(fold_events(events))
