"""The hub's side of the node logs: store what arrives, confirm it, fold it later.

A durable pull consumer hands out batches; each fetch is stored and chain-verified in one
unit of work and acknowledged only after the commit, so a hub killed mid-batch gets the
same messages again and the idempotent log ignores what it already has. A message that
cannot be used is kept in quarantine with its reason and bytes, acknowledged, and ingest
goes on. After each commit the hub puts each changed origin's watermark — the highest
contiguous seq it has and the hash of its event there — which is what a node counts as
safe, and against which it checks its own copy. Folding the stored events
(and whatever the hub does after a projection, such as routing transfers) is a separate
step, `project`, that follows as time allows (docs/architecture.md, "Hub ingest").

Nothing of the hub is imported: it hands in its replica, its tables and its own steps.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from ledger.hub_tables import HubTables
from ledger.log import IngestResult
from ledger.replica import Replica
from protocol import codec, subjects
from protocol.events import Event, is_hub_origin
from replication.clock import SYSTEM_CLOCK, Clock
from replication.publisher import NOTICES_STREAM, NOTICES_SUBJECTS, origin_of_notice
from replication.pull import Watermark
from replication.setup import HUB_INGEST
from replication.transport import (
    ConsumerSpec,
    KeyValue,
    Message,
    PullConsumer,
    Setup,
    StreamSpec,
    TransportError,
)

log = logging.getLogger("kucun.hub.ingest")

#: Messages per fetch (each ≤ 512 KiB): one fetch is stored in well under the ack wait.
FETCH_BATCH = 16
#: Events of one origin folded per projection unit during a flood (about 0.1 s).
PROJECT_CHUNK = 5000
#: ... and when no message waits: bigger units fold faster (fewer commits, each key's
#: journal tail written once per chunk), about half a second each.
PROJECT_IDLE_CHUNK = 20_000
#: During a backlog, fold a chunk at least this often, so reports never stall.
PROJECT_EVERY_S = 2.0

#: The hub's step after each projection, in its unit of work: (replica, tables, wall_ms).
AfterProjection = Callable[[Replica, HubTables, int], object]

T = TypeVar("T")


class Offload(Protocol):
    """Runs a piece of SQLite work and returns its answer: the hub runs it on a thread
    of its own (its replica's connection is used there only), so storing and folding never
    stall the event loop; by default it runs at once, in the caller."""

    def __call__(self, work: Callable[[], T], /) -> Awaitable[T]: ...


async def inline(work: Callable[[], T]) -> T:
    return work()


class IngestTransport(Setup, KeyValue, Protocol):
    """What the ingest loop needs of a connection."""


#: Notices of ledgers that refuse to sync (an id claimed twice), and the hub's consumer.
NOTICES = StreamSpec(NOTICES_STREAM, (NOTICES_SUBJECTS,), subjects.DUPLICATE_WINDOW_S)
HUB_NOTICES = ConsumerSpec(
    stream=NOTICES_STREAM, durable="hub-notices", filter_subjects=(NOTICES_SUBJECTS,), ack_wait_s=30
)
#: How often the loop looks for notices (they are rare; a few seconds late is fine).
NOTICES_EVERY_S = 1.0


#: errors that come from what a message carries, not from the hub's disk or database
_DATA_ERRORS = (OverflowError, ValueError, sqlite3.IntegrityError, sqlite3.InterfaceError)


def ingest_messages(
    replica: Replica,
    tables: HubTables,
    msgs: Sequence[Message],
    clock: Clock = SYSTEM_CLOCK,
) -> IngestResult:
    """Store one fetch's worth of messages in one unit of work.

    Should a message the checks let through still fail to store, the fetch is redone one
    message per unit and the failing message alone is dead-lettered: otherwise it would
    never be acknowledged and would block every message fetched with it, for ever.
    """
    try:
        return _ingest_together(replica, tables, msgs, clock)
    except _DATA_ERRORS as exc:
        if len(msgs) == 1:
            return _dead_letter(replica, msgs[0], exc, clock)
        log.error("a fetch of %d messages failed (%s); storing them one by one", len(msgs), exc)
        total = IngestResult()
        for msg in msgs:
            total.add(ingest_messages(replica, tables, [msg], clock))
        return total


def _ingest_together(
    replica: Replica, tables: HubTables, msgs: Sequence[Message], clock: Clock
) -> IngestResult:
    now = clock.wall_ms()
    with replica.work():
        pairs: list[tuple[bytes, Event]] = []
        appended = 0
        for msg in msgs:
            origin = subjects.origin_of_subject(msg.subject)
            try:
                if origin is not None and is_hub_origin(origin):
                    raise codec.BadEvent(f"{origin!r} is the hub's own log: no node may send it")
                raws = codec.decode_batch(msg.data)
                # the common case: it continues its origin's log, stored whole
                if origin is not None and (
                    simple := replica.ingest_batch(origin, msg.data, raws, now)
                ):
                    appended += simple.applied
                    tables.note_ingest(origin, now)
                    continue
                batch = [(raw, codec.decode(raw)) for raw in raws]
                for _, event in batch:
                    if event.origin != origin:
                        raise codec.BadEvent(
                            f"event from {event.origin!r} arrived on {msg.subject!r}"
                        )
            except codec.BadEvent as exc:
                log.error("rejected message on %s: %s", msg.subject, exc)
                replica.quarantine.reject(origin, None, str(exc), msg.data, now)
                continue
            pairs.extend(batch)
            # origin is None here only for an empty batch on a malformed subject
            tables.note_ingest(origin, now)  # pyright: ignore[reportArgumentType]
        result = replica.ingest_decoded(pairs, now, fold=False)
        result.applied += appended
    for origin, seq, reason in result.rejected:
        log.error("rejected event %s:%s: %s", origin, seq, reason)
    for origin, seq, reason in result.held:
        log.warning("holding %s:%s: %s", origin, seq, reason)
    return result


def _dead_letter(replica: Replica, msg: Message, exc: Exception, clock: Clock) -> IngestResult:
    origin = subjects.origin_of_subject(msg.subject)
    reason = f"could not be stored: {type(exc).__name__}: {exc}"
    log.error("rejected message on %s: %s", msg.subject, reason)
    with replica.work():
        quarantined = replica.quarantine.reject(origin, None, reason, msg.data, clock.wall_ms())
    return IngestResult(rejected=[quarantined])


class Watermarks:
    """Puts each origin's verified head — seq and the hash of that event — in the
    watermark bucket when it changes: a node compares the hash with its own copy, so an
    edited synced event (the newest included) or a second ledger on its id shows."""

    def __init__(self, kv: KeyValue, replica: Replica, offload: Offload = inline) -> None:
        self.kv = kv
        self.replica = replica
        self.offload = offload
        self.sent: dict[str, int] = {}

    def changed(self) -> list[tuple[str, int, bytes]]:
        """(origin, seq, watermark) of every node log whose head moved since it was put."""
        marks = []
        for origin, seq in self.replica.log.heads().items():
            if self.sent.get(origin) != seq and not is_hub_origin(origin):
                _, digest = self.replica.log.head(origin)
                marks.append((origin, seq, Watermark(seq, digest).encode()))
        return marks

    async def publish_changed(self) -> None:
        for origin, seq, mark in await self.offload(self.changed):
            await self.kv.kv_put(subjects.WATERMARK_BUCKET, origin, mark)
            self.sent[origin] = seq


def note_notices(tables: HubTables, replica: Replica, msgs: Sequence[Message], now: int) -> int:
    """Keep what refusing ledgers reported, per node id (the subject names it: a node may
    only publish its own); returns how many were kept."""
    kept = 0
    with replica.work():
        for msg in msgs:
            origin = origin_of_notice(msg.subject)
            try:
                reason = str(json.loads(msg.data)["reason"])[:500]
            except (ValueError, KeyError, TypeError):
                reason = ""
            if origin is None or not reason:
                log.error("ignoring malformed notice on %s", msg.subject)
                continue
            log.warning("node %s: a ledger refuses to sync: %s", origin, reason)
            tables.note_conflict(origin, reason, now)
            kept += 1
    return kept


def project(
    replica: Replica,
    tables: HubTables,
    per_origin: int | None = PROJECT_CHUNK,
    after_projection: AfterProjection | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Fold a chunk of what ingest stored into stock, cost and documents, then run
    `after_projection` (the hub routes the transfers it completes); return how many events
    were folded.

    Folding commits without an fsync (it writes only what the log can rebuild); the step
    after it may write the hub's log, so it runs in its own durable unit. A crash between
    the two loses nothing: `after_projection` is idempotent and runs again after the next
    fold (and when ingest starts).

    Should a chunk fail to store (a sum beyond 64 bits, say), it is redone one event per
    unit and the failing event alone is set aside as ignored, with the reason."""
    try:
        return _project(replica, tables, per_origin, after_projection, clock)
    except _DATA_ERRORS as exc:
        log.error("folding a chunk failed (%s); folding one event at a time", exc)
    folded = 0
    for origin, done, head in replica.projector.unfolded_spans():
        for _ in range(min(head - done, per_origin or head)):
            try:
                folded += _project(replica, tables, 1, after_projection, clock, only=origin)
            except _DATA_ERRORS as exc:
                reason = f"cannot be folded: {type(exc).__name__}: {exc}"
                with replica.work():
                    seq = replica.projector.set_aside_unfoldable(origin, reason)
                log.error("ignoring %s:%s: %s", origin, seq, reason)
    return folded


def _project(
    replica: Replica,
    tables: HubTables,
    per_origin: int | None,
    after_projection: AfterProjection | None,
    clock: Clock,
    only: str | None = None,
) -> int:
    folded = replica.project(per_origin, only)
    if folded and after_projection is not None:
        with replica.work():
            after_projection(replica, tables, clock.wall_ms())
    return folded


class IngestLoop:
    """One hub's ingest, a round at a time: `run_ingest` turns it; a simulation steps it.

    A node counts an event safe once it is stored and verified here, so a backlog is
    confirmed at the speed of storing, not of folding. Folding runs whenever no message
    waits, and at least every PROJECT_EVERY_S during a long backlog, so reports lag by
    seconds in normal trading and catch up after a flood (`unfolded` in /healthz).
    """

    def __init__(
        self,
        replica: Replica,
        tables: HubTables,
        consumer: PullConsumer,
        kv: KeyValue,
        after_projection: AfterProjection | None = None,
        on_ingested: Callable[[], None] | None = None,
        batch: int = FETCH_BATCH,
        clock: Clock = SYSTEM_CLOCK,
        offload: Offload = inline,
        on_stored: Callable[[IngestResult], None] | None = None,
    ) -> None:
        self.replica = replica
        self.tables = tables
        self.consumer = consumer
        self.offload = offload
        self.watermarks = Watermarks(kv, replica, offload)
        self.after_projection = after_projection
        self.on_ingested = on_ingested
        #: told what each fetch stored (the hub counts events for its metrics)
        self.on_stored = on_stored
        self.batch = batch
        self.clock = clock
        self.behind = replica.projector.unfolded() > 0
        self.last_projection = clock.monotonic()
        self.notices: PullConsumer | None = None
        self.last_notices = clock.monotonic()

    @classmethod
    async def start(
        cls,
        replica: Replica,
        tables: HubTables,
        transport: IngestTransport,
        after_projection: AfterProjection | None = None,
        on_ingested: Callable[[], None] | None = None,
        batch: int = FETCH_BATCH,
        clock: Clock = SYSTEM_CLOCK,
        offload: Offload = inline,
        on_stored: Callable[[IngestResult], None] | None = None,
    ) -> IngestLoop:
        """Bind the hub's consumer (created if missing) and confirm what is stored."""
        await transport.ensure_consumer(HUB_INGEST)
        consumer = await transport.pull_consumer(HUB_INGEST)
        loop = await offload(
            lambda: cls(
                replica,
                tables,
                consumer,
                transport,
                after_projection,
                on_ingested,
                batch,
                clock,
                offload,
                on_stored,
            )
        )
        await loop.watermarks.publish_changed()
        try:
            await transport.ensure_stream(NOTICES)
            await transport.ensure_consumer(HUB_NOTICES)
            loop.notices = await transport.pull_consumer(HUB_NOTICES)
        except TransportError as exc:  # ingest matters more; notices wait for a restart
            log.warning("cannot read notices of refusing ledgers: %s", exc)
        if after_projection is not None:  # what a crash left between fold and routing
            await offload(lambda: _after(replica, tables, after_projection, clock))
        return loop

    async def step(self) -> None:
        """One fetch: stored, acknowledged after the commit, confirmed; or, when nothing
        came, held events retried and a chunk folded."""
        await self.read_notices()
        msgs = await self.consumer.fetch(self.batch, 0.05 if self.behind else 1.0)
        if not msgs:
            released, behind = await self.offload(self._idle)
            if released:
                await self.watermarks.publish_changed()
            self.behind = self.behind or behind
            if self.behind:
                await self.fold_some()
            return
        result = await self.offload(
            lambda: ingest_messages(self.replica, self.tables, msgs, self.clock)
        )
        for msg in msgs:  # only once stored: storing is confirming
            await msg.ack()
        if self.on_stored is not None:
            self.on_stored(result)
        await self.watermarks.publish_changed()
        if result.applied:
            log.info("ingested %d events from %d messages", result.applied, len(msgs))
            self.behind = True
        if self.behind and self.clock.monotonic() - self.last_projection >= PROJECT_EVERY_S:
            await self.fold_some(PROJECT_CHUNK)

    def _idle(self) -> tuple[bool, bool]:
        """Nothing came: retry held events; (whether any were, whether folding lags)."""
        released = bool(self.replica.quarantine.held())
        if released:
            self.replica.release_held(self.clock.wall_ms(), fold=False)
        return released, self.replica.projector.unfolded() > 0

    async def read_notices(self) -> None:
        """Now and then, keep what ledgers refusing to sync reported (`GET /api/v1/nodes`)."""
        if self.notices is None or self.clock.monotonic() - self.last_notices < NOTICES_EVERY_S:
            return
        self.last_notices = self.clock.monotonic()
        msgs = await self.notices.fetch(FETCH_BATCH, 0.05)
        if msgs:
            now = self.clock.wall_ms()
            await self.offload(lambda: note_notices(self.tables, self.replica, msgs, now))
            for msg in msgs:
                await msg.ack()

    async def fold_some(self, per_origin: int = PROJECT_IDLE_CHUNK) -> None:
        folded, behind = await self.offload(lambda: self._fold(per_origin))
        if folded and self.on_ingested:
            self.on_ingested()
        self.behind = behind
        self.last_projection = self.clock.monotonic()

    def _fold(self, per_origin: int) -> tuple[int, bool]:
        """Fold a chunk: (events folded, whether some are still to fold)."""
        folded = project(
            self.replica,
            self.tables,
            per_origin,
            after_projection=self.after_projection,
            clock=self.clock,
        )
        return folded, self.replica.projector.unfolded() > 0


def _after(
    replica: Replica, tables: HubTables, after_projection: AfterProjection, clock: Clock
) -> None:
    with replica.work():
        after_projection(replica, tables, clock.wall_ms())


async def run_ingest(
    replica: Replica,
    tables: HubTables,
    transport: IngestTransport,
    stop: asyncio.Event,
    after_projection: AfterProjection | None = None,
    on_ingested: Callable[[], None] | None = None,
    batch: int = FETCH_BATCH,
    clock: Clock = SYSTEM_CLOCK,
    offload: Offload = inline,
    on_stored: Callable[[IngestResult], None] | None = None,
) -> None:
    """Take node events in and confirm them first; fold them into reports as time allows."""
    loop = await IngestLoop.start(
        replica, tables, transport, after_projection, on_ingested, batch, clock, offload, on_stored
    )
    try:
        while not stop.is_set():
            await loop.step()
    finally:
        await loop.consumer.close()
        if loop.notices is not None:
            await loop.notices.close()
