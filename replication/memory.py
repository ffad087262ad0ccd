"""An in-memory JetStream, for simulation: the parts of it replication relies on.

`MemoryBroker` is the server: streams with subjects, a stream sequence, each subject's last
sequence, `Nats-Expected-Last-Subject-Sequence` checks, then a duplicate window keyed by
msg-id (in that order, as nats-server does),
durable pull consumers that redeliver what was not acknowledged within their ack wait, and
key-value buckets. Time is the injected clock's, so an ack wait or a six-hour duplicate
window passes when the simulation says so. `MemoryTransport` is one client's connection
to it, with `Faults` deciding what goes wrong where: nothing here ever waits.

Fault points: "publish", "last_message", "fetch", "ack", "kv_put", "kv_get", "setup". A
hook raises `Lost` to make the message vanish on the way (a request/reply then times out;
an ack is silently dropped), a `TransportError` to fail the call, or anything else (say,
a simulated crash) to stop the caller there. `before` runs before the broker acts,
`after` once it has: failing there is "done, but the caller never heard".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from replication.clock import Clock
from replication.transport import (
    ConsumerSpec,
    Delivery,
    PubAck,
    PullConsumer,
    StoredMessage,
    StreamMissing,
    StreamSpec,
    TransportError,
    TransportTimeout,
    WrongLastSequence,
)

T = TypeVar("T")

#: NATS's default max_ack_pending for a consumer that does not set one.
DEFAULT_MAX_ACK_PENDING = 1000


class Lost(Exception):
    """Raised by a fault hook: the message vanished on the way and nobody is told."""


class Faults:
    """Where a `MemoryTransport` fails: by default nowhere. Override to inject faults."""

    def before(self, point: str) -> None:
        """Called before the broker acts on a request at `point`."""

    def after(self, point: str) -> None:
        """Called after the broker acted, before the caller hears of it."""

    def reorder(self, items: list[T]) -> list[T]:
        """The order a fetch hands its messages over in."""
        return items


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, a final `>` one or more."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


@dataclass
class _Consumer:
    spec: ConsumerSpec
    #: index into the stream's messages of the next never-delivered one
    next_index: int = 0
    #: stream seq -> wall ms at which it is redelivered unless acknowledged
    pending: dict[int, int] = field(default_factory=dict)
    delivered: int = 0


@dataclass
class _Stream:
    spec: StreamSpec
    messages: list[StoredMessage] = field(default_factory=list)
    last_by_subject: dict[str, int] = field(default_factory=dict)
    #: msg-id -> (stream seq, wall ms stored)
    msg_ids: dict[str, tuple[int, int]] = field(default_factory=dict)
    consumers: dict[str, _Consumer] = field(default_factory=dict)

    @property
    def last_seq(self) -> int:
        return self.messages[-1].seq if self.messages else 0


class MemoryBroker:
    """The server side, shared by every `MemoryTransport` connected to it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.streams: dict[str, _Stream] = {}
        self.buckets: dict[str, dict[str, bytes]] = {}

    # ---- what tests read and break --------------------------------------------------------

    def messages(self, stream: str, subject: str | None = None) -> list[StoredMessage]:
        """Everything `stream` holds (on `subject`), in stream order."""
        held = self.streams[stream].messages
        return [m for m in held if subject is None or m.subject == subject]

    def delete_stream(self, name: str) -> None:
        """The stream and its consumers are gone (NATS restarted on an empty directory)."""
        self.streams.pop(name, None)

    def unacknowledged(self, stream: str, durable: str) -> int:
        """Messages the consumer has not had acknowledged yet: pending or never delivered."""
        consumer = self.streams[stream].consumers[durable]
        return len(consumer.pending) + len(self.streams[stream].messages) - consumer.next_index

    # ---- the server's side of each request -----------------------------------------------

    def _stream_of(self, subject: str) -> _Stream | None:
        for stream in self.streams.values():
            if any(subject_matches(p, subject) for p in stream.spec.subjects):
                return stream
        return None

    def _stream(self, name: str) -> _Stream:
        stream = self.streams.get(name)
        if stream is None:
            raise StreamMissing(f"stream {name} does not exist")
        return stream

    def _publish(self, subject: str, payload: bytes, msg_id: str, expected: int) -> PubAck:
        stream = self._stream_of(subject)
        if stream is None:
            raise StreamMissing(f"no stream takes {subject}")
        # nats-server checks the expectation first, then the msg-id: a resend after its
        # subject moved on is refused, not acknowledged as a duplicate (see the contract
        # test in tests/test_replication_sim.py)
        last = stream.last_by_subject.get(subject, 0)
        if last != expected:
            raise WrongLastSequence(f"wrong last sequence: {last}")
        now = self.clock.wall_ms()
        window_ms = int(stream.spec.duplicate_window_s * 1000)
        for old, (_, at) in list(stream.msg_ids.items()):
            if at + window_ms <= now:
                del stream.msg_ids[old]
        if msg_id in stream.msg_ids:
            return PubAck(seq=stream.msg_ids[msg_id][0], duplicate=True)
        seq = stream.last_seq + 1
        headers = {"Nats-Msg-Id": msg_id, "Nats-Expected-Last-Subject-Sequence": str(expected)}
        stream.messages.append(StoredMessage(seq, subject, headers, payload))
        stream.last_by_subject[subject] = seq
        stream.msg_ids[msg_id] = (seq, now)
        return PubAck(seq=seq)

    def _last_message(self, stream: str, subject: str) -> StoredMessage | None:
        held = self._stream(stream)
        seq = held.last_by_subject.get(subject)
        return None if seq is None else held.messages[seq - 1]

    def _consumer(self, stream: str, durable: str) -> tuple[_Stream, _Consumer]:
        held = self._stream(stream)
        consumer = held.consumers.get(durable)
        if consumer is None:
            raise TransportError(f"consumer {durable} on {stream} does not exist")
        return held, consumer

    def _fetch(self, stream: str, durable: str, batch: int) -> list[StoredMessage]:
        """Redeliveries that are due first, then what was never delivered; each is pending
        until acknowledged or its ack wait passes."""
        held, consumer = self._consumer(stream, durable)
        now = self.clock.wall_ms()
        limit = consumer.spec.max_ack_pending
        limit = DEFAULT_MAX_ACK_PENDING if limit is None else limit
        out: list[StoredMessage] = []
        for seq in sorted(s for s, due in consumer.pending.items() if due <= now):
            if len(out) == batch:
                break
            out.append(held.messages[seq - 1])
        fresh = 0
        while len(out) < batch and consumer.next_index < len(held.messages):
            if 0 < limit <= len(consumer.pending) + fresh:
                break
            msg = held.messages[consumer.next_index]
            consumer.next_index += 1
            if any(subject_matches(p, msg.subject) for p in consumer.spec.filter_subjects):
                out.append(msg)
                fresh += 1
        wait_ms = int(consumer.spec.ack_wait_s * 1000)
        for msg in out:
            consumer.pending[msg.seq] = now + wait_ms
        consumer.delivered += len(out)
        return out

    def _ack(self, stream: str, durable: str, seq: int) -> None:
        held = self.streams.get(stream)
        consumer = held.consumers.get(durable) if held else None
        if consumer is not None:
            consumer.pending.pop(seq, None)


