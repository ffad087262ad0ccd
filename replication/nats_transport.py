"""`replication.transport` over nats-py JetStream: the one module that knows nats-py.

nats-py's errors are turned into ours at this edge, so no other module needs them: a
publish that timed out may still have been stored (`TransportTimeout`); no responders
means the stream is missing; error 10071 is a wrong last subject sequence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from nats.aio.msg import Msg
from nats.errors import (
    ConnectionClosedError,
    ConnectionReconnectingError,
    NoRespondersError,
    OutboundBufferLimitError,
)
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    KeyValueConfig,
    StorageType,
    StreamConfig,
)
from nats.js.errors import APIError, BucketNotFoundError, NoStreamResponseError, NotFoundError
from nats.js.kv import KeyValue as NatsKeyValue

from replication.transport import (
    ConsumerSpec,
    Delivery,
    Disconnected,
    PubAck,
    PullConsumer,
    StoredMessage,
    StreamMissing,
    StreamSpec,
    TransportError,
    TransportTimeout,
    WrongLastSequence,
)

#: JetStream's error code for "wrong last sequence" on Nats-Expected-Last-Subject-Sequence.
WRONG_LAST_SEQUENCE = 10071


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """nats-py's exceptions as ours. Order matters: a timeout is also an OSError, and
    BucketNotFoundError an APIError."""
    try:
        yield
    except (NoRespondersError, NoStreamResponseError, BucketNotFoundError) as exc:
        raise StreamMissing(str(exc) or type(exc).__name__) from exc
    except TimeoutError as exc:  # nats-py's TimeoutError is one too
        raise TransportTimeout(str(exc) or "timed out") from exc
    except (
        ConnectionClosedError,
        ConnectionReconnectingError,
        OutboundBufferLimitError,
        OSError,
    ) as exc:
        raise Disconnected(str(exc) or type(exc).__name__) from exc
    except APIError as exc:
        if exc.err_code == WRONG_LAST_SEQUENCE:
            raise WrongLastSequence(exc.description or str(exc)) from exc
        raise TransportError(f"{type(exc).__name__}: {exc}") from exc
    except NatsError as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}") from exc


class _Delivery:
    """A fetched nats message, acknowledged through our errors."""

    __slots__ = ("_msg",)

    def __init__(self, msg: Msg) -> None:
        self._msg = msg

    @property
    def subject(self) -> str:
        return self._msg.subject

    @property
    def data(self) -> bytes:
        return self._msg.data

    async def ack(self) -> None:
        with _translated():
            await self._msg.ack()


class _PullConsumer:
    def __init__(self, sub: JetStreamContext.PullSubscription) -> None:
        self._sub = sub

    async def fetch(self, batch: int, timeout: float) -> Sequence[Delivery]:
        try:
            with _translated():
                msgs = await self._sub.fetch(batch=batch, timeout=timeout)
        except TransportTimeout:
            return []
        return [_Delivery(msg) for msg in msgs]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._sub.unsubscribe()


class NatsTransport:
    """One JetStream context (one connection) as a `replication.transport.Transport`."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self._buckets: dict[str, NatsKeyValue] = {}

    # ---- publishing ---------------------------------------------------------------------------

    async def publish(
        self,
        subject: str,
        payload: bytes,
        *,
        msg_id: str,
        expected_last_subject_seq: int,
        timeout: float,
    ) -> PubAck:
        headers = {
            "Nats-Msg-Id": msg_id,
            "Nats-Expected-Last-Subject-Sequence": str(expected_last_subject_seq),
        }
        with _translated():
            ack = await self.js.publish(subject, payload, timeout=timeout, headers=headers)
        return PubAck(seq=ack.seq, duplicate=bool(ack.duplicate))

    async def last_message(self, stream: str, subject: str) -> StoredMessage | None:
        with _translated():
            try:
                msg = await self.js.get_last_msg(stream, subject, direct=True)
            except NotFoundError:
                return None
        return StoredMessage(
            seq=msg.seq or 0,
            subject=msg.subject or subject,
            headers=dict(msg.headers or {}),
            data=msg.data or b"",
        )

    # ---- consuming ----------------------------------------------------------------------------

    async def ensure_consumer(self, spec: ConsumerSpec) -> bool:
        with _translated():
            try:
                await self.js.consumer_info(spec.stream, spec.durable)
                return False
            except NotFoundError:
                pass
            try:
                await self.js.add_consumer(spec.stream, _consumer_config(spec))
            except NotFoundError as exc:  # the stream itself is missing
                raise StreamMissing(f"stream {spec.stream} does not exist") from exc
        return True

    async def pull_consumer(self, spec: ConsumerSpec) -> PullConsumer:
        with _translated():
            sub = await self.js.pull_subscribe_bind(durable=spec.durable, stream=spec.stream)
        return _PullConsumer(sub)

    # ---- key-value ----------------------------------------------------------------------------

    async def kv_put(self, bucket: str, key: str, value: bytes) -> None:
        try:
            with _translated():
                kv = self._buckets.get(bucket) or await self.js.key_value(bucket)
                self._buckets[bucket] = kv
                await kv.put(key, value)
        except TransportError:
            self._buckets.pop(bucket, None)  # look it up again: it may have been recreated
            raise

    async def kv_get(self, bucket: str, key: str) -> bytes | None:
        """Read with a direct get on the bucket's stream: a node's credentials allow that
        for its own key, not the stream info that `js.key_value` asks for first."""
        try:
            msg = await self.last_message(f"KV_{bucket}", f"$KV.{bucket}.{key}")
        except StreamMissing:
            return None
        return None if msg is None else msg.data

    # ---- set-up -------------------------------------------------------------------------------

    async def ensure_stream(self, spec: StreamSpec) -> None:
        with _translated():
            try:
                await self.js.stream_info(spec.name)
            except NotFoundError:
                await self.js.add_stream(
                    StreamConfig(
                        name=spec.name,
                        subjects=list(spec.subjects),
                        storage=StorageType.FILE,
                        duplicate_window=spec.duplicate_window_s,
                        allow_direct=True,
                    )
                )

    async def ensure_bucket(self, bucket: str) -> None:
        with _translated():
            try:
                await self.js.key_value(bucket)
            except BucketNotFoundError:
                await self.js.create_key_value(
                    KeyValueConfig(bucket=bucket, history=1, storage=StorageType.FILE, direct=True)
                )


def _consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    single = len(spec.filter_subjects) == 1
    return ConsumerConfig(
        durable_name=spec.durable,
        name=spec.durable,
        filter_subject=spec.filter_subjects[0] if single else None,
        filter_subjects=None if single else list(spec.filter_subjects),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=spec.ack_wait_s,
        max_ack_pending=spec.max_ack_pending,
    )
