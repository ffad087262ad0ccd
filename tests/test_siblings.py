"""The tills of one store fold each other's logs: after all have synced, every till shows
the store's stock, lots, cost and documents, as the hub does.

Real nats-server and `kucun hub serve` (the fixtures of tests/conftest.py); the tills are
node ledgers synced in-process with `node.sync.sync_once`, the round `kucun node sync
--once` runs. Each till reads its location's logs through its own `sib-<node>` consumer.
"""

from __future__ import annotations

import asyncio
import random

import nats
import pytest

from hub.store import HubStore
from ledger.replica import Replica
from ledger.sqlite import connect
from node.service import Node
from node.sync import SyncSummary, sync_once
from protocol import codec, subjects
from protocol.events import Event, Movement
from protocol.fold import Snapshot, fold_events
from protocol.units import format_qty
from replication.clock import ManualClock
from replication.memory import MemoryBroker, MemoryTransport
from replication.pull import apply_sibling_logs, open_sibling_consumer
from replication.setup import ensure_streams
from tests.helpers import HubProcess, wait_until
from tests.sync_helpers import HOUR_MS, chain, days_ago_ms, fill


def till(tmp_path, node: str, location: str, url: str) -> Node:
    return Node.init(tmp_path / f"{node}.db", node, location, url)


def sync(*tills: Node) -> list[SyncSummary]:
    """One sync round of each till, all at the same time."""

    async def together() -> list[SyncSummary]:
        return list(await asyncio.gather(*(sync_once(t, confirm_timeout=20) for t in tills)))

    summaries = asyncio.run(together())
    assert all(s.unconfirmed == 0 for s in summaries), summaries
    return summaries


def stock(node: Node, location: str) -> list[tuple[str, str | None, str]]:
    return [(r.sku, r.lot, format_qty(r.qty)) for r in node.read.stock(location=location)]


def hub_stock(hub: HubProcess, location: str) -> list[tuple[str, str | None, str]]:
    return [(r["sku"], r["lot"], r["qty"]) for r in hub.stock(location=location)]


def wait_hub_has(hub: HubProcess, *tills: Node) -> None:
    for t in tills:
        node, head = t.config.node, t.store.log.head_seq(t.config.node)
        assert wait_until(lambda: hub.ingested(node) == head, timeout=30), node  # noqa: B023


def documents(node_or_hub) -> dict:
    """Every document of the replica with its derived status."""
    read = node_or_hub.read
    types = ("sale", "receipt", "count", "transfer", "purchase_order", "adjustment")
    return {doc: (origin, read.document(doc)) for doc, origin in read.document_origins(types)}


def at_location(snap: Snapshot, location: str) -> tuple:
    """The part of a fold that concerns `location`: stock by lot, cost, every journal row's
    level and cost state, count variances."""
    return (
        {k: v for k, v in snap.nonzero_stock().items() if k[0] == location},
        {k: v for k, v in snap.cost.items() if k[0] == location},
        {k: v for k, v in snap.levels_after.items() if k[0] == location},
        {k: v for k, v in snap.costs_after.items() if k[0] == location},
        {k: v for k, v in snap.variances.items() if k[0] == location},
        snap.lot_expiry,
    )


def all_events(*tills: Node) -> list[Event]:
    return [e for t in tills for e in t.store.log.events(t.config.node)]


@pytest.mark.slow
@pytest.mark.parametrize("first", ["till 1", "till 2"])
def test_a_sale_on_till_2_and_a_receipt_on_till_1_show_on_both(tmp_path, nats_server, hub, first):
    """The issue: till 1 receives 10, till 2 sells 3, both offline; once both have synced
    (either first) both show 7 at S01, and so does the hub."""
    t1 = till(tmp_path, "S01", "S01", nats_server.url)
    t2 = till(tmp_path, "S01-T2", "S01", nats_server.url)
    for t in (t1, t2):
        t.add_product("TEA", "绿茶 500ml", price="4.50")
    t1.receive("TEA", "10", cost="2.00")
    t2.sell("TEA", "3")
    assert stock(t2, "S01") == [("TEA", None, "-3.000")]  # what the issue saw

    a, b = (t1, t2) if first == "till 1" else (t2, t1)
    (first_round,) = sync(a)
    assert first_round.sibling_events == 0  # b has sent nothing yet
    (second,) = sync(b)
    assert second.sibling_events == a.store.log.head_seq(a.config.node)
    assert second.pulled_events >= second.sibling_events
    (third,) = sync(a)
    assert third.sibling_events == b.store.log.head_seq(b.config.node)

    expected = [("TEA", None, "7.000")]
    assert stock(t1, "S01") == stock(t2, "S01") == expected
    wait_hub_has(hub, t1, t2)
    assert hub_stock(hub, "S01") == expected
    assert t1.read.cost(location="S01") == t2.read.cost(location="S01")
    hub_db = HubStore(connect(hub.db)).events
    assert documents(t1) == documents(t2) == documents(hub_db)
    assert len(documents(t1)) == 2
    # nothing comes twice: a till's own log, delivered back by its consumer, is skipped
    (again,) = sync(t2)
    assert (again.pulled_events, again.sibling_events) == (0, 0)


