"""Consuming node events from JetStream into the hub's store, and confirming them.

A durable pull consumer hands out batches; each fetch is stored and chain-verified in one
SQLite transaction and acknowledged only after the commit, so a hub killed mid-batch gets
the same messages again and the idempotent store ignores what it already has. A message
that cannot be used is kept in `rejected` with its reason and bytes, acknowledged, and
ingest goes on. After each commit the hub publishes each changed origin's watermark — the
highest contiguous seq it has — which is what a node counts as safe. Folding the stored
events into stock, cost and documents (and routing the transfers they complete) is a
separate step, `project`, that follows as time allows (docs/architecture.md, "Hub ingest").
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import (
    ConsumerConfig,
    KeyValueConfig,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BucketNotFoundError, NotFoundError

from hub.routing import route_transfers
from hub.store import HubStore
from ledger.log import IngestResult
from ledger.sqlite import transaction
from ledger.streams import node_consumer_config
from protocol import codec, subjects
from protocol.events import Event, is_hub_origin

log = logging.getLogger("kucun.hub.ingest")

#: Messages per fetch (each ≤ 512 KiB): one fetch is folded in well under ACK_WAIT_S.
FETCH_BATCH = 16
#: How long a message fetched by a hub that then died waits before redelivery.
ACK_WAIT_S = 30
#: Events of one origin folded per projection transaction (about a quarter of a second).
PROJECT_CHUNK = 5000
#: During a backlog, fold a chunk at least this often, so reports never stall.
PROJECT_EVERY_S = 2.0


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


async def ensure_streams(js: JetStreamContext) -> None:
    """Create the event and hub streams and the watermark bucket if missing (idempotent)."""
    for name, subject in (
        (subjects.EVENTS_STREAM, subjects.EVENTS_SUBJECTS),
        (subjects.HUB_STREAM, subjects.HUB_SUBJECTS),
    ):
        try:
            await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=name,
                    subjects=[subject],
                    storage=StorageType.FILE,
                    duplicate_window=subjects.DUPLICATE_WINDOW_S,
                    allow_direct=True,
                )
            )
    try:
        await js.key_value(subjects.WATERMARK_BUCKET)
    except BucketNotFoundError:
        await js.create_key_value(
            KeyValueConfig(
                bucket=subjects.WATERMARK_BUCKET,
                history=1,
                storage=StorageType.FILE,
                direct=True,
            )
        )


async def ensure_node_consumers(
    js: JetStreamContext, store: HubStore, skip: set[str] | frozenset[str] = frozenset()
) -> set[str]:
    """Create each registered node's durable consumer: a node's credentials may read its
    consumer but not create one. Nodes in `skip` are known to have theirs; returns the
    nodes that now have one."""
    from hub.identities import nodes

    done: set[str] = set()
    for identity in nodes(store):
        if identity.node in skip:
            done.add(identity.node)
            continue
        durable = subjects.node_consumer(identity.node)
        try:
            await js.consumer_info(subjects.HUB_STREAM, durable)
        except NotFoundError:
            await js.add_consumer(
                subjects.HUB_STREAM, node_consumer_config(identity.node, identity.location)
            )
            log.info("created consumer %s for node %s", durable, identity.node)
        done.add(identity.node)
    return done


async def watch_node_consumers(
    js: JetStreamContext, store: HubStore, stop: asyncio.Event, interval: float = 2.0
) -> None:
    """Keep creating consumers for nodes registered while the hub runs (`kucun hub
    add-node` is another process): a new node can sync seconds after NATS is reloaded,
    with no hub restart."""
    known = await ensure_node_consumers(js, store)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            try:
                known = await ensure_node_consumers(js, store, known)
            except Exception as exc:  # a NATS hiccup: try again next round, keep ingesting
                log.warning("could not create node consumers: %s", exc)


#: errors that come from what a message carries, not from the hub's disk or database
_DATA_ERRORS = (OverflowError, ValueError, sqlite3.IntegrityError, sqlite3.InterfaceError)


def ingest_messages(store: HubStore, msgs: list) -> IngestResult:
    """Store one fetch's worth of messages in one transaction.

    Should a message the checks let through still fail to store, the fetch is redone one
    message per transaction and the failing message alone is dead-lettered: otherwise it
    would never be acknowledged and would block every message fetched with it, for ever.
    """
    try:
        return _ingest_together(store, msgs)
    except _DATA_ERRORS as exc:
        if len(msgs) == 1:
            return _dead_letter(store, msgs[0], exc)
        log.error("a fetch of %d messages failed (%s); storing them one by one", len(msgs), exc)
        total = IngestResult()
        for msg in msgs:
            total.add(ingest_messages(store, [msg]))
        return total


def _ingest_together(store: HubStore, msgs: list) -> IngestResult:
    now = wall_ms()
    with transaction(store.conn):
        pairs: list[tuple[bytes, Event]] = []
        appended = 0
        for msg in msgs:
            origin = subjects.origin_of_subject(msg.subject)
            try:
                if origin is not None and is_hub_origin(origin):
                    raise codec.BadEvent(f"{origin!r} is the hub's own log: no node may send it")
                raws = codec.decode_batch(msg.data)
                simple = (
                    store.events.ingest_batch(origin, msg.data, raws, now)
                    if origin is not None
                    else None
                )
                if simple:  # the common case: it continues its origin's log, stored whole
                    appended += simple.applied
                    store.tables.note_ingest(origin, now)
                    continue
                batch = [(raw, codec.decode(raw)) for raw in raws]
                for _, event in batch:
                    if event.origin != origin:
                        raise codec.BadEvent(
                            f"event from {event.origin!r} arrived on {msg.subject!r}"
                        )
            except codec.BadEvent as exc:
                log.error("rejected message on %s: %s", msg.subject, exc)
                store.events.quarantine.reject(origin, None, str(exc), msg.data, now)
                continue
            pairs.extend(batch)
            store.tables.note_ingest(origin, now)
        result = store.events.ingest_decoded(pairs, now, fold=False)
        result.applied += appended
    for origin, seq, reason in result.rejected:
        log.error("rejected event %s:%s: %s", origin, seq, reason)
    for origin, seq, reason in result.held:
        log.warning("holding %s:%s: %s", origin, seq, reason)
    return result


def _dead_letter(store: HubStore, msg, exc: Exception) -> IngestResult:
    origin = subjects.origin_of_subject(msg.subject)
    reason = f"could not be stored: {type(exc).__name__}: {exc}"
    log.error("rejected message on %s: %s", msg.subject, reason)
    with transaction(store.conn):
        store.events.quarantine.reject(origin, None, reason, msg.data, wall_ms())
    return IngestResult(rejected=[(origin, None, reason)])


class Watermarks:
    """Publishes each origin's ingested seq when it changes."""

    def __init__(self, js: JetStreamContext, store: HubStore) -> None:
        self.js = js
        self.store = store
        self.sent: dict[str, int] = {}

    async def publish_changed(self) -> None:
        kv = await self.js.key_value(subjects.WATERMARK_BUCKET)
        for origin, seq in self.store.events.log.heads().items():
            if self.sent.get(origin) != seq and not is_hub_origin(origin):
                await kv.put(origin, str(seq).encode())
                self.sent[origin] = seq


