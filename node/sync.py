"""The node's side of replication: its log to the hub, the hub's logs to it.

`sync_once` is the `kucun node sync --once` round: connect (bounded), publish the backlog,
apply hub events, wait briefly for the hub's watermark, close. `SyncWorker` is the same on
one long-lived connection for the counter UI: it connects in the background, so selling
never waits for the network, and reconnects forever.

An event is *safe* only when the hub's watermark (the highest contiguous seq it has
ingested for this origin) covers it; a JetStream ack only means the stream has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

import nats
from nats.errors import NoServersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from ledger.publisher import (
    CONNECTION_ERRORS,
    OutboxState,
    Publisher,
    StreamMissing,
    load_state,
    save_state,
)
from ledger.streams import node_consumer_config
from node.errors import NodeError
from node.service import Node, wall_ms
from protocol import codec, subjects
from protocol.hlc import physical_ms

log = logging.getLogger("kucun.node.sync")

Progress = Callable[[int, int], None]


class HubUnreachable(NodeError):
    pass


class NotConfirmed(NodeError):
    """Everything is in the stream, but the hub has not confirmed ingesting it yet."""


@dataclass
class SyncSummary:
    node: str
    sent_events: int = 0
    pulled_events: int = 0
    head_seq: int = 0
    published_seq: int = 0
    safe_seq: int = 0
    backlog: int = 0
    unconfirmed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SyncStatus:
    """What the counter shows about the link."""

    connected: bool = False
    backlog: int = 0
    unconfirmed: int = 0
    oldest_unsent_age_s: float | None = None
    last_ack_ms: int | None = None
    last_error: str | None = None


async def _log_nats_error(exc: Exception) -> None:
    log.info("NATS: %s", exc)


async def connect_once(url: str, timeout: float = 3.0, auth: dict | None = None) -> nats.NATS:
    """One bounded connection attempt, for commands that must finish."""
    try:
        return await nats.connect(
            url,
            connect_timeout=timeout,
            # nats-py retries the initial connect forever unless attempts are bounded (>0).
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            error_cb=_log_nats_error,
            name="kucun-node",
            **(auth or {}),
        )
    except (TimeoutError, NoServersError, OSError) as exc:
        raise HubUnreachable(
            f"hub unreachable: cannot connect to NATS at {url} ({exc.__class__.__name__}); "
            "sales are kept on this node and will be sent at the next sync"
        ) from None


async def connect_forever(
    url: str, status: SyncStatus | None = None, auth: dict | None = None
) -> nats.NATS:
    """A store's long-lived connection: retry forever, notice a dead link within seconds,
    and never buffer unboundedly while disconnected (the ledger is the buffer). Run it in a
    background task: with max_reconnect_attempts=-1 even the first connect never gives up.
    """
    status = status or SyncStatus()

    async def on_error(exc: Exception) -> None:
        status.last_error = f"hub unreachable: {exc.__class__.__name__} {exc}".strip()
        log.info("NATS: %s", exc)

    async def on_disconnected() -> None:
        status.connected = False

    return await nats.connect(
        url,
        name="kucun-node",
        **(auth or {}),
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=2,
        connect_timeout=3,
        ping_interval=5,
        max_outstanding_pings=2,
        pending_size=1024 * 1024,
        error_cb=on_error,
        disconnected_cb=on_disconnected,
    )


async def pull(node: Node, js: JetStreamContext) -> int:
    """Apply hub events through this node's durable consumer until none are waiting."""
    durable = subjects.node_consumer(node.config.node)
    try:
        await js.consumer_info(subjects.HUB_STREAM, durable)
    except NotFoundError:
        try:
            await js.add_consumer(
                subjects.HUB_STREAM,
                node_consumer_config(node.config.node, node.config.location),
            )
        except NotFoundError:
            log.warning("hub stream %s not found; nothing to pull yet", subjects.HUB_STREAM)
            return 0
        except (TimeoutError, NatsTimeout):
            if not node.config.nkey_seed:
                raise
            # With credentials a node may not create consumers: NATS refuses the request.
            raise HubUnreachable(
                f"the hub has not created consumer {durable} yet: check that this node is "
                "registered (kucun hub add-node), NATS reloaded and `kucun hub serve` running"
            ) from None
    sub = await js.pull_subscribe_bind(durable=durable, stream=subjects.HUB_STREAM)
    applied = 0
    try:
        while True:
            try:
                msgs = await sub.fetch(batch=64, timeout=0.5)
            except (TimeoutError, NatsTimeout):
                return applied
            raws: list[bytes] = []
            for msg in msgs:
                try:
                    raws.extend(codec.decode_batch(msg.data))
                except codec.BadEvent as exc:
                    log.error("ignoring malformed hub message on %s: %s", msg.subject, exc)
            result = node.store.ingest(raws, wall_ms())
            for problem in result.rejected:
                log.error("hub event rejected: %s", problem)
            for msg in msgs:
                await msg.ack()
            applied += result.applied
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def read_watermark(js: JetStreamContext, origin: str) -> int | None:
    try:
        msg = await js.get_last_msg(
            subjects.WATERMARK_STREAM, subjects.watermark_subject(origin), direct=True
        )
    except (NotFoundError, nats.errors.NoRespondersError):
        return None
    try:
        return int((msg.data or b"0").decode())
    except ValueError:
        log.error("malformed watermark for %s: %r", origin, msg.data)
        return None


