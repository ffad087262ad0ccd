"""A node's side of others' logs: applying the hub's and its siblings' (the other nodes of
its location) through its two durable consumers, and reading what the hub has confirmed of
the node's own log (its watermark).

An event is *safe* only when the hub's watermark (the highest contiguous seq it has
stored for this origin) covers it; a stream ack only means the stream has it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import NamedTuple

from ledger.log import IngestResult
from ledger.outbox import Outbox, OutboxState
from ledger.replica import Replica
from protocol import codec, subjects
from protocol.events import Event, is_hub_origin
from replication.clock import SYSTEM_CLOCK, Clock
from replication.setup import node_consumer, sibling_consumer
from replication.transport import (
    ConsumerSpec,
    Consuming,
    KeyValue,
    Message,
    PullConsumer,
    StreamMissing,
)

log = logging.getLogger("kucun.replication.pull")

#: Messages per fetch of hub logs, and how long an empty fetch waits for one. Messages
#: already in the stream come at once (the first pull request does not wait); the wait only
#: catches what arrives during it, and every sync round ends with one empty fetch per
#: consumer, so a short wait is a faster round (0.2 s rather than 0.5 s, twice a round).
PULL_BATCH = 64
PULL_TIMEOUT_S = 0.2


async def open_consumer(transport: Consuming, spec: ConsumerSpec) -> PullConsumer | None:
    """A node's consumer, created if missing and allowed; None while its stream does not
    exist. A refused creation (a node with credentials whose consumer the hub has not
    made yet) surfaces as the broker's timeout."""
    try:
        await transport.ensure_consumer(spec)
    except StreamMissing:
        log.warning("stream %s not found; nothing to pull yet", spec.stream)
        return None
    return await transport.pull_consumer(spec)


async def open_hub_consumer(transport: Consuming, node: str, location: str) -> PullConsumer | None:
    """The node's consumer on the hub stream (see `open_consumer`)."""
    return await open_consumer(transport, node_consumer(node, location))


async def open_sibling_consumer(
    transport: Consuming, node: str, location: str
) -> PullConsumer | None:
    """The node's consumer on its location's logs in the events stream."""
    return await open_consumer(transport, sibling_consumer(node, location))


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

    def store(msgs: list[Message]) -> IngestResult:
        raws: list[bytes] = []
        for msg in msgs:
            try:
                raws.extend(codec.decode_batch(msg.data))
            except codec.BadEvent as exc:
                log.error("ignoring malformed hub message on %s: %s", msg.subject, exc)
        return replica.ingest(raws, clock.wall_ms())

    return await _apply_until_empty(consumer, batch, timeout, store, "hub")


async def apply_sibling_logs(
    replica: Replica,
    consumer: PullConsumer,
    clock: Clock = SYSTEM_CLOCK,
    batch: int = PULL_BATCH,
    timeout: float = PULL_TIMEOUT_S,
) -> int:
    """Apply the other nodes' logs of this location, like `apply_hub_logs`: one unit of
    work per fetch (chain-verified, idempotent, folded), acknowledged after it commits.

    The node's own log comes back too and is skipped: only the node writes its log. A
    message whose events do not decode or are not the subject's node's (the hub's rule) is
    kept in `rejected` and acknowledged; the loop goes on. Returns events applied."""

    def store(msgs: list[Message]) -> IngestResult:
        now = clock.wall_ms()
        with replica.work():
            pairs: list[tuple[bytes, Event]] = []
            for msg in msgs:
                origin = subjects.origin_of_subject(msg.subject)
                if origin == replica.origin:
                    continue
                try:
                    pairs.extend(_sibling_events(origin, msg))
                except codec.BadEvent as exc:
                    log.error("rejected sibling message on %s: %s", msg.subject, exc)
                    replica.quarantine.reject(origin, None, str(exc), msg.data, now)
            return replica.ingest_decoded(pairs, now)

    return await _apply_until_empty(consumer, batch, timeout, store, "sibling")


async def _apply_until_empty(
    consumer: PullConsumer,
    batch: int,
    timeout: float,
    store: Callable[[list[Message]], IngestResult],
    what: str,
) -> int:
    """Fetch, store (one unit of work), then acknowledge, until a fetch comes back empty:
    a message is acknowledged only once what it carried is committed."""
    applied = 0
    while True:
        msgs = await consumer.fetch(batch, timeout)
        if not msgs:
            return applied
        result = store(list(msgs))
        for problem in result.rejected:
            log.error("%s event rejected: %s", what, problem)
        for msg in msgs:
            await msg.ack()
        applied += result.applied


def _sibling_events(origin: str | None, msg: Message) -> Sequence[tuple[bytes, Event]]:
    """A sibling message's events, all of its subject's node; BadEvent otherwise."""
    if origin is None or is_hub_origin(origin):
        raise codec.BadEvent(f"{msg.subject!r} is not a node's log")
    out = []
    for raw in codec.decode_batch(msg.data):
        event = codec.decode(raw)
        if event.origin != origin:
            raise codec.BadEvent(f"event from {event.origin!r} arrived on {msg.subject!r}")
        out.append((raw, event))
    return out


class Watermark(NamedTuple):
    """What the hub confirms of an origin: its verified head seq and the hash of the event
    there (None in the older plain form), so a node can tell its copy of that event is
    the one the hub holds."""

    seq: int
    hash: bytes | None = None

    def encode(self) -> bytes:
        """`<seq>:<hex of the hash>`, or the plain `<seq>` without a hash."""
        text = str(self.seq) if self.hash is None else f"{self.seq}:{self.hash.hex()}"
        return text.encode()

    @classmethod
    def decode(cls, data: bytes) -> Watermark:
        """Both forms; ValueError for anything else."""
        seq, _, digest = (data or b"0").decode().partition(":")
        return cls(int(seq), bytes.fromhex(digest) if digest else None)


async def read_watermark(kv: KeyValue, origin: str) -> Watermark | None:
    """How much of `origin`'s log the hub has stored and verified, and the hash of its
    event there; None if unknown."""
    data = await kv.kv_get(subjects.WATERMARK_BUCKET, origin)
    if data is None:
        return None
    try:
        return Watermark.decode(data)
    except ValueError:
        log.error("malformed watermark for %s: %r", origin, data)
        return None


def record_safe(
    replica: Replica,
    origin: str,
    state: OutboxState,
    safe: Watermark | None,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Remember the hub's confirmation in the outbox, so a restarted node shows it. Never
    more than this ledger holds: a watermark beyond its head confirms another ledger's
    events (the caller refuses to sync on that), not these."""
    if safe is None:
        return
    seq = min(safe.seq, replica.log.head_seq(origin))
    if seq != state.safe_seq:
        state.safe_seq = seq
        state.last_safe_ms = clock.wall_ms()
        Outbox(replica.conn).save(origin, state)
