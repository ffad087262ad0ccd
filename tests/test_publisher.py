"""`replication.publisher.Publisher` against a real nats-server: exactly once, whatever is lost.

Small batches (`max_batch_bytes`) make a few thousand events many messages. Every test
ends by reading the node's subject raw: events 1..head, each exactly once, in order.
"""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js.errors import APIError

from ledger.replica import Replica
from ledger.sqlite import connect
from protocol import codec, subjects
from protocol.events import Movement
from replication.nats_transport import WRONG_LAST_SEQUENCE, NatsTransport
from replication.publisher import Publisher, batches
from replication.setup import ensure_streams
from replication.transport import StreamMissing
from tests.sync_helpers import assert_exactly_once, days_ago_ms, make_event, subject_batches

ORIGIN = "S01"
SUBJECT = subjects.events_subject(ORIGIN)
SMALL = 16 * 1024  # ~130 events a batch


def ledger(path, events: int, origin: str = ORIGIN) -> Replica:
    store = Replica(connect(path), origin)
    append(store, events)
    return store


def append(store: Replica, events: int) -> int:
    start = days_ago_ms(1) + store.log.head_seq(store.origin)
    for i in range(0, events, 5000):
        store.append(
            [
                Movement(
                    sku=f"P{(i + j) % 7}",
                    qty=1000,
                    src=store.origin,
                    dst="@customer",
                    unit_price=350,
                )
                for j in range(min(5000, events - i))
            ],
            "till",
            start + i,
        )
    return store.log.head_seq(store.origin)


@pytest.fixture
async def js(nats_server):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_streams(NatsTransport(js))
    yield js
    await nc.close()


async def exactly_once(js, head: int) -> list:
    held = await subject_batches(js, ORIGIN)
    assert assert_exactly_once(held, ORIGIN) == head
    return held


async def test_backlog_is_published_in_chained_batches(tmp_path, js):
    store = ledger(tmp_path / "n.db", 3000)
    publisher = Publisher(store, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL)
    seen: list[tuple[int, int]] = []
    assert await publisher.publish_backlog(lambda s, t: seen.append((s, t))) == 3000
    held = await exactly_once(js, 3000)
    assert len(held) > 10 and seen[-1] == (3000, 3000)
    assert publisher.state.published_seq == 3000
    assert publisher.state.stream_seq == held[-1].stream_seq
    assert await publisher.publish_backlog() == 0  # nothing new, nothing sent
    assert len(await exactly_once(js, 3000)) == len(held)


@pytest.mark.parametrize("lost", ["row deleted", "reset to zero", "stale hint", "in memory"])
async def test_losing_the_outbox_state_publishes_nothing_twice(tmp_path, js, lost):
    store = ledger(tmp_path / "n.db", 3000)
    first = Publisher(store, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL)
    await first.publish_backlog()
    if lost == "row deleted":
        store.conn.execute("DELETE FROM outbox")
    elif lost == "reset to zero":
        store.conn.execute("UPDATE outbox SET published_seq = 0, stream_seq = 0")
    elif lost == "stale hint":  # an older copy of the row, e.g. the ledger restored
        store.conn.execute("UPDATE outbox SET published_seq = 1200, stream_seq = 7")
    head = append(store, 700)
    if lost == "in memory":  # the same publisher, its idea of the stream out of date
        first.state.published_seq, first.state.stream_seq = 1500, 3
        publisher = first
    else:
        publisher = Publisher(store, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL)
    assert await publisher.publish_backlog() == 700
    await exactly_once(js, head)
    assert publisher.state.published_seq == head


@pytest.mark.parametrize("restarted", [False, True], ids=["same publisher", "after restart"])
@pytest.mark.parametrize("span", ["same batch", "shorter batch"])
async def test_a_stored_batch_whose_ack_was_lost_is_not_sent_again(tmp_path, js, restarted, span):
    """The server stored the next batch but the publisher never learnt it (ack lost, or
    the node killed right after): outbox unchanged, stream one batch ahead."""
    store = ledger(tmp_path / "n.db", 3000)
    publisher = Publisher(store, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL)
    await publisher.publish_backlog()
    head = append(store, 2000)
    before = (publisher.state.published_seq, publisher.state.stream_seq)
    rows = store.log.raw_events(ORIGIN, before[0], limit=20_000)
    batch = batches(rows, SMALL)[0]
    if span == "shorter batch":  # e.g. sent with another batch size before a restart
        batch = batch[:10]
    ack = await js.publish(
        SUBJECT,
        codec.encode_batch([raw for _, raw in batch]),
        headers={
            "Nats-Msg-Id": subjects.batch_msg_id(ORIGIN, batch[0][0], batch[-1][0]),
            "Nats-Expected-Last-Subject-Sequence": str(before[1]),
        },
    )
    assert not ack.duplicate
    assert (publisher.state.published_seq, publisher.state.stream_seq) == before
    if restarted:
        publisher = Publisher(store, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL)
    reconciled = publisher.reconciliations
    assert await publisher.publish_backlog() == head - batch[-1][0]
    assert publisher.reconciliations == reconciled + 1
    await exactly_once(js, head)