def _record_safe(node: Node, state: OutboxState, safe: int | None) -> None:
    if safe is not None and safe != state.safe_seq:
        state.safe_seq = safe
        state.last_safe_ms = wall_ms()
        save_state(node.store, node.config.node, state)


def summary_of(node: Node, state: OutboxState, sent: int = 0, pulled: int = 0) -> SyncSummary:
    head = node.store.log.head_seq(node.config.node)
    return SyncSummary(
        node=node.config.node,
        sent_events=sent,
        pulled_events=pulled,
        head_seq=head,
        published_seq=state.published_seq,
        safe_seq=state.safe_seq,
        backlog=head - state.published_seq,
        unconfirmed=head - min(state.safe_seq, head),
    )


async def sync_round(
    node: Node, js: JetStreamContext, publisher: Publisher, progress: Progress | None = None
) -> SyncSummary:
    try:
        sent = await publisher.publish_backlog(progress)
    except StreamMissing:
        raise HubUnreachable(
            "the hub has not created its streams yet: start `kucun hub serve` once, then sync again"
        ) from None
    pulled = await pull(node, js)
    _record_safe(node, publisher.state, await read_watermark(js, node.config.node))
    return summary_of(node, publisher.state, sent, pulled)


async def sync_once(
    node: Node,
    url: str | None = None,
    progress: Progress | None = None,
    timeout: float = 3.0,
    confirm_timeout: float = 10.0,
) -> SyncSummary:
    nc = await connect_once(url or node.config.nats, timeout, node.config.nats_auth())
    try:
        js = nc.jetstream()
        publisher = Publisher(node.store, js, node.config.node)
        summary = await sync_round(node, js, publisher, progress)
        deadline = asyncio.get_running_loop().time() + confirm_timeout
        while summary.unconfirmed and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
            _record_safe(node, publisher.state, await read_watermark(js, node.config.node))
            summary = summary_of(node, publisher.state, summary.sent_events, summary.pulled_events)
        return summary
    except CONNECTION_ERRORS as exc:
        raise HubUnreachable(
            f"lost the connection to NATS during sync ({exc}); nothing is lost, sync again"
        ) from None
    finally:
        # Not drain(): a pull subscription's expiring request makes drain wait its timeout.
        with contextlib.suppress(Exception):
            await nc.flush(timeout=2)
        await nc.close()


class SyncWorker:
    """Background replication for a running node: one connection, rounds on a timer or
    when `wake()` is called after a local write."""

    def __init__(self, node: Node, url: str | None = None, interval: float = 5.0) -> None:
        self.node = node
        self.url = url or node.config.nats
        self.interval = interval
        self.status = SyncStatus()
        self._wake = asyncio.Event()
        self.refresh_status()

    def wake(self) -> None:
        self._wake.set()

    def refresh_status(self) -> None:
        state = load_state(self.node.store, self.node.config.node)
        summary = summary_of(self.node, state)
        self.status.backlog = summary.backlog
        self.status.unconfirmed = summary.unconfirmed
        self.status.last_ack_ms = state.last_ack_ms
        oldest = self.node.store.log.raw_events(self.node.config.node, state.published_seq, 1)
        if oldest:
            hlc = codec.decode(oldest[0][1]).hlc
            self.status.oldest_unsent_age_s = max(0.0, (wall_ms() - physical_ms(hlc)) / 1000)
        else:
            self.status.oldest_unsent_age_s = None

    async def run(self) -> None:
        while True:
            try:
                self.status.last_error = self.status.last_error or "connecting to the hub…"
                nc = await connect_forever(self.url, self.status, self.node.config.nats_auth())
            except Exception as exc:
                self.status.connected = False
                self.status.last_error = f"hub unreachable: {exc}"
                await self._sleep()
                continue
            try:
                await self._rounds(nc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("sync interrupted: %s", exc)
                self.status.last_error = str(exc)
            finally:
                self.status.connected = False
                with contextlib.suppress(Exception):
                    await nc.close()
            await self._sleep()

    async def _rounds(self, nc: nats.NATS) -> None:
        js = nc.jetstream()
        publisher = Publisher(self.node.store, js, self.node.config.node)
        reconnects = nc.stats["reconnects"]
        while True:
            if nc.stats["reconnects"] != reconnects:  # the stream may have moved on
                reconnects = nc.stats["reconnects"]
                await publisher.reconcile()
            if nc.is_connected:
                summary = await sync_round(self.node, js, publisher)
                self.status.connected = True
                self.status.last_error = None
                if summary.sent_events or summary.pulled_events:
                    log.info("sync: sent %d, pulled %d", summary.sent_events, summary.pulled_events)
            else:
                self.status.connected = False
            self.refresh_status()
            await self._sleep()

    async def _sleep(self) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.interval)
        self._wake.clear()


async def run_forever(node: Node, url: str | None, interval: float) -> int:
    worker = SyncWorker(node, url, interval)
    await worker.run()
    return 0
