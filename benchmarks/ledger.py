"""Ledger speed against the raw SQLite limits measured in the same run.

    python benchmarks/ledger.py [--events 200000] [--sales 2000] [--quick]

Prints, each beside its raw limit and the ratio:
  * durable single-sale commit latency at the node (p50/p99), against a plain single-row
    INSERT + COMMIT on a connection opened the same way;
  * bulk append rate through EventStore.append, against a plain executemany INSERT of rows
    of the same size;
  * fold throughput: hub-style ingest of the same events, the pure reference fold, and an
    ingest where a tenth of the events arrive late (incremental re-folds).

Durability: WAL with synchronous=FULL, as the node runs. In WAL mode synchronous=NORMAL can
lose the last commits on power loss, and a sale the customer took home must survive that.
A benchmark reports; it never fails the build.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

# This file is benchmarks/ledger.py: keep its folder off the path so `ledger` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from ledger.sqlite import connect  # noqa: E402
from ledger.store import EventStore  # noqa: E402
from node.service import Node  # noqa: E402
from protocol import codec  # noqa: E402
from protocol.events import Count, Movement  # noqa: E402
from protocol.fold import fold_events  # noqa: E402

SKUS = [f"SKU{i:04d}" for i in range(500)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def workload(n: int, seed: int = 7) -> list:
    """Mostly sales, a receipt every tenth event, a count now and then, two lots."""
    rng = random.Random(seed)
    bodies = []
    for i in range(n):
        sku = rng.choice(SKUS)
        lot = rng.choice([None, "L1"])
        if i % 10 == 0:
            bodies.append(Movement(sku=sku, qty=20_000, src="@supplier", dst="S01", lot=lot,
                                   unit_cost=rng.randint(100, 900)))
        elif i % 997 == 0:
            bodies.append(Count(location="S01", sku=sku, qty=rng.randint(0, 9000), lot=lot))
        else:
            bodies.append(Movement(sku=sku, qty=1000, src="S01", dst="@customer", lot=lot,
                                   unit_price=350))
    return bodies


def bench_sale_latency(root: Path, sales: int) -> tuple[list[float], list[float]]:
    node = Node.init(root / "node.db", "S01", None, "nats://127.0.0.1:1")
    node.add_product("COLA", "Cola", price="3.00")
    node.receive("COLA", str(sales + 10))
    sale_ms = []
    for _ in range(sales):
        t = time.perf_counter()
        node.sell("COLA", "1")
        sale_ms.append((time.perf_counter() - t) * 1000)
    raw = connect(root / "raw-commit.db")
    raw.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB)")
    blob = os.urandom(120)
    raw_ms = []
    for _ in range(sales):
        t = time.perf_counter()
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO t(body) VALUES (?)", (blob,))
        raw.execute("COMMIT")
        raw_ms.append((time.perf_counter() - t) * 1000)
    return sale_ms, raw_ms


def bench_bulk(root: Path, bodies: list, chunk: int = 5000) -> tuple[float, float, EventStore]:
    store = EventStore(connect(root / "bulk.db"), "S01")
    t = time.perf_counter()
    for i in range(0, len(bodies), chunk):
        store.append(bodies[i : i + chunk], "bench", wall_ms=1_800_000_000_000 + i)
    append_rate = len(bodies) / (time.perf_counter() - t)

    rows = [(o, s, h, k, r, r[:16]) for o, s, h, k, r in store.conn.execute(
        "SELECT origin, seq, hlc, kind, raw FROM events")]
    raw = connect(root / "raw-bulk.db")
    raw.execute("CREATE TABLE events(origin TEXT, seq INTEGER, hlc INTEGER, kind TEXT, "
                "raw BLOB, hash BLOB, PRIMARY KEY(origin, seq)) WITHOUT ROWID")
    t = time.perf_counter()
    for i in range(0, len(rows), chunk):
        raw.execute("BEGIN IMMEDIATE")
        raw.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows[i : i + chunk])
        raw.execute("COMMIT")
    raw_rate = len(rows) / (time.perf_counter() - t)
    return append_rate, raw_rate, store


def bench_folds(root: Path, source: EventStore, batch: int = 2000) -> dict[str, float]:
    raws = [r for _, r in source.raw_events("S01", 0, 10**9)]
    out = {}
    hub = EventStore(connect(root / "ingest.db"), "hub")
    t = time.perf_counter()
    for i in range(0, len(raws), batch):
        hub.ingest(raws[i : i + batch], wall_ms=10**13)
    out["ingest"] = len(raws) / (time.perf_counter() - t)

    events = [codec.decode(r) for r in raws]
    t = time.perf_counter()
    fold_events(events)
    out["reference fold"] = len(events) / (time.perf_counter() - t)

    # A second till whose events interleave with the first's, arriving after it: late.
    till2 = EventStore(connect(root / "till2.db"), "S01-T2")
    for i in range(0, len(events) // 10, 5000):
        till2.append(workload(min(5000, len(events) // 10 - i), seed=i), "bench",
                     wall_ms=1_800_000_000_000 + i * 10)
    late = [r for _, r in till2.raw_events("S01-T2", 0, 10**9)]
    t = time.perf_counter()
    for i in range(0, len(late), batch):
        hub.ingest(late[i : i + batch], wall_ms=10**13)
    out["late ingest (10%)"] = len(late) / (time.perf_counter() - t)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--sales", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="20k events, 300 sales")
    args = parser.parse_args()
    if args.quick:
        args.events, args.sales = 20_000, 300
    print(f"kucun ledger benchmark: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; WAL + synchronous=FULL")
    results = []
    with tempfile.TemporaryDirectory(prefix="kucun-bench-") as tmp:
        root = Path(tmp)
        sale_ms, raw_ms = bench_sale_latency(root, args.sales)
        p50, p99 = percentile(sale_ms, 50), percentile(sale_ms, 99)
        r50, r99 = percentile(raw_ms, 50), percentile(raw_ms, 99)
        results.append(("sale commit p50 (ms)", p50, r50, p50 / r50, "-", ""))
        results.append(("sale commit p99 (ms)", p99, r99, p99 / r99, "< 5 ms",
                        "PASS" if p99 < 5 else "MISS"))
        print(f"  {args.sales} sales: mean {statistics.mean(sale_ms):.2f} ms")

        bodies = workload(args.events)
        append_rate, raw_rate, store = bench_bulk(root, bodies)
        ratio = append_rate / raw_rate
        results.append(("bulk append (events/s)", append_rate, raw_rate, ratio, ">= 40%",
                        "PASS" if ratio >= 0.4 else "MISS"))
        for name, rate in bench_folds(root, store).items():
            results.append((f"{name} (events/s)", rate, raw_rate, rate / raw_rate, "-", ""))
    print(f"\n{'metric':<32} {'kucun':>12} {'raw limit':>12} {'ratio':>8}  target")
    for name, value, raw, ratio, target, verdict in results:
        print(f"{name:<32} {value:>12,.2f} {raw:>12,.2f} {ratio:>7.1%}  {target} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
