"""The tills of one store exchange their logs directly, over core NATS.

Sibling logs normally come through JetStream at head office (`replication/pull.py`). A
store that runs its own NATS server as a leaf of head office's (`kucun nats serve --leaf`)
keeps core NATS between its tills when its internet link is down, but not JetStream. So
each node also answers, on `kucun.peer.<location>.want`, a request carrying the
requester's verified heads (`{origin: seq}`) with batches of *its own* log after the
requester's head of it; a requester publishes its heads with a reply inbox, collects the
replies for a short window and ingests each one (idempotent and chain-verified by the
ledger: a garbled or forged reply is rejected there and logged, never stops the round).

Only logs of nodes are served and accepted: a reply must be a node of the requester's
location, not a hub origin and not the requester itself, and every event in it must be of
that node. The exchange is one more step of a sync round; it works whether head office is
reachable or not, and events it brings in arrive again through JetStream as duplicates.

The bus is a tiny interface (`PeerBus`) so the exchange is tested in memory
(`MemoryPeerBus`) and on a real nats-server (`NatsPeerBus`, over a nats-py client).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from ledger.replica import Replica
from protocol import codec
from protocol.events import is_hub_origin, valid_replica_id
from protocol.subjects import MAX_BATCH_BYTES
from replication.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger("kucun.replication.peers")

PEER_PREFIX = "kucun.peer."

#: How long a requester collects replies: the tills of a store share a LAN.
REPLY_WINDOW_S = 0.3

#: Batches (each ≤ MAX_BATCH_BYTES) one node sends for one request; the requester asks
#: again while a reply says there is more.
MAX_REPLIES = 8

#: Requests one exchange makes at most (each bringing up to MAX_REPLIES batches per till).
MAX_REQUESTS = 16

#: Events read from the log at a time while cutting batches.
_READ_CHUNK = 2_000


def peer_subject(location: str) -> str:
    """Where the nodes of `location` ask each other for their logs."""
    return f"{PEER_PREFIX}{location}.want"


class Want(msgspec.Struct, frozen=True):
    """A request: who asks, for which location, and how far it holds each log."""

    node: str
    location: str
    heads: dict[str, int]


class Batch(msgspec.Struct, frozen=True):
    """A reply: consecutive events of `origin`'s own log (`codec.encode_batch`), and
    whether the responder holds more after them."""

    origin: str
    location: str
    events: bytes
    more: bool = False


_encoder = msgspec.msgpack.Encoder(order="deterministic")
_want_decoder = msgspec.msgpack.Decoder(Want)
_batch_decoder = msgspec.msgpack.Decoder(Batch)

#: Answers one request's payload with the reply payloads to send.
Answer = Callable[[bytes], list[bytes]]
Stop = Callable[[], Awaitable[None]]


class PeerBus(Protocol):
    """Core request/many-replies messaging, all a peer exchange needs."""

    async def serve(self, subject: str, answer: Answer) -> Stop:
        """Answer every request on `subject` until the returned coroutine is awaited."""
        ...

    async def request_many(self, subject: str, payload: bytes, window: float) -> list[bytes]:
        """Publish `payload` with a reply inbox; every reply received within `window`."""
        ...


class MemoryPeerBus:
    """An in-process bus: every served subject's answer is called, its replies returned.
    Several `MemoryPeerBus` objects sharing one `hub` dict see each other, as clients of
    one NATS server do."""

    def __init__(self, hub: dict[str, list[Answer]] | None = None) -> None:
        self.hub: dict[str, list[Answer]] = {} if hub is None else hub
        #: the link of this client: False drops its requests and its answers
        self.connected = True

    async def serve(self, subject: str, answer: Answer) -> Stop:
        def guarded(payload: bytes) -> list[bytes]:
            return answer(payload) if self.connected else []

        self.hub.setdefault(subject, []).append(guarded)

        async def stop() -> None:
            self.hub[subject].remove(guarded)

        return stop

    async def request_many(self, subject: str, payload: bytes, window: float) -> list[bytes]:
        if not self.connected:
            return []
        replies: list[bytes] = []
        for answer in list(self.hub.get(subject, [])):
            replies.extend(answer(payload))
        return replies


class NatsPeerBus:
    """The bus over a connected nats-py client (core NATS: no JetStream, so it works on a
    store's leaf server whether head office is reachable or not)."""

    def __init__(self, nc: Any) -> None:
        self.nc = nc

    async def serve(self, subject: str, answer: Answer) -> Stop:
        async def on_request(msg: Any) -> None:
            if not msg.reply:
                return
            try:
                for payload in answer(msg.data):
                    await self.nc.publish(msg.reply, payload)
            except Exception as exc:  # a lost link or a failed read: the next request retries
                log.warning("could not answer a peer request: %s", exc)

        sub = await self.nc.subscribe(subject, cb=on_request)
        return sub.unsubscribe

    async def request_many(self, subject: str, payload: bytes, window: float) -> list[bytes]:
        replies: list[bytes] = []

        async def on_reply(msg: Any) -> None:
            replies.append(msg.data)

        inbox = self.nc.new_inbox()
        sub = await self.nc.subscribe(inbox, cb=on_reply)
        try:
            await self.nc.publish(subject, payload, reply=inbox)
            await self.nc.flush(timeout=max(window, 1.0))
            await asyncio.sleep(window)
        except Exception as exc:  # not connected: nothing from the other tills this round
            log.info("peer request not sent: %s", exc)
        finally:
            try:
                await sub.unsubscribe()
            except Exception as exc:
                log.debug("peer inbox not unsubscribed: %s", exc)
        return replies


@dataclass
class ExchangeResult:
    """What one exchange brought in."""

    applied: int = 0
    replies: int = 0
    #: replies or events refused (logged; events the ledger refused are in its quarantine)
    refused: int = 0


class PeerExchange:
    """One node's side: answer the other tills' requests, ask them for their logs."""

    def __init__(
        self,
        replica: Replica,
        node: str,
        location: str,
        bus: PeerBus,
        clock: Clock = SYSTEM_CLOCK,
        window: float = REPLY_WINDOW_S,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        self.replica = replica
        self.node = node
        self.location = location
        self.bus = bus
        self.clock = clock
        self.window = window
        self.max_batch_bytes = max_batch_bytes
        self._stop: Stop | None = None

    @property
    def subject(self) -> str:
        return peer_subject(self.location)

    # ---- answering -------------------------------------------------------------------

    async def start(self) -> None:
        """Answer requests on this location's subject (once; again after `stop`)."""
        if self._stop is None:
            self._stop = await self.bus.serve(self.subject, self.answer)

    async def stop(self) -> None:
        if self._stop is not None:
            stop, self._stop = self._stop, None
            try:
                await stop()
            except Exception as exc:  # the connection is already gone
                log.debug("peer subscription not stopped: %s", exc)

    def answer(self, payload: bytes) -> list[bytes]:
        """The reply payloads for one request: this node's own events after the
        requester's head of them, in batches of at most `max_batch_bytes`."""
        try:
            want = _want_decoder.decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("ignored a malformed peer request: %s", exc)
            return []
        if want.location != self.location or want.node == self.node:
            return []
        after = max(0, want.heads.get(self.node, 0))
        head = self.replica.log.head_seq(self.node)
        replies: list[bytes] = []
        batch: list[bytes] = []
        size = 0
        while after < head and len(replies) < MAX_REPLIES:
            chunk = self.replica.log.raw_events(self.node, after, _READ_CHUNK)
            if not chunk:
                break
            for seq, raw in chunk:
                if batch and size + len(raw) + 8 > self.max_batch_bytes:
                    replies.append(self._batch(batch, more=True))
                    batch, size = [], 0
                    if len(replies) == MAX_REPLIES:
                        break
                batch.append(raw)
                size += len(raw) + 8
                after = seq
        if batch:
            replies.append(self._batch(batch, more=after < head))
        return replies

    def _batch(self, raws: list[bytes], more: bool) -> bytes:
        return _encoder.encode(Batch(self.node, self.location, codec.encode_batch(raws), more))

    # ---- asking ------------------------------------------------------------------------

    async def exchange(self) -> ExchangeResult:
        """Ask the other tills for what this node lacks of their logs, until none has
        more to give (bounded by MAX_REQUESTS)."""
        total = ExchangeResult()
        for _ in range(MAX_REQUESTS):
            want = Want(self.node, self.location, self.replica.log.heads())
            replies = await self.bus.request_many(self.subject, _encoder.encode(want), self.window)
            more = False
            for payload in replies:
                total.replies += 1
                applied, refused, has_more = self._take(payload)
                total.applied += applied
                total.refused += refused
                more = more or (has_more and applied > 0)
            if not more:
                break
        if total.applied:
            log.info("took %d events from the other tills of %s", total.applied, self.location)
        return total

    def _take(self, payload: bytes) -> tuple[int, int, bool]:
        """Ingest one reply: (events applied, refused, the responder has more)."""
        try:
            reply = _batch_decoder.decode(payload)
            raws = codec.decode_batch(reply.events)
        except (msgspec.DecodeError, msgspec.ValidationError, codec.BadEvent) as exc:
            log.error("refused a peer reply that is not a batch of events: %s", exc)
            return 0, 1, False
        problem = self._foreign(reply)
        if problem:
            log.error("refused a peer reply: %s", problem)
            return 0, 1, False
        now = self.clock.wall_ms()
        pairs = []
        refused = 0
        with self.replica.work():
            for raw in raws:
                try:
                    event = codec.decode(raw)
                except codec.BadEvent as exc:
                    self.replica.quarantine.reject(reply.origin, None, str(exc), raw, now)
                    log.error("refused an event from peer %s: %s", reply.origin, exc)
                    refused += 1
                    continue
                if event.origin != reply.origin:
                    log.error(
                        "refused a peer reply: %s sent an event of %s", reply.origin, event.origin
                    )
                    return 0, refused + 1, False
                pairs.append((raw, event))
            result = self.replica.ingest_decoded(pairs, now)
        for rejected in result.rejected:
            log.error("event from peer %s rejected: %s", reply.origin, rejected)
        return result.applied, refused + len(result.rejected), reply.more

    def _foreign(self, reply: Batch) -> str | None:
        """Why a reply is not a log this node may take from its store's tills."""
        if reply.location != self.location:
            return f"{reply.origin!r} is at location {reply.location!r}, not {self.location!r}"
        if is_hub_origin(reply.origin) or not valid_replica_id(reply.origin):
            return f"{reply.origin!r} is not a node's log"
        if reply.origin == self.node:
            return f"only {self.node} writes its own log"
        return None
