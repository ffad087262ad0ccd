"""End-to-end replication speed: one node's backlog through a real nats-server into the hub.

    python benchmarks/sync.py [--events 1000000] [--quick] [--dir PATH] [--profile]

1. Builds the node's ledger through `Replica.append` in large batches (the real path,
   timed): sales (a header and a movement each) with a receipt now and then.
2. Starts nats-server (`kucun.natsserver.NatsServer`, JetStream fsync on every write) and a
   `kucun hub serve` process, and waits until the hub has created its streams.
3. End to end: `node.sync.sync_once` from this process, timed from its start until the
   hub's watermark covers the node's head (what the node calls "safe"); the time at which
   the last batch was acknowledged is reported too, so node publish and hub ingest show
   separately.
4. The raw limits of the same run, on the same bytes: nats-py JetStream publish of the
   same batches (same size limit, one awaited ack each, as the publisher does) into a
   stream of the same server, and a plain SQLite `executemany` INSERT of the same rows
   into a table shaped like `events`, one commit per hub fetch (16 batches), on a
   connection opened like the hub's. The hub keeps a batch that continues its origin's
   log as one row and makes event rows of it when it folds (docs/architecture.md), so
   end to end can pass this figure: it is the cost the hub would pay storing row by row.
5. Folding alone: the same messages stored by the hub's ingest in this process (not
   folded), then folded as an idle hub does, in chunks: events/s folded, against the
   50,000 events/s target (a million-event backlog in the reports within 20 s) and beside
   the raw SQLite limit above.
6. With --profile: the same sync again against a fresh server and a hub run under
   cProfile, the node's side under cProfile in this process; prints where time goes.

Progress goes to the terminal only when stdout is one. A benchmark reports; it never fails
the build: MISS is printed and the exit code stays 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# This file is benchmarks/sync.py: keep its folder off the path so packages resolve.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import nats  # noqa: E402
from nats.js.errors import NotFoundError  # noqa: E402

from kucun.natsserver import NatsServer, free_port, wait_for_port  # noqa: E402
from ledger.sqlite import connect, transaction  # noqa: E402
from node import sync  # noqa: E402
from node.service import Node  # noqa: E402
from protocol import codec, subjects  # noqa: E402
from protocol.events import Body, Document, Movement, Tender  # noqa: E402
from replication.ingest import FETCH_BATCH  # noqa: E402
from replication.publisher import batches  # noqa: E402

TARGET = 100_000
#: events/s the hub folds (the issue's target: a 1M backlog in the reports within 20 s)
FOLD_TARGET = 50_000
DAY_MS = 86_400_000
CHUNK = 10_000
TTY = sys.stdout.isatty()


def progress(label: str, done: int, total: int, started: float) -> None:
    if TTY:
        rate = done / max(time.perf_counter() - started, 1e-9)
        print(f"\r  {label}: {done:>10,} / {total:,}  {rate:>10,.0f}/s", end="", flush=True)


def end_progress() -> None:
    if TTY:
        print("\r\033[K", end="", flush=True)


# ---- 1. the node's ledger ----------------------------------------------------------------


def build_backlog(path: Path, events: int, nats_url: str) -> tuple[Node, float]:
    """`events` events through `Replica.append`, CHUNK per durable transaction."""
    node = Node.init(path, "S01", None, nats_url)
    rng = random.Random(1)
    start_ms = (time.time_ns() // 1_000_000 // DAY_MS - 2) * DAY_MS  # two days ago
    t = time.perf_counter()
    done = 0
    while done < events:
        head = node.store.log.head_seq("S01")
        bodies: list[Body] = []
        want = min(CHUNK, events - done)
        while len(bodies) < want:
            doc = f"S01-{head + len(bodies) + 1}"
            sku = f"P{rng.randrange(500):03d}"
            if rng.random() < 0.02:
                op: list[Body] = [
                    Document(doc=doc, type="receipt", location="S01", counterparty="ACME"),
                    Movement(
                        sku=sku,
                        qty=100_000,
                        src="@supplier",
                        dst="S01",
                        doc=doc,
                        unit_cost=rng.randint(100, 900),
                    ),
                ]
            else:
                price = 100 * rng.randint(3, 30)
                op = [
                    Document(
                        doc=doc,
                        type="sale",
                        location="S01",
                        tenders=[Tender(method="cash", amount=price)],
                    ),
                    Movement(
                        sku=sku, qty=1000, src="S01", dst="@customer", doc=doc, unit_price=price
                    ),
                ]
            bodies += op[: want - len(bodies)]
        node.store.append(bodies, "bench", start_ms + DAY_MS * done // events)
        done += want
        progress("building the node's ledger", done, events, t)
    end_progress()
    return node, time.perf_counter() - t


# ---- 2. nats-server and the hub ------------------------------------------------------------


def start_hub(
    root: Path, nats_url: str, profile_to: Path | None = None
) -> tuple[subprocess.Popen, int]:
    """A `kucun hub serve` process and its HTTP port, once it has created its streams."""
    db = root / "hub.db"
    if not db.exists():
        subprocess.run(
            [sys.executable, "-m", "kucun", "hub", "init", "--db", str(db)],
            check=True,
            capture_output=True,
        )
    port = free_port()
    prefix = [sys.executable] + (["-m", "cProfile", "-o", str(profile_to)] if profile_to else [])
    proc = subprocess.Popen(
        [
            *prefix,
            "-m",
            "kucun",
            "hub",
            "serve",
            "--db",
            str(db),
            "--nats",
            nats_url,
            "--http",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(root / "hub.log").open("ab"),
    )
    wait_for_port("127.0.0.1", port, timeout=30, proc=proc)
    asyncio.run(wait_for_streams(nats_url))
    return proc, port


def folded(port: int, origin: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as reply:
        return json.load(reply)["folded"].get(origin, 0)


async def wait_for_streams(url: str, timeout: float = 30) -> None:
    """The hub creates the streams and the watermark bucket once it is connected."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                await js.stream_info(subjects.EVENTS_STREAM)
                await js.stream_info(subjects.WATERMARK_STREAM)
                return
            except NotFoundError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the hub did not create its streams") from None
                await asyncio.sleep(0.05)
    finally:
        await nc.close()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the hub stops cleanly (and cProfile writes out)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- 3. end to end ---------------------------------------------------------------------------


