"""The hub's side of the nodes' status reports (protocol/node_status.py): keep each
node's latest, for `GET /api/v1/sync` and the metrics.

A report is only believed for the node its subject names (with per-node credentials a
node may publish on its own subject alone, docs/security.md), and bounded in size; a bad
one is logged and dropped, and never stops the subscription.
"""

from __future__ import annotations

import asyncio
import logging

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from ledger.sqlite import connect
from ledger.sync_tables import NodeReports
from protocol import node_status, subjects
from replication.clock import wall_ms

log = logging.getLogger("kucun.hub.node_status")


def take(reports: NodeReports, subject: str, data: bytes, received_ms: int) -> str | None:
    """Store one report; returns why it was dropped, or None when it was kept."""
    named = subjects.status_of_subject(subject)
    if named is None:
        return f"not a status subject: {subject[:80]!r}"
    try:
        status = node_status.decode(data)
    except ValueError as exc:
        return f"{subject}: {exc}"
    if (status.location, status.node) != named:
        return (
            f"{subject}: the report is of {status.node!r} at {status.location!r}, "
            "not of the node its subject names"
        )
    reports.store(status, received_ms)
    return None


async def listen(nc: NatsClient, db_path: str, ready: asyncio.Event | None = None) -> None:
    """Keep every node's latest report in the hub's database until cancelled; `ready` is
    set once the subscription is in place."""
    conn = connect(db_path)
    reports = NodeReports(conn)

    async def on_message(msg: Msg) -> None:
        try:
            dropped = take(reports, msg.subject, msg.data, wall_ms())
        except Exception:  # one bad message (or a busy database) never stops the rest
            log.exception("status report from %s not stored", msg.subject[:80])
            return
        if dropped:
            log.warning("status report dropped: %s", dropped)

    sub = await nc.subscribe(subjects.STATUS_SUBSCRIPTION, cb=on_message)
    if ready is not None:
        ready.set()
    try:
        await asyncio.Event().wait()  # until cancelled
    finally:
        try:
            await sub.unsubscribe()
        except Exception as exc:  # the connection may be gone already
            log.debug("status subscription not closed: %s", exc)
        conn.close()
