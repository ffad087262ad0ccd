"""Publishing a replica's own log to JetStream, exactly once, whatever fails.

The outbox is the log itself: rows are never deleted, and `outbox.published_seq` is only a
hint of where to resume. Each batch of consecutive events carries

* `Nats-Msg-Id: <origin>:<first>-<last>`, so the server drops a resend within its window;
* `Nats-Expected-Last-Subject-Sequence: <stream seq of our previous batch>`, so a batch is
  stored only directly after the previous one, and correctness never depends on the
  duplicate window.

After a publish timeout (with nats-py a timed-out publish may still have been stored), a
wrong-last-sequence error, a duplicate ack or a reconnect, the publisher asks the stream for
the last message on its subject and resumes after what is really there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from nats.errors import ConnectionClosedError, NoRespondersError, OutboundBufferLimitError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.errors import APIError, NoStreamResponseError, NotFoundError

from ledger.outbox import Outbox, OutboxState
from ledger.replica import Replica
from protocol import codec, subjects

log = logging.getLogger("kucun.publisher")

#: JetStream's error code for "wrong last sequence" on Nats-Expected-Last-Subject-Sequence.
WRONG_LAST_SEQUENCE = 10071

Progress = Callable[[int, int], None]


class StreamMissing(Exception):
    """The stream to publish on does not exist (the hub has not set it up yet)."""


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


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


def load_state(store: Replica, origin: str) -> OutboxState:
    return Outbox(store.conn).load(origin)


def save_state(store: Replica, origin: str, state: OutboxState) -> None:
    Outbox(store.conn).save(origin, state)


class Publisher:
    """Sends one origin's log; create one per connection (it reconciles on first use)."""

    def __init__(
        self,
        store: Replica,
        js: JetStreamContext,
        origin: str,
        publish_timeout: float = 10.0,
        max_batch_bytes: int = subjects.MAX_BATCH_BYTES,
    ):
        self.store = store
        self.js = js
        self.origin = origin
        self.stream, self.subject = subjects.publish_target(origin)
        self.timeout = publish_timeout
        self.max_batch_bytes = max_batch_bytes
        self.state = load_state(store, origin)
        self._reconciled = False
        self.reconciliations = 0

    async def reconcile(self) -> None:
        """Resume after the last batch the stream really holds for our subject."""
        try:
            msg = await self.js.get_last_msg(self.stream, self.subject, direct=True)
        except NotFoundError:
            last, stream_seq = 0, 0
        except NoRespondersError:
            raise StreamMissing(f"stream {self.stream} does not exist yet") from None
        else:
            stream_seq = msg.seq or 0
            last = self._last_seq_in(msg)
        head = self.store.log.head_seq(self.origin)
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
        save_state(self.store, self.origin, self.state)

    def _last_seq_in(self, msg) -> int:
        parsed = subjects.parse_batch_msg_id((msg.headers or {}).get("Nats-Msg-Id", ""))
        if parsed and parsed[0] == self.origin:
            return parsed[2]
        try:
            event = codec.decode(codec.decode_batch(msg.data or b"")[-1])
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
        total = self.store.log.head_seq(self.origin) - self.state.published_seq
        while True:
            rows = self.store.log.raw_events(self.origin, self.state.published_seq, limit=20_000)
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
        headers = {
            "Nats-Msg-Id": subjects.batch_msg_id(self.origin, first, last),
            "Nats-Expected-Last-Subject-Sequence": str(self.state.stream_seq),
        }
        payload = codec.encode_batch([raw for _, raw in batch])
        try:
            ack = await self.js.publish(
                self.subject, payload, timeout=self.timeout, headers=headers
            )
        except APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                log.info("%s: stream moved on (%s); reconciling", self.origin, exc.description)
                return False
            raise
        except (NoRespondersError, NoStreamResponseError):
            raise StreamMissing(f"stream {self.stream} does not exist yet") from None
        except (TimeoutError, NatsTimeout):
            log.info("%s: publish of %d-%d timed out; reconciling", self.origin, first, last)
            return False
        if ack.duplicate:
            return False
        self.state.published_seq = last
        self.state.stream_seq = ack.seq
        self.state.last_ack_ms = wall_ms()
        save_state(self.store, self.origin, self.state)
        return True


#: errors after which a new connection and a reconcile are the way on
CONNECTION_ERRORS = (
    ConnectionClosedError,
    OutboundBufferLimitError,
    NatsTimeout,
    asyncio.TimeoutError,
    OSError,
)
