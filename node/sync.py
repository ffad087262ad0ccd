"""The node's side of replication: its log to the hub, the hub's logs and its siblings'
(the other nodes of its location) to it.

This is the orchestration (connections, rounds, the status the counter shows); the
pieces it uses, over `replication.transport`, are replication's: the publisher, the pull
of hub and sibling logs, the watermark read.

`sync_once` is the `kucun node sync --once` round: connect (bounded), publish the backlog,
apply hub and sibling events, wait briefly for the hub's watermark, close. `SyncWorker` is
the same on one long-lived connection for the counter UI: it connects in the background, so
selling never waits for the network, and reconnects forever.

An event is *safe* only when the hub's watermark (the highest contiguous seq it has
ingested for this origin) covers it; a JetStream ack only means the stream has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.errors import NoServersError

from ledger.outbox import Outbox, OutboxState
from node.errors import NodeError
from node.service import Node, NodeConfig
from protocol import codec, i18n, node_status, subjects
from protocol.hlc import physical_ms
from replication.clock import wall_ms
from replication.nats_transport import NatsTransport
from replication.peers import NatsPeerBus, PeerExchange
from replication.publisher import (
    CONNECTION_ERRORS,
    ChainBroken,
    IdentityConflict,
    LogRefused,
    Publisher,
    claim_conflict,
    log_exists,
)
from replication.pull import (
    apply_hub_logs,
    apply_sibling_logs,
    open_hub_consumer,
    open_sibling_consumer,
    read_watermark,
    record_safe,
)
from replication.transport import (
    PullConsumer,
    StreamMissing,
    Transport,
    TransportError,
    TransportTimeout,
)

log = logging.getLogger("kucun.node.sync")

Progress = Callable[[int, int], None]


class HubUnreachable(NodeError):
    pass


class SyncRefused(NodeError):
    """This ledger must not sync as it is: its node id is another ledger's, or its file
    was edited. `kucun node sync --once` exits with its own code (node/cli.py)."""


class NotConfirmed(NodeError):
    """Everything is in the stream, but the hub has not confirmed ingesting it yet."""


@dataclass
class SyncSummary:
    node: str
    sent_events: int = 0
    #: events applied from others' logs: the hub's and the siblings'
    pulled_events: int = 0
    #: of which from the other nodes of this location
    sibling_events: int = 0
    head_seq: int = 0
    published_seq: int = 0
    safe_seq: int = 0
    backlog: int = 0
    unconfirmed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SyncStatus:
    """What the counter shows about the link. Written by the sync worker only; another
    thread reads a `snapshot()` (each field is replaced whole, never mutated in place)."""

    connected: bool = False
    backlog: int = 0
    unconfirmed: int = 0
    oldest_unsent_age_s: float | None = None
    last_ack_ms: int | None = None
    last_error: str | None = None

    def snapshot(self) -> SyncStatus:
        return replace(self)


async def _log_nats_error(exc: Exception) -> None:
    log.info("NATS: %s", exc)


async def connect_once(url: str, timeout: float = 3.0, auth: dict | None = None) -> NatsClient:
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
            "hub unreachable: cannot connect to NATS at {url} ({cause}); sales are kept on "
            "this node and will be sent at the next sync",
            url=url,
            cause=exc.__class__.__name__,
        ) from None


async def connect_forever(
    url: str, status: SyncStatus | None = None, auth: dict | None = None
) -> NatsClient:
    """A store's long-lived connection: retry forever, notice a dead link within seconds,
    and never buffer unboundedly while disconnected (the ledger is the buffer). Run it in a
    background task: with max_reconnect_attempts=-1 even the first connect never gives up.
    """
    status = status or SyncStatus()

    async def on_error(exc: Exception) -> None:
        cause = f"{exc.__class__.__name__} {exc}".strip()
        status.last_error = str(i18n.Message("hub unreachable: {cause}", cause=cause))
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


async def _opened(
    node: Node, name: str, opening: Awaitable[PullConsumer | None]
) -> PullConsumer | None:
    """Open one of the node's consumers; a clear error when the hub has not made it."""
    try:
        return await opening
    except TransportTimeout:
        if not node.config.nkey_seed:
            raise
        # With credentials a node may not create consumers: NATS refuses the request.
        raise HubUnreachable(
            "the hub has not created consumer {name} yet: check that this node is registered "
            "(kucun hub add-node), NATS reloaded and `kucun hub serve` running",
            name=name,
        ) from None