def project(store: HubStore, per_origin: int | None = PROJECT_CHUNK) -> int:
    """Fold a chunk of what ingest stored into stock, cost and documents, and route the
    transfers it completes, in one transaction; return how many events were folded.

    Should a chunk fail to store (a sum beyond 64 bits, say), it is redone one event per
    transaction and the failing event alone is set aside as ignored, with the reason."""
    try:
        return _project(store, per_origin)
    except _DATA_ERRORS as exc:
        log.error("folding a chunk failed (%s); folding one event at a time", exc)
    folded = 0
    for origin, done, head in store.events.projector.unfolded_spans():
        for _ in range(min(head - done, per_origin or head)):
            try:
                folded += _project(store, 1, only=origin)
            except _DATA_ERRORS as exc:
                reason = f"cannot be folded: {type(exc).__name__}: {exc}"
                with transaction(store.conn):
                    seq = store.events.projector.set_aside_unfoldable(origin, reason)
                log.error("ignoring %s:%s: %s", origin, seq, reason)
    return folded


def _project(store: HubStore, per_origin: int | None, only: str | None = None) -> int:
    with transaction(store.conn):
        folded = store.events.project(per_origin, only)
        if folded:
            route_transfers(store.events, store.tables, wall_ms())
    return folded


async def run_ingest(
    store: HubStore,
    js: JetStreamContext,
    stop: asyncio.Event,
    on_ingested=None,
    batch: int = FETCH_BATCH,
) -> None:
    """Take node events in and confirm them first; fold them into reports as time allows.

    A node counts an event safe once it is stored and verified here, so a backlog is
    confirmed at the speed of storing, not of folding. Folding runs whenever no message
    waits, and at least every PROJECT_EVERY_S during a long backlog, so reports lag by
    seconds in normal trading and catch up after a flood (`unfolded` in /healthz).
    """
    sub = await js.pull_subscribe(
        subjects.EVENTS_SUBJECTS,
        durable=subjects.HUB_INGEST_CONSUMER,
        stream=subjects.EVENTS_STREAM,
        config=ConsumerConfig(ack_wait=ACK_WAIT_S, max_ack_pending=-1),
    )
    watermarks = Watermarks(js, store)
    await watermarks.publish_changed()
    behind = store.events.projector.unfolded() > 0
    last_projection = time.monotonic()

    def fold_some() -> None:
        nonlocal behind, last_projection
        if project(store) and on_ingested:
            on_ingested()
        behind = store.events.projector.unfolded() > 0
        last_projection = time.monotonic()

    while not stop.is_set():
        try:
            msgs = await sub.fetch(batch=batch, timeout=0.05 if behind else 1.0)
        except (TimeoutError, NatsTimeout):
            if store.events.quarantine.held():
                store.events.release_held(wall_ms(), fold=False)
                await watermarks.publish_changed()
            behind = behind or store.events.projector.unfolded() > 0
            if behind:
                fold_some()
            continue
        result = ingest_messages(store, msgs)
        for msg in msgs:
            await msg.ack()
        await watermarks.publish_changed()
        if result.applied:
            log.info("ingested %d events from %d messages", result.applied, len(msgs))
            behind = True
        if behind and time.monotonic() - last_projection >= PROJECT_EVERY_S:
            fold_some()
