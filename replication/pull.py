"""A node's side of the hub's logs: applying them through its durable consumer, and
reading what the hub has confirmed of the node's own log (its watermark).

An event is *safe* only when the hub's watermark (the highest contiguous seq it has
stored for this origin) covers it; a stream ack only means the stream has it.
"""

from __future__ import annotations

import logging

from ledger.outbox import Outbox, OutboxState
from ledger.replica import Replica
from protocol import codec, subjects
from replication.clock import SYSTEM_CLOCK, Clock
from replication.setup import node_consumer
from replication.transport import Consuming, KeyValue, PullConsumer, StreamMissing

log = logging.getLogger("kucun.replication.pull")

#: Messages per fetch of hub logs, and how long an empty fetch waits for one.
PULL_BATCH = 64
PULL_TIMEOUT_S = 0.5


async def open_hub_consumer(transport: Consuming, node: str, location: str) -> PullConsumer | None:
    """The node's consumer on the hub stream, created if missing and allowed; None while
    the hub stream does not exist. A refused creation (a node with credentials whose
    consumer the hub has not made yet) surfaces as the broker's timeout."""
    spec = node_consumer(node, location)
    try:
        await transport.ensure_consumer(spec)
    except StreamMissing:
        log.warning("hub stream %s not found; nothing to pull yet", spec.stream)
        return None
    return await transport.pull_consumer(spec)


async def apply_hub_logs(
    replica: Replica,
    consumer: PullConsumer,
    clock: Clock = SYSTEM_CLOCK,
    batch: int = PULL_BATCH,
    timeout: float = PULL_TIMEOUT_S,
) -> int:
    """Apply hub events until none are waiting: one unit of work per fetch, acknowledged
    after it commits (a redelivery is ignored by the idempotent log). Returns events
    applied."""
    applied = 0
    while True:
        msgs = await consumer.fetch(batch, timeout)
        if not msgs:
            return applied
        raws: list[bytes] = []
        for msg in msgs:
            try:
                raws.extend(codec.decode_batch(msg.data))
            except codec.BadEvent as exc:
                log.error("ignoring malformed hub message on %s: %s", msg.subject, exc)
        result = replica.ingest(raws, clock.wall_ms())
        for problem in result.rejected:
            log.error("hub event rejected: %s", problem)
        for msg in msgs:
            await msg.ack()
        applied += result.applied


async def read_watermark(kv: KeyValue, origin: str) -> int | None:
    """How much of `origin`'s log the hub has stored and verified; None if unknown."""
    data = await kv.kv_get(subjects.WATERMARK_BUCKET, origin)
    if data is None:
        return None
    try:
        return int((data or b"0").decode())
    except ValueError:
        log.error("malformed watermark for %s: %r", origin, data)
        return None


def record_safe(
    replica: Replica,
    origin: str,
    state: OutboxState,
    safe: int | None,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Remember the hub's confirmation in the outbox, so a restarted node shows it."""
    if safe is not None and safe != state.safe_seq:
        state.safe_seq = safe
        state.last_safe_ms = clock.wall_ms()
        Outbox(replica.conn).save(origin, state)