async def pull(node: Node, transport: Transport) -> int:
    """Apply hub events through this node's durable consumer until none are waiting."""
    node_id, location = node.config.node, node.config.location
    consumer = await _opened(
        node, subjects.node_consumer(node_id), open_hub_consumer(transport, node_id, location)
    )
    if consumer is None:
        return 0
    try:
        return await apply_hub_logs(node.store, consumer)
    finally:
        await consumer.close()


async def pull_siblings(node: Node, transport: Transport) -> int:
    """Apply the other nodes' logs of this location through the node's sibling consumer,
    so every till of a store shows the store's stock, not only its own movements."""
    node_id, location = node.config.node, node.config.location
    consumer = await _opened(
        node,
        subjects.sibling_consumer(node_id),
        open_sibling_consumer(transport, node_id, location),
    )
    if consumer is None:
        return 0
    try:
        return await apply_sibling_logs(node.store, consumer)
    finally:
        await consumer.close()


async def _confirm(node: Node, transport: Transport, publisher: Publisher) -> None:
    """Read the hub's watermark, check it against this ledger, then count what it covers
    as safe. A watermark beyond our head, or whose hash differs from our event at its seq,
    confirms a log that is not this ledger's: refuse (`SyncRefused`) rather than count a
    single event of it."""
    mark = await read_watermark(transport, node.config.node)
    if mark is not None:
        problem = claim_conflict(node.store.log, node.config.node, mark.seq, mark.hash)
        if problem:
            differs = mark.seq <= node.store.log.head_seq(node.config.node)
            conflict = IdentityConflict(node.config.node, f"the hub: {problem}", differs)
            await publisher.refuse(conflict)
    record_safe(node.store, node.config.node, publisher.state, mark)


async def id_taken(config: NodeConfig, timeout: float = 2.0) -> str | None:
    """Why `config.node` already has a log (in the stream or at the hub); None when the
    id is free. `HubUnreachable` when NATS cannot be asked (one bounded connect)."""
    try:
        nc = await connect_once(config.nats, timeout, config.nats_auth())
    except NatsError as exc:  # e.g. credentials NATS does not accept yet (not reloaded)
        raise HubUnreachable("NATS refused the connection ({cause})", cause=str(exc)) from None
    try:
        js = nc.jetstream(domain=config.jetstream_domain)
        return await log_exists(NatsTransport(js), config.node, config.location)
    except TransportError as exc:
        raise HubUnreachable("NATS did not answer ({cause})", cause=type(exc).__name__) from None
    finally:
        await nc.close()


def another_id(node_id: str, location: str) -> str:
    """The `--node … --location …` a refused second ledger could take instead: a till id
    of the same store (it keeps selling from the same stock)."""
    other = f"{location}-T2" if node_id != f"{location}-T2" else f"{location}-T3"
    return f"--node {other} --location {location}"


def _refusal(node: Node, error: LogRefused) -> SyncRefused:
    """What the person at the node reads, and what to do, in one line."""
    node_id, location = node.config.node, node.config.location
    if isinstance(error, ChainBroken):
        return SyncRefused(
            "{error}. Check it with `kucun node verify --db FILE` and tell head office; "
            "this ledger cannot sync until it is restored from a copy that verifies",
            error=str(error),
        )
    other = another_id(node_id, location)
    if isinstance(error, IdentityConflict) and error.differs:
        return SyncRefused(
            "this ledger does not match what the hub holds of {node} ({error}): its file "
            "was edited after it synced, or another ledger writes node id {node}; it sent "
            "and pulled nothing. Check it with `kucun node verify --db FILE` and tell head "
            "office; a second ledger needs its own id (`kucun node init --db NEW.db {other} "
            "--nats URL`)",
            node=node_id,
            error=str(error),
            other=other,
        )
    return SyncRefused(
        "node id {node} is already taken by another ledger ({error}); this ledger sent "
        "and pulled nothing. Give it its own id: `kucun node init --db NEW.db {other} "
        "--nats URL` (if this file is an older copy of {node}'s ledger, sync the current "
        "one instead)",
        node=node_id,
        error=str(error),
        other=other,
    )


