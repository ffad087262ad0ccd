"""Publishing a replica's own log to its stream, exactly once, whatever fails.

The outbox is the log itself: rows are never deleted, and `outbox.published_seq` is only a
hint of where to resume. Each batch of consecutive events carries

* `Nats-Msg-Id: <origin>:<first>-<last>`, so the server drops a resend within its window;
* `Nats-Expected-Last-Subject-Sequence: <stream seq of our previous batch>`, so a batch is
  stored only directly after the previous one, and correctness never depends on the
  duplicate window.

After a publish timeout (a timed-out publish may still have been stored), a
wrong-last-sequence refusal, a duplicate ack or a reconnect, the publisher asks the stream
for the last message on its subject and resumes after what is really there — provided it
is a batch of this ledger's own log. A last batch ending beyond this ledger's head, or
whose last event differs from this ledger's event at that seq, was written by another
ledger claiming the same id (or this one was restored from an older copy): resuming after
it would silently lose one of the two logs, so the publisher refuses (`IdentityConflict`)
and sends nothing. Before sending, it re-hashes what it is about to send from the last
published event: a break means an event was edited in the file, and it refuses
(`ChainBroken`, with an alert in the read model) rather than let a forged event reach the
hub as valid.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Protocol

from ledger import verify
from ledger.log import EventLog
from ledger.outbox import Outbox, OutboxState
from ledger.replica import Replica
from protocol import codec, subjects
from replication.clock import SYSTEM_CLOCK, Clock
from replication.pull import read_watermark
from replication.transport import (
    Disconnected,
    KeyValue,
    Publishing,
    StoredMessage,
    StreamMissing,
    TransportError,
    TransportTimeout,
    WrongLastSequence,
)

log = logging.getLogger("kucun.publisher")

Progress = Callable[[int, int], None]

#: errors after which a new connection and a reconcile are the way on
CONNECTION_ERRORS = (Disconnected, TransportTimeout)

#: Where a ledger that refuses to sync says why, for the hub to list (`GET /api/v1/nodes`):
#: `kucun.notice.<node>.<n>`, one subject per notice (so no expected sequence is needed),
#: kept by the hub's ingest loop (replication/ingest.py).
NOTICES_STREAM = "KUCUN_NOTICES"
NOTICES_SUBJECTS = "kucun.notice.>"
NOTICE_PREFIX = "kucun.notice."


def notice_subject(origin: str, n: int) -> str:
    return f"{NOTICE_PREFIX}{origin}.{n}"


def origin_of_notice(subject: str) -> str | None:
    """The node a notice subject names; None for anything else."""
    if not subject.startswith(NOTICE_PREFIX):
        return None
    origin, _, n = subject[len(NOTICE_PREFIX) :].partition(".")
    return origin if origin and n and "." not in n else None


class LogRefused(Exception):
    """This ledger's log must not be sent as it is; the message says what is wrong."""

    def __init__(self, origin: str, message: str) -> None:
        super().__init__(message)
        self.origin = origin


class IdentityConflict(LogRefused):
    """Another ledger writes this origin's log (or this one is an older copy). `differs`:
    the other log is no longer than ours but its newest event is not ours, which is also
    what an edit of our own copy of that event looks like."""

    def __init__(self, origin: str, message: str, differs: bool = False) -> None:
        super().__init__(origin, message)
        self.differs = differs


class ChainBroken(LogRefused):
    """An event of this ledger's own log no longer chains: the file was edited."""


def claim_conflict(
    log: EventLog, origin: str, last_seq: int, last_hash: bytes | None
) -> str | None:
    """Why a log holding `origin` up to `last_seq` (whose event there hashes to
    `last_hash`, if known) is not this ledger's; None when it is a prefix of ours."""
    head = log.head_seq(origin)
    if last_seq > head:
        return f"it holds {origin} up to seq {last_seq}, this ledger only up to {head}"
    if last_hash is not None and verify.hash_at(log, origin, last_seq) != last_hash:
        return f"its event {origin}:{last_seq} differs from this ledger's"
    return None