def end_to_end(node: Node, events: int, port: int) -> tuple[float, float, float]:
    """Seconds from the start until the last batch was acknowledged, until the hub
    confirmed the head (the node's events are safe), and until the hub's reports show
    them all (folded)."""
    t = time.perf_counter()
    acked_at = [0.0]

    def on_progress(sent: int, total: int) -> None:
        progress("node -> hub", sent, total, t)
        if sent >= total:
            acked_at[0] = time.perf_counter() - t

    summary = asyncio.run(sync.sync_once(node, progress=on_progress, confirm_timeout=3600))
    elapsed = time.perf_counter() - t
    end_progress()
    assert summary.sent_events == events and summary.unconfirmed == 0, summary
    while folded(port, "S01") < events:
        time.sleep(0.05)
    return acked_at[0], elapsed, time.perf_counter() - t


# ---- 4. the raw limits -------------------------------------------------------------------------


def same_rows(node: Node) -> list[tuple]:
    return node.store.conn.execute(
        "SELECT origin, seq, hlc, kind, raw, hash FROM events WHERE origin = 'S01' ORDER BY seq"
    ).fetchall()


def same_batches(rows: list[tuple]) -> list[list[tuple[int, bytes]]]:
    return batches([(r[1], r[4]) for r in rows], subjects.MAX_BATCH_BYTES)


