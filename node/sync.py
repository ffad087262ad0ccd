"""Pushing the node's log to JetStream and pulling the hub's events back.

The node's outbox is its own event log: everything after the last seq the server
acknowledged is sent again, in batches of consecutive events, each with a Nats-Msg-Id
naming its range, so a resend after a crash or a lost ack is dropped by the server's
duplicate window and, failing that, ignored by the hub's idempotent ingest.
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
from nats.js.errors import NotFoundError

from node.errors import NodeError
from node.service import Node, wall_ms
from protocol import codec, subjects

log = logging.getLogger("kucun.node.sync")

ACKED_KEY = "acked_seq"


class HubUnreachable(NodeError):
    pass


@dataclass
class SyncSummary:
    node: str
    sent_events: int = 0
    sent_batches: int = 0
    acked_seq: int = 0
    head_seq: int = 0
    pulled_events: int = 0
    backlog: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


Progress = Callable[[int, int], None]


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


async def connect(url: str, timeout: float = 3.0) -> nats.NATS:
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
        )
    except (TimeoutError, NoServersError, OSError) as exc:
        raise HubUnreachable(
            f"hub unreachable: cannot connect to NATS at {url} ({exc.__class__.__name__}); "
            "sales are kept on this node and will be sent at the next sync"
        ) from None


async def _log_nats_error(exc: Exception) -> None:
    log.info("NATS: %s", exc)


async def push(
    node: Node, nc: nats.NATS, progress: Progress | None = None, summary: SyncSummary | None = None
) -> SyncSummary:
    """Publish every event after the acknowledged seq; record each ack as it comes."""
    origin = node.config.node
    summary = summary or SyncSummary(node=origin)
    js = nc.jetstream()
    acked = node.sync_value(ACKED_KEY)
    head = node.store.head_seq(origin)
    summary.head_seq = head
    total = head - acked
    subject = subjects.events_subject(origin)
    while True:
        rows = node.store.raw_events(origin, acked, limit=20_000)
        if not rows:
            break
        for batch in batches(rows, subjects.MAX_BATCH_BYTES):
            first, last = batch[0][0], batch[-1][0]
            payload = codec.encode_batch([raw for _, raw in batch])
            msg_id = subjects.batch_msg_id(origin, first, last)
            try:
                await js.publish(subject, payload, timeout=10.0, headers={"Nats-Msg-Id": msg_id})
            except NotFoundError:
                raise HubUnreachable(
                    "the hub has not created the event stream yet: start `kucun hub serve` "
                    "once, then sync again"
                ) from None
            except NatsTimeout:
                raise HubUnreachable(
                    "NATS did not acknowledge in time; nothing is lost, sync again later"
                ) from None
            acked = last
            node.set_sync_value(ACKED_KEY, acked)
            summary.sent_events += len(batch)
            summary.sent_batches += 1
            if progress:
                progress(head - acked if total else 0, total)
    summary.acked_seq = acked
    summary.backlog = node.store.head_seq(origin) - acked
    return summary


async def pull(node: Node, nc: nats.NATS, summary: SyncSummary) -> SyncSummary:
    """Apply hub events through this node's durable consumer until none are waiting."""
    js = nc.jetstream()
    try:
        sub = await js.pull_subscribe(
            subjects.HUB_SUBJECTS,
            durable=subjects.node_consumer(node.config.node),
            stream=subjects.HUB_STREAM,
        )
    except NotFoundError:
        log.warning("hub stream %s not found; nothing to pull yet", subjects.HUB_STREAM)
        return summary
    while True:
        try:
            msgs = await sub.fetch(batch=64, timeout=0.5)
        except (TimeoutError, NatsTimeout):
            break
        raws: list[bytes] = []
        for msg in msgs:
            try:
                raws.extend(codec.decode_batch(msg.data))
            except codec.BadEvent as exc:
                log.error("ignoring malformed hub message %s: %s", msg.subject, exc)
        result = node.store.ingest(raws, wall_ms())
        for problem in result.rejected:
            log.error("hub event rejected: %s", problem)
        for msg in msgs:
            await msg.ack()
        summary.pulled_events += result.applied
    return summary


async def sync_once(
    node: Node, url: str | None = None, progress: Progress | None = None, timeout: float = 3.0
) -> SyncSummary:
    nc = await connect(url or node.config.nats, timeout)
    try:
        summary = await push(node, nc, progress)
        await pull(node, nc, summary)
        return summary
    finally:
        # Not drain(): a pull subscription's expiring request makes drain wait its full timeout.
        # Acks are plain publishes, so flush them before closing.
        with contextlib.suppress(Exception):
            await nc.flush(timeout=2)
        await nc.close()


@dataclass
class SyncStatus:
    """What the counter shows about the link: kept up to date by `run_forever`."""

    connected: bool = False
    backlog: int = 0
    last_ok_ms: int | None = None
    last_error: str | None = None


async def run_forever(
    node: Node, url: str | None, interval: float, status: SyncStatus | None = None
) -> int:
    """Sync every `interval` seconds; a failed round is logged and retried, never fatal."""
    status = status or SyncStatus()
    while True:
        try:
            summary = await sync_once(node, url)
        except NodeError as exc:
            status.connected = False
            status.last_error = str(exc)
            status.backlog = node.store.head_seq(node.config.node) - node.sync_value(ACKED_KEY)
            log.warning("%s", exc)
        else:
            status.connected = True
            status.last_error = None
            status.backlog = summary.backlog
            status.last_ok_ms = wall_ms()
            if summary.sent_events or summary.pulled_events:
                log.info("sync: sent %d, pulled %d", summary.sent_events, summary.pulled_events)
        await asyncio.sleep(interval)