def summary_of(
    node: Node, state: OutboxState, sent: int = 0, pulled: int = 0, siblings: int = 0
) -> SyncSummary:
    head = node.store.log.head_seq(node.config.node)
    return SyncSummary(
        node=node.config.node,
        sent_events=sent,
        pulled_events=pulled,
        sibling_events=siblings,
        head_seq=head,
        published_seq=state.published_seq,
        safe_seq=state.safe_seq,
        backlog=head - state.published_seq,
        unconfirmed=head - min(state.safe_seq, head),
    )


def store_peers(node: Node, nc: NatsClient) -> PeerExchange | None:
    """The exchange with the other tills of this store over core NATS, which works on a
    store's leaf server while head office is unreachable (replication/peers.py). Only on a
    store's leaf server (a JetStream domain is set): connected to head office directly, the
    siblings' logs come through JetStream and the wait for peer replies would only slow
    every round. None with NKEY credentials: their permissions do not cover the peer
    subjects (docs/security.md)."""
    if node.config.nkey_seed or not node.config.jetstream_domain:
        return None
    return PeerExchange(node.store, node.config.node, node.config.location, NatsPeerBus(nc))


async def sync_round(
    node: Node,
    transport: Transport,
    publisher: Publisher,
    progress: Progress | None = None,
    peers: PeerExchange | None = None,
) -> SyncSummary:
    # First what the other tills of the store have: it needs no head office.
    from_peers = (await peers.exchange()).applied if peers else 0
    # Before anything is sent or pulled: is the log the hub confirmed, and the one in the
    # stream, this ledger's? (A second ledger on the id must not take the first one's
    # consumer messages, nor count the other's events as its own safe ones.)
    try:
        await _confirm(node, transport, publisher)
        sent = await publisher.publish_backlog(progress)
    except StreamMissing:
        if node.config.jetstream_domain:  # on a store's leaf server
            raise HubUnreachable(
                "head office does not answer through this store's NATS server (is the "
                "store's link down?); took {events} events from the other tills of "
                "{location}; sales are kept here and sent when the link is back",
                events=from_peers,
                location=node.config.location,
            ) from None
        raise HubUnreachable(
            "the hub has not created its streams yet: start `kucun hub serve` once, then sync again"
        ) from None
    except LogRefused as exc:
        raise _refusal(node, exc) from None
    pulled = await pull(node, transport)
    siblings = await pull_siblings(node, transport)
    try:
        await _confirm(node, transport, publisher)
    except LogRefused as exc:
        raise _refusal(node, exc) from None
    siblings += from_peers
    return summary_of(node, publisher.state, sent, pulled + siblings, siblings)


async def report_status(nc: NatsClient, node: Node, state: OutboxState) -> None:
    """Tell the hub this node's backlog (protocol/node_status.py): the hub cannot see what
    never reached it. Best effort on core NATS: a report lost is replaced next round, and
    reporting never fails a round."""
    summary = summary_of(node, state)
    oldest = node.store.log.raw_events(node.config.node, state.published_seq, 1)
    now = wall_ms()
    age = None
    if oldest:
        age = round(max(0.0, (now - physical_ms(codec.decode(oldest[0][1]).hlc)) / 1000), 3)
    report = node_status.NodeStatus(
        node=node.config.node,
        location=node.config.location,
        head_seq=summary.head_seq,
        published_seq=summary.published_seq,
        unconfirmed=summary.unconfirmed,
        backlog=summary.backlog,
        oldest_unsent_age_s=age,
        at_ms=now,
    )
    subject = subjects.status_subject(node.config.node, node.config.location)
    try:
        await nc.publish(subject, node_status.encode(report))
    except Exception as exc:  # the next round reports again
        log.debug("status report not sent: %s", exc)


