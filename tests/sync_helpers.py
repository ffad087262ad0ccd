"""Shared by the sync proof tests: big ledgers built fast through the real append path,
the raw contents of the events stream, and byte-for-byte comparison of hub and node.

Nothing here waits on the wall clock except through `tests.helpers.wait_until`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nats
from nats.js.errors import NotFoundError

from ledger.log import EventLog
from ledger.sqlite import transaction
from node.service import Node
from protocol import codec, subjects
from protocol.events import Body, Count, Document, Event, Movement, Tender
from protocol.units import format_qty
from tests.helpers import HubProcess, wait_until

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def days_ago_ms(days: int) -> int:
    """Midnight (UTC) `days` days before today: past enough for any hub's skew check."""
    today = time.time_ns() // 1_000_000 // DAY_MS * DAY_MS
    return today - days * DAY_MS


# ---- building ledgers ------------------------------------------------------------------


def operation(
    rng: random.Random, origin: str, location: str, seq: int, skus: int, note: int
) -> list[Body]:
    """One till operation as the bodies it appends: mostly a sale (header + movement),
    sometimes a receipt at a cost, rarely a count. `seq` is the header's seq."""
    doc = f"{origin}-{seq}"
    sku = f"P{rng.randrange(skus):02d}"
    roll = rng.random()
    if roll < 0.03:
        qty = rng.randint(50, 200) * 1000
        return [
            Document(doc=doc, type="receipt", location=location, counterparty="ACME"),
            Movement(
                sku=sku,
                qty=qty,
                src="@supplier",
                dst=location,
                doc=doc,
                unit_cost=rng.randint(100, 900),
            ),
        ]
    if roll < 0.033:
        return [
            Document(doc=doc, type="count", location=location),
            Count(location=location, sku=sku, qty=rng.randint(0, 40) * 1000, doc=doc),
        ]
    qty = rng.randint(1, 3) * 1000
    price = 100 * rng.randint(3, 30)
    return [
        Document(
            doc=doc,
            type="sale",
            location=location,
            tenders=[
                Tender(method=rng.choice(("cash", "wechat", "alipay")), amount=price * qty // 1000)
            ],
            note=("receipt " + "x" * note) if note else None,
        ),
        Movement(sku=sku, qty=qty, src=location, dst="@customer", doc=doc, unit_price=price),
    ]


def fill(
    node: Node,
    events: int,
    start_ms: int,
    span_ms: int,
    seed: int = 1,
    skus: int = 8,
    note: int = 0,
    per_call: int = 500,
    per_commit: int = 10_000,
) -> int:
    """Append `events` events (exactly) of till operations spread evenly over
    [start_ms, start_ms + span_ms): `per_call` events per `Replica.append` (one
    wall-clock stamp each), `per_commit` per durable transaction. Returns the new head."""
    rng = random.Random(seed)
    store, origin, here = node.store, node.config.node, node.config.location
    done = 0
    while done < events:
        with transaction(node.conn):
            in_commit = 0
            while done < events and in_commit < per_commit:
                head = store.log.head_seq(origin)
                bodies: list[Body] = []
                want = min(per_call, events - done)
                while len(bodies) < want:
                    op = operation(rng, origin, here, head + len(bodies) + 1, skus, note)
                    bodies += op[: want - len(bodies)]
                wall = start_ms + span_ms * done // events
                store.append(bodies, "till", wall)
                done += want
                in_commit += want
    return store.log.head_seq(origin)


def node_stock(node: Node, location: str | None = None) -> list[dict]:
    """The node's own stock in the shape of the hub's GET /api/v1/stock items."""
    return [
        {"location": r.location, "sku": r.sku, "lot": r.lot, "qty": format_qty(r.qty)}
        for r in node.store.read.stock(location=location or node.config.location)
    ]


def db_path(node: Node) -> Path:
    return Path(node.conn.execute("PRAGMA database_list").fetchone()[2])


def copy_ledger(node: Node, path: Path) -> Node:
    """An independent copy of a node's ledger (SQLite's online backup)."""
    dest = sqlite3.connect(path)
    with dest:
        node.conn.backup(dest)
    dest.close()
    return Node.open(path)


# ---- the real CLI ----------------------------------------------------------------------


def sync_cmd(db: Path | str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "kucun",
        "node",
        "sync",
        "--db",
        str(db),
        "--once",
        "--json",
        *extra,
    ]


def child_env() -> dict[str, str]:
    return dict(os.environ, KUCUN_LANG="en")


# ---- the stream, read raw ----------------------------------------------------------------


@dataclass
class StreamBatch:
    stream_seq: int
    msg_id: str | None
    seqs: list[int]
    origins: set[str]


async def subject_batches(js, origin: str, location: str | None = None) -> list[StreamBatch]:
    """Every message on kucun.ev.<location>.<origin> of KUCUN_EVENTS, in stream order,
    decoded (location: default the origin)."""
    subject = subjects.events_subject(origin, location)
    out: list[StreamBatch] = []
    seq = 1
    while True:
        try:
            msg = await js.get_msg(subjects.EVENTS_STREAM, seq, subject=subject, next=True)
        except NotFoundError:
            return out
        events = [codec.decode(raw) for raw in codec.decode_batch(msg.data or b"")]
        out.append(
            StreamBatch(
                stream_seq=msg.seq,
                msg_id=(msg.headers or {}).get("Nats-Msg-Id"),
                seqs=[e.seq for e in events],
                origins={e.origin for e in events},
            )
        )
        seq = msg.seq + 1


def assert_exactly_once(
    batches: list[StreamBatch], origin: str, location: str | None = None
) -> int:
    """The stream holds origin's events 1..n, each exactly once, in order, each batch named
    after what it holds. Returns n."""
    seqs = [s for b in batches for s in b.seqs]
    duplicates = len(seqs) - len(set(seqs))
    assert duplicates == 0, f"{duplicates} events of {origin} stored twice in the stream"
    assert seqs == list(range(1, len(seqs) + 1)), f"stream of {origin} has gaps or disorder"
    for b in batches:
        assert b.origins == {origin}, b
        assert b.msg_id == subjects.batch_msg_id(origin, b.seqs[0], b.seqs[-1], location), b
    return len(seqs)


async def stream_check(url: str, origin: str, location: str | None = None) -> int:
    nc = await nats.connect(url, allow_reconnect=False, connect_timeout=5)
    try:
        batches = await subject_batches(nc.jetstream(), origin, location)
        return assert_exactly_once(batches, origin, location)
    finally:
        await nc.close()


# ---- comparing replicas ------------------------------------------------------------------


def read_only(db: Path | str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def log_rows(db: Path | str, origin: str) -> list[tuple[int, bytes]]:
    """`origin`'s verified log as `db` holds it, whichever form each event is stored in."""
    conn = read_only(db)
    try:
        return EventLog(conn, origin).raw_events(origin, 0, limit=10**9)
    finally:
        conn.close()


DERIVED = {
    "journal": "location, sku, hlc, origin, seq, lot, delta, counted, variance, level_after, "
    "qty, unit_cost, doc, cogs, qty_after, value_after, last_cost_after",
    "stock": "location, sku, lot, qty",
    "cost": "location, sku, qty, value, last_cost",
}


def derived_rows(db: Path | str, location: str) -> dict[str, list[tuple]]:
    """The derived journals of one location (every row's level and cost state)."""
    conn = read_only(db)
    try:
        return {
            table: conn.execute(
                f"SELECT {cols} FROM {table} WHERE location = ? ORDER BY {cols}", (location,)
            ).fetchall()
            for table, cols in DERIVED.items()
        }
    finally:
        conn.close()


def nodes_item(hub: HubProcess, origin: str) -> dict | None:
    status, body = hub.get("/api/v1/nodes")
    assert status == 200, body
    return next((i for i in body["items"] if i["origin"] == origin), None)


def assert_converged(
    hub: HubProcess,
    node: Node,
    nats_url: str,
    timeout: float = 60,
    alone: bool = True,
    rejected_ok: bool = False,
) -> None:
    """The hub holds exactly the node's log and derives exactly the node's stock.

    `alone`: the node is the only writer at its location, so every derived journal row at
    the hub (levels, variances, cost states, COGS) must equal the node's own.
    """
    origin, location = node.config.node, node.config.location
    head = node.store.log.head_seq(origin)
    assert wait_until(lambda: hub.ingested(origin) == head, timeout=timeout), (
        f"hub ingested {hub.ingested(origin)} of {head} events of {origin}"
    )
    if alone:
        assert hub.stock(location=location) == node_stock(node)
    item = nodes_item(hub, origin)
    assert item is not None
    assert (item["ingested_seq"], item["waiting"], item["missing"], item["held"]) == (
        head,
        0,
        [],
        [],
    ), item
    if not rejected_ok:
        assert hub.get("/api/v1/rejected")[1]["items"] == []
    node_db = db_path(node)
    assert log_rows(hub.db, origin) == log_rows(node_db, origin)  # byte for byte
    if alone:
        assert derived_rows(hub.db, location) == derived_rows(node_db, location)
    assert asyncio.run(stream_check(nats_url, origin, location)) == head  # each exactly once


# ---- processes -----------------------------------------------------------------------------


class SubjectWatch:
    """Counts messages published on a subject (a core NATS subscription), to act right
    after the n-th batch of a sync reached the server."""

    def __init__(self, nc, subject: str) -> None:
        self.nc = nc
        self.subject = subject
        self.seen = 0
        self._target = 0
        self._reached = asyncio.Event()
        self._sub = None

    async def __aenter__(self) -> SubjectWatch:
        self._sub = await self.nc.subscribe(self.subject, cb=self._on_msg)
        await self.nc.flush()
        return self

    async def __aexit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            await self._sub.unsubscribe()

    async def _on_msg(self, _msg) -> None:
        self.seen += 1
        if self._target and self.seen >= self._target:
            self._reached.set()

    def arm(self, more: int) -> asyncio.Event:
        self._target = self.seen + more
        self._reached = asyncio.Event()
        return self._reached


async def wait_or_exit(
    proc: asyncio.subprocess.Process, event: asyncio.Event, timeout: float
) -> bool:
    """True if `event` fired while `proc` still ran; False if proc exited or time ran out."""
    waiter = asyncio.ensure_future(event.wait())
    exited = asyncio.ensure_future(proc.wait())
    done, _ = await asyncio.wait(
        {waiter, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
    )
    waiter.cancel()
    exited.cancel()
    return waiter in done and proc.returncode is None


async def kill9(proc: asyncio.subprocess.Process) -> bool:
    """SIGKILL a child if it still runs; True if it was killed by us."""
    if proc.returncode is not None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    await proc.wait()
    return proc.returncode == -signal.SIGKILL


def head_and_outbox(db: Path | str, origin: str) -> tuple[int, int, int]:
    """(head, events held, outbox published_seq) of a node ledger, read from disk."""
    conn = read_only(db)
    try:
        head = conn.execute(
            "SELECT coalesce(max(seq), 0) FROM heads WHERE origin = ?", (origin,)
        ).fetchone()[0]
        held = conn.execute("SELECT count(*) FROM events WHERE origin = ?", (origin,)).fetchone()[0]
        row = conn.execute(
            "SELECT published_seq FROM outbox WHERE origin = ?", (origin,)
        ).fetchone()
        return head, held, row[0] if row else 0
    finally:
        conn.close()


def make_event(
    origin: str, seq: int, prev: bytes, hlc_ms: int, body: Body, user: str = "x"
) -> Event:
    return Event(origin=origin, seq=seq, hlc=hlc_ms << 16, prev=prev, user=user, body=body)


def chain(origin: str, bodies: list[Body], hlc_ms: int) -> list[bytes]:
    """Canonical bytes of a correctly chained log of `bodies` (seq 1..n)."""
    out, prev = [], codec.GENESIS
    for i, body in enumerate(bodies, start=1):
        raw = codec.encode(make_event(origin, i, prev, hlc_ms + i, body))
        out.append(raw)
        prev = codec.event_hash(raw)
    return out
