"""The little replication asks of a message broker, as protocols and plain data.

Everything above this (publisher, ingest loop, pull, set-up) is written against these
protocols, so the same code runs over nats-py (`replication.nats_transport`) and over the
in-memory broker the simulation drives (`replication.memory`). Each caller asks for the
narrowest protocol it needs: the publisher only `Publishing`, the ingest loop `Consuming`
and `KeyValue`.

Errors are ours, not the broker library's: a caller tells "refused" (`WrongLastSequence`,
`StreamMissing`) from "unknown outcome" (`TransportTimeout`: the request may or may not
have taken effect) from "link gone" (`Disconnected`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

# ---- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PubAck:
    """The stream stored a message at `seq`; `duplicate`: it already had one with that
    msg-id (within its window) at `seq`, and stored nothing now."""

    seq: int
    duplicate: bool = False


@dataclass(frozen=True)
class StoredMessage:
    """A message as the stream holds it."""

    seq: int
    subject: str
    headers: Mapping[str, str]
    data: bytes


@dataclass(frozen=True)
class StreamSpec:
    """A stream to create where missing: file storage, direct get allowed."""

    name: str
    subjects: tuple[str, ...]
    duplicate_window_s: float


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer with explicit acks, delivering the stream from its start."""

    stream: str
    durable: str
    filter_subjects: tuple[str, ...]
    ack_wait_s: float
    #: None: the broker's default; -1: unlimited
    max_ack_pending: int | None = None


# ---- errors ----------------------------------------------------------------------------------


class TransportError(Exception):
    """The broker did not do what was asked."""


class WrongLastSequence(TransportError):
    """Refused: the subject's last message is not the one the publish expected."""


class StreamMissing(TransportError):
    """The stream (or bucket) does not exist: the hub has not set it up yet, or it was lost."""


class TransportTimeout(TransportError):
    """No answer in time: the request may or may not have taken effect."""


class Disconnected(TransportError):
    """The connection to the broker is gone; a new one (and a reconcile) is the way on."""


# ---- protocols -------------------------------------------------------------------------------


class Message(Protocol):
    """What ingest reads of a message."""

    @property
    def subject(self) -> str: ...

    @property
    def data(self) -> bytes: ...


class Delivery(Message, Protocol):
    """A message fetched from a pull consumer: acknowledge it once what it carries is
    stored, or it comes back after the consumer's ack wait."""

    async def ack(self) -> None: ...


class PullConsumer(Protocol):
    async def fetch(self, batch: int, timeout: float) -> Sequence[Delivery]:
        """Up to `batch` messages; empty when none arrived within `timeout` seconds."""
        ...

    async def close(self) -> None: ...


class Publishing(Protocol):
    async def publish(
        self,
        subject: str,
        payload: bytes,
        *,
        msg_id: str,
        expected_last_subject_seq: int,
        timeout: float,
    ) -> PubAck:
        """Store `payload` only if `subject`'s last message is at stream seq
        `expected_last_subject_seq` (0: none yet); deduplicated on `msg_id`."""
        ...

    async def last_message(self, stream: str, subject: str) -> StoredMessage | None:
        """The last message `stream` holds on `subject`; None if it holds none."""
        ...


class Consuming(Protocol):
    async def ensure_consumer(self, spec: ConsumerSpec) -> bool:
        """Create the durable consumer unless it exists; True if it was created now."""
        ...

    async def pull_consumer(self, spec: ConsumerSpec) -> PullConsumer:
        """Bind to an existing durable consumer."""
        ...


class KeyValue(Protocol):
    async def kv_put(self, bucket: str, key: str, value: bytes) -> None: ...

    async def kv_get(self, bucket: str, key: str) -> bytes | None:
        """The key's latest value; None if never put (or the bucket is missing)."""
        ...


class Setup(Consuming, Protocol):
    async def ensure_stream(self, spec: StreamSpec) -> None: ...

    async def ensure_bucket(self, bucket: str) -> None:
        """A key-value bucket keeping only each key's latest value."""
        ...


class Transport(Publishing, KeyValue, Setup, Protocol):
    """Everything at once: what one connection to the broker offers."""
