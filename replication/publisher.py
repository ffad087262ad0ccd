"""Publishing a replica's own log to its stream, exactly once, whatever fails.

The outbox is the log itself: rows are never deleted, and `outbox.published_seq` is only a
hint of where to resume. Each batch of consecutive events carries

* `Nats-Msg-Id: <origin>:<first>-<last>`, so the server drops a resend within its window;
* `Nats-Expected-Last-Subject-Sequence: <stream seq of our previous batch>`, so a batch is
  stored only directly after the previous one, and correctness never depends on the
  duplicate window.

After a publish timeout (a timed-out publish may still have been stored), a
wrong-last-sequence refusal, a duplicate ack or a reconnect, the publisher asks the stream
for the last message on its subject and resumes after what is really there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ledger.outbox import Outbox, OutboxState
from ledger.replica import Replica
from protocol import codec, subjects
from replication.clock import SYSTEM_CLOCK, Clock
from replication.transport import (
    Disconnected,
    Publishing,
    StoredMessage,
    TransportTimeout,
    WrongLastSequence,
)

log = logging.getLogger("kucun.publisher")

Progress = Callable[[int, int], None]

#: errors after which a new connection and a reconcile are the way on
CONNECTION_ERRORS = (Disconnected, TransportTimeout)


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
    ):
        self.replica = replica
        self.transport = transport
        self.origin = origin
        # a node's subject names its location: its siblings read it there
        self.stream, self.subject = subjects.publish_target(origin, location)
        self.timeout = publish_timeout
        self.max_batch_bytes = max_batch_bytes
        self.clock = clock
        self.outbox = Outbox(replica.conn)
        self.state: OutboxState = self.outbox.load(origin)
        self._reconciled = False
        self.reconciliations = 0

    async def reconcile(self) -> None:
        """Resume after the last batch the stream really holds for our subject; raises
        `StreamMissing` when there is no stream to publish on."""
        msg = await self.transport.last_message(self.stream, self.subject)
        if msg is None:
            last, stream_seq = 0, 0
        else:
            stream_seq = msg.seq
            last = self._last_seq_in(msg)
        head = self.replica.log.head_seq(self.origin)
        if last > head:
            log.error(
                "stream holds %s up to seq %d but this ledger only has %d: the ledger was "
                "restored from an older copy; new events will conflict at the hub",
                self.origin,
                last,
                head,
            )
            last = head
        self.state.published_seq = last
        self.state.stream_seq = stream_seq
        self._reconciled = True
        self.reconciliations += 1
        self.outbox.save(self.origin, self.state)

    def _last_seq_in(self, msg: StoredMessage) -> int:
        parsed = subjects.parse_batch_msg_id(msg.headers.get("Nats-Msg-Id", ""))
        if parsed and parsed[0] == self.origin:
            return parsed[2]
        try:
            event = codec.decode(codec.decode_batch(msg.data)[-1])
        except (codec.BadEvent, IndexError):
            event = None
        if event is not None and event.origin == self.origin:
            return event.seq
        log.warning("last message on %s is not ours; resuming from our own record", self.subject)
        return self.state.published_seq

    async def publish_backlog(self, progress: Progress | None = None) -> int:
        """Publish everything after what the stream holds; return events sent."""
        if not self._reconciled:
            await self.reconcile()
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
                msg_id=subjects.batch_msg_id(self.origin, first, last),
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
