"""Consuming node events from JetStream into the hub's store.

A durable pull consumer hands out batches; each fetch is stored in one SQLite transaction
and acknowledged only after the commit, so a hub killed mid-batch gets the same messages
again and the idempotent store ignores what it already has. A message that cannot be
understood is kept in `rejected` with its reason and bytes, acknowledged, and ingest goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time

from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from hub.store import HubStore
from ledger.sqlite import transaction
from protocol import codec, subjects

log = logging.getLogger("kucun.hub.ingest")


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


async def ensure_streams(js: JetStreamContext) -> None:
    """Create the event and hub streams if missing (idempotent)."""
    for name, subject in (
        (subjects.EVENTS_STREAM, subjects.EVENTS_SUBJECTS),
        (subjects.HUB_STREAM, subjects.HUB_SUBJECTS),
    ):
        config = StreamConfig(
            name=name,
            subjects=[subject],
            storage=StorageType.FILE,
            duplicate_window=subjects.DUPLICATE_WINDOW_S,
        )
        try:
            await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(config)


def ingest_messages(store: HubStore, msgs: list) -> int:
    """Store one fetch's worth of messages in one transaction; return events applied."""
    with transaction(store.conn):
        return _ingest(store, msgs, wall_ms())


def _ingest(store: HubStore, msgs: list, now: int) -> int:
    raws: list[bytes] = []
    for msg in msgs:
        origin = subjects.origin_of_subject(msg.subject)
        try:
            batch = codec.decode_batch(msg.data)
            for raw in batch:
                event = codec.decode(raw)
                if event.origin != origin:
                    raise codec.BadEvent(f"event from {event.origin!r} arrived on {msg.subject!r}")
        except codec.BadEvent as exc:
            log.error("rejected message on %s: %s", msg.subject, exc)
            store.events.record_rejected(origin, None, str(exc), msg.data, now)
            continue
        raws.extend(batch)
    result = store.events.ingest_in_transaction(raws, now)
    for origin, seq, reason in result.rejected:
        log.error("rejected event %s:%s: %s", origin, seq, reason)
    return result.applied


async def run_ingest(
    store: HubStore, js: JetStreamContext, stop: asyncio.Event, batch: int = 256
) -> None:
    sub = await js.pull_subscribe(
        subjects.EVENTS_SUBJECTS,
        durable=subjects.HUB_INGEST_CONSUMER,
        stream=subjects.EVENTS_STREAM,
        config=ConsumerConfig(ack_wait=60, max_ack_pending=-1),
    )
    while not stop.is_set():
        try:
            msgs = await sub.fetch(batch=batch, timeout=1.0)
        except (TimeoutError, NatsTimeout):
            continue
        applied = ingest_messages(store, msgs)
        for msg in msgs:
            await msg.ack()
        if applied:
            log.info("ingested %d events from %d messages", applied, len(msgs))