async def raw_publish(url: str, payloads: list[bytes], events: int) -> float:
    """The same batch bytes, one awaited JetStream ack each, into a file stream."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(name="BENCH_RAW", subjects=["bench.raw"])
    t = time.perf_counter()
    for payload in payloads:
        await js.publish("bench.raw", payload)
    elapsed = time.perf_counter() - t
    await js.delete_stream("BENCH_RAW")
    await nc.close()
    return events / elapsed


def raw_insert(root: Path, rows: list[tuple], groups: list[int]) -> float:
    """The same rows, one transaction per hub fetch, into a table shaped like `events`."""
    conn = connect(root / "raw.db")
    conn.execute(
        "CREATE TABLE events(origin TEXT NOT NULL, seq INTEGER NOT NULL, "
        "hlc INTEGER NOT NULL, kind TEXT NOT NULL, raw BLOB NOT NULL, "
        "hash BLOB NOT NULL, PRIMARY KEY(origin, seq)) WITHOUT ROWID"
    )
    t = time.perf_counter()
    at = 0
    for size in groups:
        with transaction(conn):
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows[at : at + size])
        at += size
    elapsed = time.perf_counter() - t
    conn.close()
    return len(rows) / elapsed


# ---- 5. where the time goes ------------------------------------------------------------------


def top(stats: pstats.Stats, sort: str, limit: int = 18) -> str:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]  # Stats prints to its `stream`
    stats.sort_stats(sort).print_stats(limit)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    return "\n".join(lines[start:])


def fold_rate(
    root: Path, payloads: list[bytes], events: int, breakdown: bool
) -> tuple[float, float]:
    """The hub's ingest of the same messages in this process, fetch by fetch (stored, not
    folded), then folding all of it as the idle hub does (chunks of PROJECT_IDLE_CHUNK):
    events/s folded, by the wall clock and by this process's CPU time (the machine's cores
    may be shared; the CPU figure moves less with what else runs). With `breakdown`, wall
    time per stage."""
    from hub.store import HubStore
    from ledger import journals
    from replication import ingest

    root.mkdir(parents=True, exist_ok=True)
    store, _ = HubStore.init(root / "fold-hub.db")
    stages: dict[str, float] = {}
    undo: list = []
    if breakdown:

        def stage(owner, name: str, label: str) -> None:
            fn = getattr(owner, name)
            undo.append((owner, name, fn))

            def wrapper(*args, **kwargs):
                t = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    stages[label] = stages.get(label, 0.0) + time.perf_counter() - t

            setattr(owner, name, wrapper)

        stage(journals.Journals, "fold", "Journals.fold: journal, documents, registers")
        stage(store.events.log, "ingest_batch", "store whole batches: decode, verify")
        stage(store.events.log, "ingest_decoded", "store event by event (slow path)")
        stage(store.events.log, "verified_events", "read events back for folding")
    msgs = [_Msg(subjects.events_subject("S01"), p) for p in payloads]
    try:
        t = time.perf_counter()
        for i in range(0, len(msgs), FETCH_BATCH):
            ingest.ingest_messages(store.events, store.tables, msgs[i : i + FETCH_BATCH])
        stored = time.perf_counter() - t
        t, cpu = time.perf_counter(), time.process_time()
        with progress_bar("hub folding", events) as advance:
            while done := ingest.project(store.events, store.tables, ingest.PROJECT_IDLE_CHUNK):
                advance(done)
        fold_s, fold_cpu_s = time.perf_counter() - t, time.process_time() - cpu
    finally:
        for owner, name, fn in undo:
            setattr(owner, name, fn)
    assert store.events.projector.unfolded() == 0
    if breakdown:
        total = stored + fold_s
        print(
            f"\n--- hub in this process: stored in {stored:.2f} s "
            f"({events / stored:,.0f} events/s), then folded in {fold_s:.2f} s ---"
        )
        for name, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
            print(f"  {seconds:7.2f} s {seconds / total:6.1%}  {name}")
    store.conn.close()
    return events / fold_s, events / fold_cpu_s


@contextlib.contextmanager
def progress_bar(label: str, total: int):
    started, done = time.perf_counter(), [0]

    def advance(n: int) -> None:
        done[0] += n
        progress(label, done[0], total, started)

    try:
        yield advance
    finally:
        end_progress()


class _Msg:
    def __init__(self, subject: str, data: bytes) -> None:
        self.subject = subject
        self.data = data


def profile_run(root: Path, node_db: Path, events: int) -> None:
    """Sync a copy of the ledger again, against a fresh server and a profiled hub."""
    copy = root / "profiled-node.db"
    source = sqlite3.connect(node_db)
    dest = sqlite3.connect(copy)
    source.backup(dest)
    source.close()
    dest.execute("DELETE FROM outbox")
    dest.commit()
    dest.close()
    prof_root = root / "profiled"
    prof_root.mkdir()
    server = NatsServer(data_dir=prof_root / "nats").start()
    hub_prof = prof_root / "hub.prof"
    hub, _ = start_hub(prof_root, server.url, profile_to=hub_prof)
    try:
        node = Node.open(copy)
        profiler = cProfile.Profile()
        t = time.perf_counter()
        profiler.enable()
        summary = asyncio.run(sync.sync_once(node, url=server.url, confirm_timeout=3600))
        profiler.disable()
        elapsed = time.perf_counter() - t
        assert summary.unconfirmed == 0, summary
    finally:
        stop(hub)
        server.close()
    print(f"\nprofiled run (both sides under cProfile): {events / elapsed:,.0f} events/s")
    node_stats = pstats.Stats(profiler)
    print("\n--- node: sync_once in this process, by own time ---")
    print(top(node_stats, "tottime"))
    print("\n--- node: by cumulative time ---")
    print(top(node_stats, "cumulative"))
    hub_stats = pstats.Stats(str(hub_prof))
    print("\n--- hub: `kucun hub serve` process, by own time ---")
    print(top(hub_stats, "tottime"))
    print("\n--- hub: by cumulative time ---")
    print(top(hub_stats, "cumulative", 30))


# ---- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 events")
    parser.add_argument(
        "--dir",
        help="work directory (default: a temporary one); put it on "
        "the disk the hub would use, fsync cost is part of the figures",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="then sync again with the hub and the node under cProfile",
    )
    args = parser.parse_args()
    events = 50_000 if args.quick else args.events
    print(
        f"kucun sync benchmark: {events:,} events; {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    with contextlib.ExitStack() as stack:
        if args.dir:
            root = Path(args.dir)
            root.mkdir(parents=True, exist_ok=False)
        else:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kucun-sync-")))
        server = NatsServer(data_dir=root / "nats").start()
        stack.callback(server.close)
        node, build_s = build_backlog(root / "node.db", events, server.url)
        size = node.conn.execute(
            "SELECT sum(length(raw)) FROM events WHERE origin = 'S01'"
        ).fetchone()[0]
        print(
            f"  node ledger built through Replica.append: {build_s:.1f} s "
            f"({events / build_s:,.0f} events/s), {size / 1e6:,.0f} MB of events "
            f"({size / events:.0f} bytes each)"
        )
        hub, port = start_hub(root, server.url)
        try:
            acked_s, confirmed_s, folded_s = end_to_end(node, events, port)
        finally:
            stop(hub)
        rows = same_rows(node)
        chunks = same_batches(rows)
        payloads = [codec.encode_batch([raw for _, raw in b]) for b in chunks]
        per_fetch = [
            sum(len(b) for b in chunks[i : i + FETCH_BATCH])
            for i in range(0, len(chunks), FETCH_BATCH)
        ]
        publish_rate = asyncio.run(raw_publish(server.url, payloads, events))
        insert_rate = raw_insert(root, rows, per_fetch)
        node.close()
        rate = events / confirmed_s
        slower = min(publish_rate, insert_rate)
        print(
            f"\n  {len(payloads):,} batches of <= {subjects.MAX_BATCH_BYTES // 1024} KiB, "
            f"{FETCH_BATCH} per hub transaction\n"
        )
        print(f"  {'':<52}{'events/s':>12}{'seconds':>10}")
        print(
            f"  {'end to end: sync start -> hub watermark covers head':<52}"
            f"{rate:>12,.0f}{confirmed_s:>10.2f}"
        )
        print(
            f"  {'  of which node publish (last batch acknowledged)':<52}"
            f"{events / acked_s:>12,.0f}{acked_s:>10.2f}"
        )
        print(
            f"  {'hub reports show them all (folded), from sync start':<52}"
            f"{events / folded_s:>12,.0f}{folded_s:>10.2f}"
        )
        print(
            f"  {'raw limit: nats-py JetStream publish, same batches':<52}"
            f"{publish_rate:>12,.0f}{events / publish_rate:>10.2f}"
        )
        print(
            f"  {'raw limit: SQLite executemany, same rows and commits':<52}"
            f"{insert_rate:>12,.0f}{events / insert_rate:>10.2f}"
        )
        print(
            f"\n  end to end is {rate / slower:.1%} of the slower raw limit; target "
            f">= {TARGET:,} events/s: {'PASS' if rate >= TARGET else 'MISS'}"
        )
        folding, folding_cpu = fold_rate(root, payloads, events, breakdown=False)
        lag = folded_s - confirmed_s
        print(
            f"  {'hub folding alone (idle hub, same events)':<52}"
            f"{folding:>12,.0f}{events / folding:>10.2f}"
        )
        print(
            f"  {'  the same by CPU time (cores may be shared)':<52}"
            f"{folding_cpu:>12,.0f}{events / folding_cpu:>10.2f}"
        )
        print(
            f"\n  folding is {folding / insert_rate:.1%} of the raw SQLite limit; target "
            f">= {FOLD_TARGET:,} events/s: {'PASS' if folding >= FOLD_TARGET else 'MISS'}"
        )
        per_million = 1_000_000 / folding
        print(
            f"  reports current {lag:.1f} s after the hub confirmed this backlog "
            f"({per_million:.1f} s per million events folded; target <= 20 s per "
            f"million: {'PASS' if per_million <= 20 else 'MISS'})"
        )
        if args.profile:
            fold_rate(root / "breakdown", payloads, events, breakdown=True)
            profile_run(root, root / "node.db", events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
