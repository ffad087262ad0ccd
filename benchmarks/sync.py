"""End-to-end replication speed: a node's backlog through a real nats-server into the hub.

    python benchmarks/sync.py [--events 1000000] [--quick]

Builds a node ledger with the backlog (timed: that is the node's own append path), starts
nats-server and a `kucun hub serve` process, then times `sync_once` until the hub's
watermark covers the whole backlog. Beside it, in the same run, the raw limits: nats-py
JetStream publish of the same batch bytes, and a plain SQLite executemany insert of the
same rows. A benchmark reports; it never fails the build.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This file is benchmarks/sync.py: keep its folder off the path so packages resolve.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import nats  # noqa: E402

from kucun.natsserver import NatsServer, free_port, wait_for_port  # noqa: E402
from ledger.publisher import batches  # noqa: E402
from ledger.sqlite import connect  # noqa: E402
from node import sync  # noqa: E402
from node.service import Node  # noqa: E402
from protocol import codec, subjects  # noqa: E402
from protocol.events import Movement  # noqa: E402

TARGET = 100_000


def build_backlog(path: Path, events: int, nats_url: str) -> tuple[Node, float]:
    node = Node.init(path, "S01", None, nats_url)
    chunk, t = 10_000, time.perf_counter()
    for i in range(0, events, chunk):
        bodies = [
            Movement(sku=f"P{(i + j) % 500:03d}", qty=1000, src="S01", dst="@customer",
                     unit_price=350)
            if (i + j) % 10 else
            Movement(sku=f"P{(i + j) % 500:03d}", qty=50_000, src="@supplier", dst="S01",
                     unit_cost=200)
            for j in range(min(chunk, events - i))
        ]
        node.store.append(bodies, "bench", wall_ms=1_790_000_000_000 + i)
    return node, events / (time.perf_counter() - t)


async def raw_publish(url: str, payloads: list[bytes], events: int) -> float:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(name="BENCH_RAW", subjects=["bench.raw"])
    t = time.perf_counter()
    for payload in payloads:
        await js.publish("bench.raw", payload)
    rate = events / (time.perf_counter() - t)
    await js.delete_stream("BENCH_RAW")
    await nc.close()
    return rate


def raw_insert(root: Path, rows: list[tuple]) -> float:
    conn = connect(root / "raw.db")
    conn.execute("CREATE TABLE events(origin TEXT, seq INTEGER, hlc INTEGER, kind TEXT, "
                 "raw BLOB, hash BLOB, PRIMARY KEY(origin, seq)) WITHOUT ROWID")
    t = time.perf_counter()
    for i in range(0, len(rows), 10_000):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows[i : i + 10_000])
        conn.execute("COMMIT")
    return len(rows) / (time.perf_counter() - t)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50k events")
    args = parser.parse_args()
    events = 50_000 if args.quick else args.events
    print(f"kucun sync benchmark: {events:,} events; {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="kucun-sync-bench-") as tmp:
        root = Path(tmp)
        server = NatsServer(data_dir=root / "nats").start()
        hub_proc = None
        try:
            node, append_rate = build_backlog(root / "node.db", events, server.url)
            print(f"  node append: {append_rate:,.0f} events/s")
            subprocess.run([sys.executable, "-m", "kucun", "hub", "init", "--db",
                            str(root / "hub.db")], check=True, capture_output=True)
            port = free_port()
            hub_proc = subprocess.Popen(
                [sys.executable, "-m", "kucun", "hub", "serve", "--db", str(root / "hub.db"),
                 "--nats", server.url, "--http", f"127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for_port("127.0.0.1", port, proc=hub_proc)
            t = time.perf_counter()
            summary = asyncio.run(sync.sync_once(node, confirm_timeout=3600))
            elapsed = time.perf_counter() - t
            assert summary.unconfirmed == 0, summary
            end_to_end = events / elapsed

            rows = node.store.conn.execute(
                "SELECT origin, seq, hlc, kind, raw, hash FROM events ORDER BY seq").fetchall()
            payloads = [codec.encode_batch([raw for _, raw in b]) for b in batches(
                [(r[1], r[4]) for r in rows], subjects.MAX_BATCH_BYTES)]
            publish_rate = asyncio.run(raw_publish(server.url, payloads, events))
            insert_rate = raw_insert(root, rows)
        finally:
            if hub_proc:
                hub_proc.terminate()
                hub_proc.wait()
            server.close()
    slower = min(publish_rate, insert_rate)
    print(f"\n{'':<34}{'events/s':>14}")
    print(f"{'end to end (node -> hub, confirmed)':<34}{end_to_end:>14,.0f}")
    print(f"{'raw: nats-py JetStream publish':<34}{publish_rate:>14,.0f}")
    print(f"{'raw: SQLite executemany insert':<34}{insert_rate:>14,.0f}")
    print(f"\nratio to the slower raw limit: {end_to_end / slower:.1%}; target "
          f">= {TARGET:,}/s end to end: {'PASS' if end_to_end >= TARGET else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