class _Delivery:
    __slots__ = ("_msg", "_spec", "_transport")

    def __init__(self, transport: MemoryTransport, spec: ConsumerSpec, msg: StoredMessage):
        self._transport = transport
        self._spec = spec
        self._msg = msg

    @property
    def subject(self) -> str:
        return self._msg.subject

    @property
    def data(self) -> bytes:
        return self._msg.data

    async def ack(self) -> None:
        try:
            self._transport.faults.before("ack")
        except Lost:
            return  # an ack is fire-and-forget: a lost one just means a redelivery
        self._transport.broker._ack(self._spec.stream, self._spec.durable, self._msg.seq)


class _PullConsumer:
    def __init__(self, transport: MemoryTransport, spec: ConsumerSpec) -> None:
        self._transport = transport
        self._spec = spec

    async def fetch(self, batch: int, timeout: float) -> Sequence[Delivery]:
        faults = self._transport.faults
        try:
            faults.before("fetch")
            msgs = self._transport.broker._fetch(self._spec.stream, self._spec.durable, batch)
            faults.after("fetch")
        except Lost:
            return []  # the pull request or its reply vanished: it looks like a timeout
        return faults.reorder([_Delivery(self._transport, self._spec, m) for m in msgs])

    async def close(self) -> None:
        pass


class MemoryTransport:
    """One client's connection to a `MemoryBroker`, failing where `faults` says."""

    def __init__(self, broker: MemoryBroker, faults: Faults | None = None) -> None:
        self.broker = broker
        self.faults = faults or Faults()

    def _before(self, point: str) -> None:
        try:
            self.faults.before(point)
        except Lost:
            raise TransportTimeout(f"{point}: request lost") from None

    def _after(self, point: str) -> None:
        try:
            self.faults.after(point)
        except Lost:
            raise TransportTimeout(f"{point}: reply lost") from None

    async def publish(
        self,
        subject: str,
        payload: bytes,
        *,
        msg_id: str,
        expected_last_subject_seq: int,
        timeout: float,
    ) -> PubAck:
        self._before("publish")
        try:
            ack = self.broker._publish(subject, payload, msg_id, expected_last_subject_seq)
        except TransportError:
            self._after("publish")
            raise
        self._after("publish")
        return ack

    async def last_message(self, stream: str, subject: str) -> StoredMessage | None:
        self._before("last_message")
        msg = self.broker._last_message(stream, subject)
        self._after("last_message")
        return msg

    async def ensure_consumer(self, spec: ConsumerSpec) -> bool:
        self._before("setup")
        held = self.broker._stream(spec.stream)
        created = spec.durable not in held.consumers
        if created:
            held.consumers[spec.durable] = _Consumer(spec)
        self._after("setup")
        return created

    async def pull_consumer(self, spec: ConsumerSpec) -> PullConsumer:
        self._before("setup")
        self.broker._consumer(spec.stream, spec.durable)
        return _PullConsumer(self, spec)

    async def kv_put(self, bucket: str, key: str, value: bytes) -> None:
        self._before("kv_put")
        if bucket not in self.broker.buckets:
            raise StreamMissing(f"bucket {bucket} does not exist")
        self.broker.buckets[bucket][key] = value
        self._after("kv_put")

    async def kv_get(self, bucket: str, key: str) -> bytes | None:
        self._before("kv_get")
        value = self.broker.buckets.get(bucket, {}).get(key)
        self._after("kv_get")
        return value

    async def ensure_stream(self, spec: StreamSpec) -> None:
        self._before("setup")
        self.broker.streams.setdefault(spec.name, _Stream(spec))
        self._after("setup")

    async def ensure_bucket(self, bucket: str) -> None:
        self._before("setup")
        self.broker.buckets.setdefault(bucket, {})
        self._after("setup")