async def sync_once(
    node: Node,
    url: str | None = None,
    progress: Progress | None = None,
    timeout: float = 3.0,
    confirm_timeout: float = 10.0,
) -> SyncSummary:
    nc = await connect_once(url or node.config.nats, timeout, node.config.nats_auth())
    peers = store_peers(node, nc)
    try:
        if peers:
            await peers.start()  # the other tills may ask this one during its round
        transport = NatsTransport(nc.jetstream(domain=node.config.jetstream_domain))
        publisher = Publisher(
            node.store,
            transport,
            node.config.node,
            location=node.config.location,
            verify_history=True,  # a one-off command may take a second to re-hash it all
        )
        summary = await sync_round(node, transport, publisher, progress, peers)
        deadline = asyncio.get_running_loop().time() + confirm_timeout
        while summary.unconfirmed and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
            try:
                await _confirm(node, transport, publisher)
            except LogRefused as exc:
                raise _refusal(node, exc) from None
            summary = summary_of(
                node,
                publisher.state,
                summary.sent_events,
                summary.pulled_events,
                summary.sibling_events,
            )
        await report_status(nc, node, publisher.state)
        return summary
    except CONNECTION_ERRORS as exc:
        raise HubUnreachable(
            "lost the connection to NATS during sync ({cause}); nothing is lost, sync again",
            cause=str(exc),
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
        self._loop: asyncio.AbstractEventLoop | None = None
        self.refresh_status()

    def wake(self) -> None:
        """Start a round now; safe from any thread (the till wakes it after a sale)."""
        loop = self._loop
        if loop is None or _running_loop() is loop:
            self._wake.set()
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to wake
            loop.call_soon_threadsafe(self._wake.set)

    def refresh_status(self) -> None:
        state = Outbox(self.node.store.conn).load(self.node.config.node)
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
        self._loop = asyncio.get_running_loop()
        while True:
            try:
                self.status.last_error = self.status.last_error or str(
                    i18n.Message("connecting to the hub…")
                )
                nc = await connect_forever(self.url, self.status, self.node.config.nats_auth())
            except Exception as exc:
                self.status.connected = False
                self.status.last_error = str(
                    i18n.Message("hub unreachable: {cause}", cause=str(exc))
                )
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

    async def _rounds(self, nc: NatsClient) -> None:
        transport = NatsTransport(nc.jetstream(domain=self.node.config.jetstream_domain))
        peers = store_peers(self.node, nc)
        if peers:
            await peers.start()
        publisher = Publisher(
            self.node.store, transport, self.node.config.node, location=self.node.config.location
        )
        reconnects = nc.stats["reconnects"]
        while True:
            if nc.stats["reconnects"] != reconnects:  # the stream may have moved on
                reconnects = nc.stats["reconnects"]
                await publisher.reconcile()
            if nc.is_connected:
                try:
                    summary = await sync_round(self.node, transport, publisher, peers=peers)
                except (HubUnreachable, TransportError) as exc:
                    if peers is None:
                        raise
                    # the store's server answers, head office does not (its link is down):
                    # stay connected, answering the other tills, and try again next round
                    self.status.connected = False
                    self.status.last_error = str(exc)
                else:
                    self.status.connected = True
                    self.status.last_error = None
                    if summary.sent_events or summary.pulled_events:
                        log.info(
                            "sync: sent %d, pulled %d", summary.sent_events, summary.pulled_events
                        )
            else:
                self.status.connected = False
            self.refresh_status()
            if nc.is_connected:
                await report_status(nc, self.node, publisher.state)
            await self._sleep()

    async def _sleep(self) -> None:
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
        # that arrives as its timeout fires, and the worker then never stops
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.interval):
                await self._wake.wait()
        self._wake.clear()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class SyncThread:
    """A `SyncWorker` on its own thread, event loop and ledger connection (`Node.open`):
    the hub pull and its folding never run on the till's loop, where a catch-up froze the
    screen. The till reads `status()`, a snapshot, and calls `wake()` after a sale."""

    def __init__(self, path: str, url: str | None = None, interval: float = 5.0) -> None:
        self.path = path
        self.url = url
        self.interval = interval
        self._worker: SyncWorker | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, name="kucun-sync", daemon=True)

    def start(self) -> SyncThread:
        self._thread.start()
        self._started.wait(10)
        return self

    def status(self) -> SyncStatus:
        worker = self._worker
        return worker.status.snapshot() if worker else SyncStatus()

    def wake(self) -> None:
        if self._worker is not None:
            self._worker.wake()

    def stop(self, timeout: float = 5.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout)

    def _main(self) -> None:
        try:
            node = Node.open(self.path)
        except Exception:
            log.exception("sync cannot open the ledger %s", self.path)
            self._started.set()
            return
        try:
            asyncio.run(self._serve(node))
        except Exception:
            log.exception("sync stopped")
        finally:
            node.close()

    async def _serve(self, node: Node) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._worker = SyncWorker(node, self.url, self.interval)
        self._started.set()
        task = asyncio.create_task(self._worker.run())
        await self._stop.wait()
        await cancel_and_wait(task)