@pytest.mark.parametrize("fresh", [False, True], ids=["same publisher", "new publisher"])
async def test_stream_deleted_and_recreated_starts_again_from_zero(tmp_path, js, fresh):
    store = ledger(tmp_path / "n.db", 3000)
    publisher = Publisher(store, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL)
    await publisher.publish_backlog()
    await js.delete_stream(subjects.EVENTS_STREAM)
    head = append(store, 500)
    await ensure_streams(NatsTransport(js))  # the hub comes back with an empty stream
    if fresh:
        publisher = Publisher(store, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL)
    assert await publisher.publish_backlog() == head  # all of it again, from seq 1
    await exactly_once(js, head)


async def test_publishing_while_the_stream_is_missing_says_so(tmp_path, js):
    """The stream vanishes after the publisher reconciled (deleted, or NATS restarted on
    an empty directory): `publish_backlog` must raise StreamMissing, which `node sync`
    turns into "the hub has not created its streams yet". nats-py's `js.publish` raises
    `nats.js.errors.NoStreamResponseError`, which is not the `NoRespondersError` that
    `Publisher._publish` catches, so the raw nats-py error escapes instead."""
    store = ledger(tmp_path / "n.db", 3000)
    publisher = Publisher(store, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL)
    await publisher.publish_backlog()
    await js.delete_stream(subjects.EVENTS_STREAM)
    append(store, 500)
    with pytest.raises(StreamMissing):
        await publisher.publish_backlog()
    assert publisher.state.published_seq == 3000


async def test_expected_last_subject_sequence_refuses_out_of_order_publishes(tmp_path, js):
    store = ledger(tmp_path / "n.db", 30)
    raws = [raw for _, raw in store.log.raw_events(ORIGIN, 0)]

    async def publish(first: int, last: int, expected: int):
        return await js.publish(
            SUBJECT,
            codec.encode_batch(raws[first - 1 : last]),
            headers={
                "Nats-Msg-Id": subjects.batch_msg_id(ORIGIN, first, last),
                "Nats-Expected-Last-Subject-Sequence": str(expected),
            },
        )

    first = await publish(1, 10, 0)
    for expected in (0, first.seq - 1, first.seq + 1, first.seq + 1000):
        with pytest.raises(APIError) as refused:  # 21-30 must not land before 11-20
            await publish(21, 30, expected)
        assert refused.value.err_code == WRONG_LAST_SEQUENCE == 10071
    second = await publish(11, 20, first.seq)
    third = await publish(21, 30, second.seq)
    assert third.seq > second.seq > first.seq
    await exactly_once(js, 30)


async def test_two_publishers_of_one_log_race_without_duplicates(tmp_path, js):
    """Two processes on one ledger (a second `node sync` started by hand): the one that
    is behind is refused (wrong last sequence), reconciles and sends nothing twice."""
    store = ledger(tmp_path / "n.db", 3000)
    other = Replica(connect(tmp_path / "n.db"), ORIGIN)
    a = Publisher(store, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL)
    b = Publisher(
        other, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL // 2
    )  # other batch boundaries
    await a.reconcile()
    await b.reconcile()
    assert await a.publish_backlog() == 3000
    assert await b.publish_backlog() == 0
    assert b.reconciliations == 2
    head = append(store, 400)
    sent = await asyncio.gather(a.publish_backlog(), b.publish_backlog())
    assert sum(sent) >= 400
    await exactly_once(js, head)


async def test_publishes_that_time_out_after_being_stored_are_not_duplicated(tmp_path, js):
    """nats-py may time out a publish the server then stores: every timeout reconciles."""
    store = ledger(tmp_path / "n.db", 3000)
    publisher = Publisher(
        store, NatsTransport(js), ORIGIN, publish_timeout=0.0005, max_batch_bytes=SMALL
    )
    await asyncio.wait_for(publisher.publish_backlog(), 120)
    print(f"\n{publisher.reconciliations} reconciliations after timeouts")
    await exactly_once(js, 3000)
    assert publisher.state.published_seq == 3000


async def test_a_foreign_batch_on_the_subject_does_not_make_the_node_skip_events(tmp_path, js):
    """Something else (here a batch of S09's event, no Nats-Msg-Id) is the last message on
    kucun.ev.S01 when S01 first syncs. Reconcile must not take S09's seq for S01's:
    S01's events 1..n all reach the stream. (`Publisher._last_seq_in` decodes the last
    event of a message without a matching Nats-Msg-Id and returns its seq whatever its
    origin; the hub rejects the batch, and S01 skips its first event forever.)"""
    foreign = make_event(
        "S09",
        1,
        codec.GENESIS,
        days_ago_ms(1),
        Movement(sku="P0", qty=1000, src="@supplier", dst="S09"),
    )
    await js.publish(SUBJECT, codec.encode_batch([codec.encode(foreign)]))
    store = ledger(tmp_path / "n.db", 500)
    await Publisher(store, NatsTransport(js), ORIGIN, max_batch_bytes=SMALL).publish_backlog()
    ours = [b for b in await subject_batches(js, ORIGIN) if b.origins == {ORIGIN}]
    assert [s for b in ours for s in b.seqs] == list(range(1, 501))