async def publish_notice(
    transport: Publishing, origin: str, reason: str, wall_ms: int, timeout: float = 2.0
) -> bool:
    """Tell the hub why this ledger refuses to sync; False when it could not be sent (an
    older hub without the notices stream, a lost link): the refusal stands either way."""
    payload = json.dumps({"origin": origin, "reason": reason, "at_ms": wall_ms}).encode()
    try:
        await transport.publish(
            notice_subject(origin, wall_ms),
            payload,
            msg_id=f"notice:{origin}:{wall_ms}",
            expected_last_subject_seq=0,
            timeout=timeout,
        )
    except TransportError as exc:
        log.warning("could not tell the hub about %s: %s", origin, exc)
        return False
    return True


def batches(rows: list[tuple[int, bytes]], max_bytes: int) -> list[list[tuple[int, bytes]]]:
    """Split consecutive (seq, raw) rows into runs whose encoded batch stays under max_bytes."""
    out: list[list[tuple[int, bytes]]] = []
    current: list[tuple[int, bytes]] = []
    size = 0
    for row in rows:
        cost = len(row[1]) + 5
        if current and size + cost > max_bytes:
            out.append(current)
            current, size = [], 0
        current.append(row)
        size += cost
    if current:
        out.append(current)
    return out


class Publisher:
    """Sends one origin's log; create one per connection (it reconciles on first use)."""

    def __init__(
        self,
        replica: Replica,
        transport: Publishing,
        origin: str,
        publish_timeout: float = 10.0,
        max_batch_bytes: int = subjects.MAX_BATCH_BYTES,
        clock: Clock = SYSTEM_CLOCK,
        location: str | None = None,
        verify_history: bool = False,
    ):
        self.replica = replica
        self.transport = transport
        self.origin = origin
        # a node's subject names its location: its siblings read it there
        self.location = location
        self.stream, self.subject = subjects.publish_target(origin, location)
        self.timeout = publish_timeout
        self.max_batch_bytes = max_batch_bytes
        self.clock = clock
        self.outbox = Outbox(replica.conn)
        self.state: OutboxState = self.outbox.load(origin)
        self._reconciled = False
        self.reconciliations = 0
        #: the refusal this publisher has told the hub about (once per connection)
        self.noticed: str | None = None
        self.verify_history = verify_history
        self._walked = False

    async def reconcile(self) -> None:
        """Resume after the last batch the stream really holds for our subject; raises
        `StreamMissing` when there is no stream to publish on, and `IdentityConflict`
        (having told the hub) when that batch is not of this ledger's log."""
        msg = await self.transport.last_message(self.stream, self.subject)
        if msg is None:
            last, stream_seq = 0, 0
        else:
            stream_seq = msg.seq
            last, last_hash = self._last_in(msg)
            problem = claim_conflict(self.replica.log, self.origin, last, last_hash)
            if problem:
                differs = last <= self.replica.log.head_seq(self.origin)
                conflict = IdentityConflict(self.origin, f"the stream: {problem}", differs)
                await self.refuse(conflict)
        self.state.published_seq = last
        self.state.stream_seq = stream_seq
        self._reconciled = True
        self.reconciliations += 1
        self.outbox.save(self.origin, self.state)

    async def refuse(self, error: LogRefused) -> None:
        """Raise `error`, having told the hub once (nodes only: the hub knows its own)."""
        reason = str(error)
        if self.noticed != reason and self.stream == subjects.EVENTS_STREAM:
            self.noticed = reason
            await publish_notice(self.transport, self.origin, reason, self.clock.wall_ms())
        raise error

    def _last_in(self, msg: StoredMessage) -> tuple[int, bytes | None]:
        """(seq of the last event in the batch, hash of its bytes if they are ours)."""
        try:
            raw = codec.decode_batch(msg.data)[-1]
            event = codec.decode(raw)
        except (codec.BadEvent, IndexError):
            event = None
        if event is not None and event.origin == self.origin:
            return event.seq, codec.event_hash(raw)
        parsed = subjects.parse_batch_msg_id(msg.headers.get("Nats-Msg-Id", ""))
        if parsed and parsed[0] == self.origin:
            return parsed[2], None
        log.warning("last message on %s is not ours; resuming from our own record", self.subject)
        return self.state.published_seq, None

    async def check_chain(self) -> None:
        """Re-hash what is about to be sent, from the last published event; on a break,
        leave an alert and raise `ChainBroken` (having told the hub): nothing is sent.

        Events are read by their envelope only: the chain over their bytes is what shows
        an edit, and the hub checks every body again when it stores it; decoding whole
        bodies here cost a week's backlog more than publishing it. With `verify_history`,
        the first time the whole log is walked, so an edit of any event the hub already
        has shows as a break at that sync, not only one of the newest (the watermark's
        hash). A long-lived connection's rounds skip it: they must not stall the counter."""
        sent = self.state.published_seq
        start = sent if self._walked or not self.verify_history else 0
        head = self.replica.log.head_seq(self.origin)
        _, broken = verify.walk(self.replica.log, self.origin, start, quick_upto=head)
        if broken is None:
            self._walked = True
            return
        with self.replica.work():
            verify.record_alert(self.replica.log, broken)
        await self.refuse(
            ChainBroken(
                self.origin,
                f"this ledger's own log is broken at {broken} (the ledger file was edited); "
                "nothing was sent",
            )
        )

    async def publish_backlog(self, progress: Progress | None = None) -> int:
        """Publish everything after what the stream holds; return events sent."""
        if not self._reconciled:
            await self.reconcile()
        await self.check_chain()
        sent = 0
        total = self.replica.log.head_seq(self.origin) - self.state.published_seq
        while True:
            rows = self.replica.log.raw_events(self.origin, self.state.published_seq, limit=20_000)
            if not rows:
                return sent
            for batch in batches(rows, self.max_batch_bytes):
                if not await self._publish(batch):
                    await self.reconcile()
                    break
                sent += len(batch)
                if progress:
                    progress(sent, max(total, sent))

    async def _publish(self, batch: list[tuple[int, bytes]]) -> bool:
        """One batch; False when the stream's state must be re-read first."""
        first, last = batch[0][0], batch[-1][0]
        payload = codec.encode_batch([raw for _, raw in batch])
        try:
            ack = await self.transport.publish(
                self.subject,
                payload,
                msg_id=subjects.batch_msg_id(self.origin, first, last, self.location),
                expected_last_subject_seq=self.state.stream_seq,
                timeout=self.timeout,
            )
        except WrongLastSequence as exc:
            log.info("%s: stream moved on (%s); reconciling", self.origin, exc)
            return False
        except TransportTimeout:
            log.info("%s: publish of %d-%d timed out; reconciling", self.origin, first, last)
            return False
        if ack.duplicate:
            return False
        self.state.published_seq = last
        self.state.stream_seq = ack.seq
        self.state.last_ack_ms = self.clock.wall_ms()
        self.outbox.save(self.origin, self.state)
        return True


class ClaimReader(Publishing, KeyValue, Protocol):
    """What `log_exists` reads: the stream's last message, the watermark."""


async def log_exists(
    transport: ClaimReader, origin: str, location: str | None = None
) -> str | None:
    """Why `origin` already has a log somewhere (a batch of it in the stream, or a hub
    watermark for it); None when nothing of it exists yet: what `node init` asks before
    it gives a new ledger that id."""
    stream, subject = subjects.publish_target(origin, location)
    try:
        msg = await transport.last_message(stream, subject)
    except StreamMissing:  # no hub has run yet: nothing can be there
        msg = None
    if msg is not None:
        return f"the stream already holds a log of {origin} (stream seq {msg.seq})"
    mark = await read_watermark(transport, origin)
    if mark is not None and mark.seq > 0:
        return f"the hub already holds {origin} up to seq {mark.seq}"
    return None