async def cancel_and_wait(task: asyncio.Task, timeout: float = 5.0) -> None:
    """Cancel `task` until it ends (or `timeout` passes): a cancellation that lands while
    a library's `asyncio.wait_for` is completing can be swallowed on Python 3.11, so one
    `cancel()` does not always stop a loop."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not task.done() and asyncio.get_running_loop().time() < deadline:
        task.cancel()
        await asyncio.wait({task}, timeout=0.2)
    if task.done() and not task.cancelled():
        with contextlib.suppress(Exception):
            task.result()


async def run_forever(node: Node, url: str | None, interval: float) -> int:
    worker = SyncWorker(node, url, interval)
    await worker.run()
    return 0


i18n.register(
    {
        "hub unreachable: cannot connect to NATS at {url} ({cause}); sales are kept on "
        "this node and will be sent at the next sync": (
            "无法连接总部：连不上 {url} 的 NATS（{cause}）；销售已保存在本机，下次同步时发送"
        ),
        "hub unreachable: {cause}": "无法连接总部：{cause}",
        "connecting to the hub…": "正在连接总部…",
        "the hub has not created consumer {name} yet: check that this node is registered "
        "(kucun hub add-node), NATS reloaded and `kucun hub serve` running": (
            "总部还没有创建消费者 {name}：请检查本节点已登记（`kucun hub add-node`）、"
            "NATS 已重新加载且 `kucun hub serve` 正在运行"
        ),
        "NATS refused the connection ({cause})": "NATS 拒绝了连接（{cause}）",
        "NATS did not answer ({cause})": "NATS 没有应答（{cause}）",
        "{error}. Check it with `kucun node verify --db FILE` and tell head office; "
        "this ledger cannot sync until it is restored from a copy that verifies": (
            "{error}。请用 `kucun node verify --db FILE` 检查并告知总部；"
            "在从一份能通过校验的副本恢复之前，此账本不能同步"
        ),
        "this ledger does not match what the hub holds of {node} ({error}): its file "
        "was edited after it synced, or another ledger writes node id {node}; it sent "
        "and pulled nothing. Check it with `kucun node verify --db FILE` and tell head "
        "office; a second ledger needs its own id (`kucun node init --db NEW.db {other} "
        "--nats URL`)": (
            "此账本与总部保存的 {node} 不一致（{error}）：文件在同步后被改动过，或另一个账本"
            "也在用节点编号 {node}；未发送也未拉取任何内容。请用 `kucun node verify --db FILE` "
            "检查并告知总部；第二个账本需要自己的编号（`kucun node init --db NEW.db {other} "
            "--nats URL`）"
        ),
        "node id {node} is already taken by another ledger ({error}); this ledger sent "
        "and pulled nothing. Give it its own id: `kucun node init --db NEW.db {other} "
        "--nats URL` (if this file is an older copy of {node}'s ledger, sync the current "
        "one instead)": (
            "节点编号 {node} 已被另一个账本占用（{error}）；此账本未发送也未拉取任何内容。"
            "请给它自己的编号：`kucun node init --db NEW.db {other} --nats URL`"
            "（如果此文件是 {node} 账本的旧副本，请改为同步当前的那份）"
        ),
        "head office does not answer through this store's NATS server (is the "
        "store's link down?); took {events} events from the other tills of "
        "{location}; sales are kept here and sent when the link is back": (
            "总部没有通过本店的 NATS 服务器应答（本店的线路断了吗？）；已从 {location} "
            "的其他收银台取得 {events} 个事件；销售保存在这里，线路恢复后发送"
        ),
        "the hub has not created its streams yet: start `kucun hub serve` once, then sync "
        "again": "总部还没有创建它的流：请先运行一次 `kucun hub serve`，再同步",
        "lost the connection to NATS during sync ({cause}); nothing is lost, sync again": (
            "同步时与 NATS 的连接断开（{cause}）；没有丢失任何内容，请再同步一次"
        ),
    }
)