def workload(node: Node, rng: random.Random, start_ms: int, events: int) -> None:
    """Sales, receipts at a cost and stock counts on one till, offline (sync_helpers.fill:
    the same bodies a till appends, with the clock given)."""
    fill(node, events, start_ms, HOUR_MS, seed=rng.randrange(2**32), skus=4, per_call=7)


ORDERS = {
    "one after another": [["T1"], ["T2"], ["T3"], ["T1"], ["T2"]],
    "reversed": [["T3"], ["T2"], ["T1"], ["T3"], ["T2"]],
    "all at once": [["T1", "T2", "T3"], ["T1", "T2", "T3"]],
}


@pytest.mark.slow
def test_three_tills_selling_counting_receiving_converge_in_any_sync_order(
    tmp_path, nats_server, hub
):
    """Three tills per store, each a seeded offline workload in two halves with syncs in
    between, synced in several orders (one store per order, on one hub). Afterwards every
    till and the hub hold the same stock, lots, cost, journal and documents at the store,
    equal to the reference fold of all three tills' logs; no store sees another's."""
    rng = random.Random(20261202)
    day = days_ago_ms(2) + 8 * HOUR_MS
    stores: dict[str, dict[str, Node]] = {}
    for n, rounds in enumerate(ORDERS.values()):
        location = f"S{n + 1:02d}"
        tills = {
            label: till(tmp_path, node, location, nats_server.url)
            for label, node in (
                ("T1", location),
                ("T2", f"{location}-T2"),
                ("T3", f"{location}-T3"),
            )
        }
        stores[location] = tills
        for t in tills.values():
            workload(t, rng, day, rng.randint(60, 120))
        sync(*(tills[label] for label in rounds[0]))  # part of the store has synced…
        for t in tills.values():  # …when everyone trades on
            workload(t, rng, day + HOUR_MS // 2, rng.randint(60, 120))
        for group in rounds:
            sync(*(tills[label] for label in group))

    hub_db = HubStore(connect(hub.db)).events
    for location, tills in stores.items():
        nodes = list(tills.values())
        wait_hub_has(hub, *nodes)
        reference = at_location(fold_events(all_events(*nodes)), location)
        assert reference[0], "the workload left no stock to compare"
        for t in nodes:
            assert at_location(t.read.snapshot(), location) == reference, t.config.node
            assert stock(t, location) == hub_stock(hub, location), t.config.node
            # the store's logs, and no other store's
            others = {o for o in t.store.log.heads() if not o.startswith("hub")}
            assert others == {n.config.node for n in nodes}, t.config.node
        assert at_location(hub_db.read.snapshot(), location) == reference, location
        store_docs = [documents(t) for t in nodes]
        assert store_docs[0] == store_docs[1] == store_docs[2]
        hub_docs = documents(hub_db)
        assert {d: hub_docs[d] for d in store_docs[0]} == store_docs[0]
    assert hub.get("/api/v1/rejected")[1]["items"] == []


@pytest.mark.slow
def test_a_till_of_another_store_receives_nothing_of_it(tmp_path, nats_server, hub):
    """S02 and S01 on one NATS: S01's movements reach the hub, not S02's till."""
    s01 = till(tmp_path, "S01", "S01", nats_server.url)
    s01_t2 = till(tmp_path, "S01-T2", "S01", nats_server.url)
    s02 = till(tmp_path, "S02", "S02", nats_server.url)
    for t in (s01, s01_t2, s02):
        t.add_product("TEA", "绿茶 500ml", price="4.50")
    s01.receive("TEA", "10")
    s01_t2.sell("TEA", "1")
    s02.receive("TEA", "4")
    sync(s01, s01_t2)
    (summary,) = sync(s02)
    assert summary.sibling_events == 0
    sync(s01, s01_t2, s02)
    assert set(s02.store.log.heads()) == {"S02"}
    assert stock(s02, "S01") == []
    assert stock(s02, "S02") == [("TEA", None, "4.000")]
    assert stock(s01_t2, "S01") == [("TEA", None, "9.000")]
    assert set(s01_t2.store.log.heads()) == {"S01", "S01-T2"}
    wait_hub_has(hub, s01, s01_t2, s02)
    assert hub_stock(hub, "S01") == [("TEA", None, "9.000")]
    # S02's consumer delivers its own store's subjects only
    assert subjects.location_events_filter("S02") == "kucun.ev.S02.*"


@pytest.mark.slow
def test_a_till_upgraded_from_the_older_subject_resends_its_log_where_siblings_read_it(
    tmp_path, nats_server, hub
):
    """Before the location was in the subject, S01 published on kucun.ev.S01 with msg-ids
    `S01:<first>-<last>`. After the upgrade its next sync, within the stream's duplicate
    window, re-sends the same batches on kucun.ev.S01.S01: they must be stored there (not
    dropped as duplicates of the old ones, which made the publisher retry for ever), so
    the hub takes them as duplicates and S01-T2 folds them."""
    s01 = till(tmp_path, "S01", "S01", nats_server.url)
    s01.add_product("TEA", "绿茶 500ml", price="4.50")
    s01.receive("TEA", "10")
    head = s01.store.log.head_seq("S01")
    raws = [raw for _, raw in s01.store.log.raw_events("S01", 0, head)]

    async def as_the_older_version() -> None:
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        await js.publish(
            "kucun.ev.S01", codec.encode_batch(raws), headers={"Nats-Msg-Id": f"S01:1-{head}"}
        )
        await nc.close()

    asyncio.run(as_the_older_version())
    assert wait_until(lambda: hub.ingested("S01") == head)  # the hub reads the older form

    async def upgraded() -> SyncSummary:
        return await asyncio.wait_for(sync_once(s01, confirm_timeout=20), 60)

    summary = asyncio.run(upgraded())
    assert (summary.sent_events, summary.unconfirmed) == (head, 0)
    t2 = till(tmp_path, "S01-T2", "S01", nats_server.url)
    (pulled,) = sync(t2)
    assert pulled.sibling_events == head
    assert stock(t2, "S01") == [("TEA", None, "10.000")]
    assert hub.get("/api/v1/rejected")[1]["items"] == []


def test_sibling_messages_that_are_not_the_subjects_nodes_are_rejected_and_acknowledged():
    """Over the in-memory broker: garbage, a forged event on a sibling's subject, a hub
    log on a node subject and another store's log are kept aside or never delivered; the
    node's own log is skipped; the valid batch after them is applied; nothing stays
    unacknowledged."""
    clock = ManualClock(days_ago_ms(1))
    broker = MemoryBroker(clock)
    net = MemoryTransport(broker)
    asyncio.run(ensure_streams(net))
    now = clock.wall_ms()
    receipt = Movement(sku="TEA", qty=10_000, src="@supplier", dst="S01")
    t2, t3 = chain("S01-T2", [receipt], now), chain("S01-T3", [receipt], now)
    own = chain("S01", [receipt], now)
    hub_gift = chain("hub-S01", [receipt], now)
    other_store = chain("S02", [Movement(sku="TEA", qty=1000, src="@supplier", dst="S02")], now)
    sent = [
        ("kucun.ev.S01.S01-T2", b"\x00 not a batch"),
        ("kucun.ev.S01.S01-T2", codec.encode_batch(t3)),  # T3's event on T2's subject
        ("kucun.ev.S01.hub-S01", codec.encode_batch(hub_gift)),
        ("kucun.ev.S02.S02", codec.encode_batch(other_store)),
        ("kucun.ev.S01.S01", codec.encode_batch(own)),
        ("kucun.ev.S01.S01-T2", codec.encode_batch(t2)),
    ]

    async def deliver() -> int:
        last: dict[str, int] = {}
        for n, (subject, data) in enumerate(sent):
            ack = await net.publish(
                subject,
                data,
                msg_id=str(n),
                expected_last_subject_seq=last.get(subject, 0),
                timeout=1,
            )
            last[subject] = ack.seq
        consumer = await open_sibling_consumer(net, "S01", "S01")
        assert consumer is not None
        return await apply_sibling_logs(replica, consumer, clock)

    replica = Replica(connect(":memory:"), "S01")
    assert asyncio.run(deliver()) == 1
    assert replica.log.heads() == {"S01-T2": 1}  # not its own log: only the node writes it
    assert [(r.sku, r.qty) for r in replica.read.stock(location="S01")] == [("TEA", 10_000)]
    assert sorted(r["origin"] for r in replica.quarantine.rejected()) == [
        "S01-T2",
        "S01-T2",
        "hub-S01",
    ]
    assert broker.unacknowledged(subjects.EVENTS_STREAM, subjects.sibling_consumer("S01")) == 0
