"""Ledger speed against the raw SQLite limits measured in the same run.

    python benchmarks/ledger.py [--events 200000] [--sales 2000] [--batch 5000] [--quick]
                                [--dir PATH] [--profile]

Prints, each beside its raw limit and the ratio:
  1. durable single-sale commit latency at the node (`Node.sell`, p50/p99), against a plain
     single-row INSERT + COMMIT on a connection opened the same way;
  2. bulk append rate through `Replica.append` in large batches, against a plain
     `executemany` INSERT of the same rows into a table shaped like `events`: the log
     alone (`fold=False`, the target), `project` folding it afterwards, and the default
     append that folds inline (docs/architecture.md, "Storing is confirming");
  3. fold throughput: (a) hub-style `Replica.ingest` of the same events into a fresh store,
     (b) the pure reference fold `fold_events`, (c) an ingest from two tills where one runs
     behind, so about a tenth of the events arrive out of hlc order and re-fold their keys.

Every file is a real SQLite file opened by `ledger.sqlite.connect`: WAL with
synchronous=FULL, as the node runs. In WAL mode synchronous=NORMAL skips the fsync at commit
and may lose the last commits on power loss; a sale the customer took home must survive a
pulled plug, so the figures here include one fsync per commit. Put --dir on the disk the
node uses: on tmpfs an fsync costs nothing and the latency figures mean little.

A benchmark reports; it never fails the build: MISS is printed, the exit code stays 0.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import sqlite3
import statistics
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# This file is benchmarks/ledger.py: keep its folder off the path so `ledger` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import msgspec  # noqa: E402

from ledger.replica import Replica  # noqa: E402
from ledger.sqlite import connect  # noqa: E402
from node.service import Node  # noqa: E402
from protocol import codec  # noqa: E402
from protocol.events import Body, Count, Event, Movement  # noqa: E402
from protocol.fold import Snapshot, fold_events  # noqa: E402
from protocol.hlc import HybridClock  # noqa: E402

SKUS = [f"SKU{i:04d}" for i in range(500)]
LOTS = ["L1", "L2"]
STORE = "S01"
TILL2 = "S01-T2"
BASE_MS = 1_800_000_000_000  # 2027-01-15, any fixed instant will do
SALE_TARGET_MS = 5.0
BULK_TARGET = 0.40


# ---- output -------------------------------------------------------------------------------


@contextmanager
def progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`: a rich progress bar on a terminal, a no-op when piped."""
    if not sys.stdout.isatty():
        yield lambda n: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, refresh_per_second=4) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def say(text: str) -> None:
    """Print a line now, not when the buffer fills (long phases follow)."""
    print(text, flush=True)


def fs_type(path: Path) -> str:
    """The filesystem type `path` lives on (Linux /proc/mounts), or "unknown"."""
    best, kind = "", "unknown"
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                fields = line.split()
                mount = fields[1]
                inside = str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")
                if inside and len(mount) > len(best):
                    best, kind = mount, fields[2]
    except OSError:
        pass
    return kind


def cpu_model() -> str:
    """The CPU's model name, as far as the platform tells."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> str:
    """The 1-minute load average: other work on the machine skews every figure."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def machine_info(root: Path) -> None:
    """Print what the figures were measured on, and the durability setting in force."""
    probe = connect(root / "probe.db")
    journal = probe.execute("PRAGMA journal_mode").fetchone()[0]
    sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
        probe.execute("PRAGMA synchronous").fetchone()[0]
    ]
    probe.close()
    say("kucun ledger benchmark")
    say(
        f"  machine   {os.cpu_count()} cores, {cpu_model()}, {platform.system()} "
        f"{platform.release()}"
    )
    say(
        f"  python    {platform.python_implementation()} {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, msgspec {msgspec.__version__}"
    )
    config = sysconfig.get_config_var("CONFIG_ARGS") or ""
    pgo = "PGO" if "--enable-optimizations" in config else "no PGO (slower pure-Python parts)"
    say(f"            interpreter build: {pgo}; load average {load()} at start")
    say(f"  files     {root} ({fs_type(root)})")
    say(
        f"  durability journal_mode={journal}, synchronous={sync} (ledger.sqlite.connect): every "
        "COMMIT fsyncs the WAL."
    )
    say(
        "            NORMAL would skip that fsync and in WAL mode may lose the last commits on "
        "power loss;"
    )
    say("            a sale the customer walked away with must survive a pulled plug.")
    if fs_type(root) in ("tmpfs", "ramfs"):
        say("  WARNING   these files are in memory: fsync is free, latencies are not the disk's.")


# ---- workloads ----------------------------------------------------------------------------


def workload(n: int, seed: int = 7) -> list[Body]:
    """A store's day, repeated: sales of 1-3 pieces, a receipt in ten, a count in 500.

    Over 500 SKUs with a mild skew (popular lines sell more) and two lots each; every line
    cites a document, as the counter writes them.
    """
    rng = random.Random(seed)
    weights = [1 / (rank + 20) for rank in range(len(SKUS))]
    skus = rng.choices(SKUS, weights, k=n)
    bodies: list[Body] = []
    for i, sku in enumerate(skus):
        lot = LOTS[i % 7 % 2]
        doc = f"{STORE}-{i + 1}"
        if i % 10 == 0:
            bodies.append(
                Movement(
                    sku=sku,
                    qty=rng.choice((24, 36, 48)) * 1000,
                    src="@supplier",
                    dst=STORE,
                    lot=lot,
                    expiry="2027-06-30",
                    doc=doc,
                    unit_cost=rng.randint(100, 900),
                )
            )
        elif i % 500 == 7:
            bodies.append(
                Count(location=STORE, sku=sku, qty=rng.randint(0, 40) * 1000, lot=lot, doc=doc)
            )
        else:
            bodies.append(
                Movement(
                    sku=sku,
                    qty=rng.randint(1, 3) * 1000,
                    src=STORE,
                    dst="@customer",
                    lot=lot,
                    doc=doc,
                    unit_price=350,
                )
            )
    return bodies


def chain(origin: str, bodies: Sequence[Body], walls: Sequence[int]) -> list[bytes]:
    """Canonical bytes of `origin`'s log of `bodies` written at `walls` (ms), hash-chained."""
    clock, prev, raws = HybridClock(), codec.GENESIS, []
    for seq, (body, wall) in enumerate(zip(bodies, walls, strict=True), start=1):
        event = Event(
            origin=origin, seq=seq, hlc=clock.tick(wall), prev=prev, user="bench", body=body
        )
        raw = codec.encode(event)
        prev = codec.event_hash(raw)
        raws.append(raw)
    return raws


def two_tills(bodies: Sequence[Body], batch: int, lag_batches: int) -> list[list[bytes]]:
    """The same workload written by two tills of one store, as the hub receives it.

    Every tenth line is rung up on the second till, whose deliveries run `lag_batches`
    deliveries behind the first's: its events arrive after later ones of the first till
    have been folded, so their keys are re-folded from the late rows on. Returns the
    deliveries, each one `ingest` call, in arrival order.
    """
    walls = [BASE_MS + 2 * i for i in range(len(bodies))]  # a line every 2 ms
    mine = [i for i in range(len(bodies)) if i % 10 != 3]
    theirs = [i for i in range(len(bodies)) if i % 10 == 3]
    first = chain(STORE, [bodies[i] for i in mine], [walls[i] for i in mine])
    second = chain(TILL2, [bodies[i] for i in theirs], [walls[i] for i in theirs])
    lag = lag_batches * batch
    arrivals = sorted(
        [(i, raw) for i, raw in zip(mine, first, strict=True)]
        + [(i + lag, raw) for i, raw in zip(theirs, second, strict=True)],
        key=lambda pair: pair[0],
    )
    raws = [raw for _, raw in arrivals]
    return [raws[i : i + batch] for i in range(0, len(raws), batch)]


def late_share(deliveries: Sequence[Sequence[bytes]]) -> float:
    """The share of events whose order key is below one folded in an earlier delivery."""
    high, late, total = (0, "", 0), 0, 0
    for delivery in deliveries:
        keys = [codec.decode(raw).order_key for raw in delivery]
        late += sum(key < high for key in keys)
        total += len(keys)
        high = max(high, *keys)
    return late / total


# ---- measurements -------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1]


def bench_sales(root: Path, sales: int, products: int = 50) -> tuple[list[float], list[float]]:
    """Milliseconds per `Node.sell` and per raw one-row INSERT + COMMIT, same durability."""
    node = Node.init(root / "node.db", STORE, None, "nats://127.0.0.1:1")
    skus = [f"P{i:03d}" for i in range(products)]
    for sku in skus:
        node.add_product(sku, f"Product {sku}", price="3.50")
        node.receive(sku, str(sales), cost="2.00", lot="L1", expiry="2027-06-30")
    rng = random.Random(11)
    for _ in range(20):  # warm the caches and the WAL
        node.sell(rng.choice(skus), "1")
    sale_ms: list[float] = []
    with progress("sales (Node.sell)", sales) as advance:
        for _ in range(sales):
            sku = rng.choice(skus)
            t = time.perf_counter()
            node.sell(sku, "1")
            sale_ms.append((time.perf_counter() - t) * 1000)
            advance(1)
    node.close()

    raw = connect(root / "raw-commit.db")
    raw.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
    blob = os.urandom(160)  # about one sale line's canonical bytes
    for _ in range(20):
        raw.execute("INSERT INTO t(body) VALUES (?)", (blob,))
    raw_ms: list[float] = []
    with progress("raw INSERT + COMMIT", sales) as advance:
        for _ in range(sales):
            t = time.perf_counter()
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("INSERT INTO t(body) VALUES (?)", (blob,))
            raw.execute("COMMIT")
            raw_ms.append((time.perf_counter() - t) * 1000)
            advance(1)
    raw.close()
    return sale_ms, raw_ms


def bench_append(
    root: Path, bodies: Sequence[Body], batch: int, fold: bool = True
) -> tuple[float, Replica]:
    """Events/s through `Replica.append`, `batch` bodies per durable transaction;
    with `fold=False` the log alone (bulk loads), folded afterwards by `project`."""
    name = "append.db" if fold else "append-log.db"
    store = Replica(connect(root / name), STORE)
    label = "Replica.append" + ("" if fold else "(fold=False)")
    with progress(label, len(bodies)) as advance:
        t = time.perf_counter()
        for i in range(0, len(bodies), batch):
            chunk = bodies[i : i + batch]
            store.append(chunk, "bench", wall_ms=BASE_MS + 2 * i, fold=fold)
            advance(len(chunk))
        elapsed = time.perf_counter() - t
    return len(bodies) / elapsed, store


def bench_project(store: Replica, per_origin: int) -> float:
    """Events/s of `Replica.project` folding what a log-only append left unfolded."""
    total = store.projector.unfolded()
    with progress("Replica.project", total) as advance:
        t = time.perf_counter()
        while done := store.project(per_origin):
            advance(done)
        elapsed = time.perf_counter() - t
    return total / elapsed


class Recorder:
    """A connection stand-in that runs and records every statement, to replay it later."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.log: list[tuple[bool, str, object]] = []

    def execute(self, sql: str, args: Sequence | dict = ()) -> sqlite3.Cursor:
        self.log.append((False, sql, args))
        return self.conn.execute(sql, args)

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> sqlite3.Cursor:
        rows = list(rows)
        self.log.append((True, sql, rows))
        return self.conn.executemany(sql, rows)


def bench_sql_floor(root: Path, bodies: Sequence[Body], batch: int) -> float:
    """Events/s of replaying exactly the SQL `Replica.append` issues, with no Python work
    between statements: what the ledger's schema costs in SQLite alone."""
    conn = connect(root / "recorded.db")
    Replica(conn, STORE)  # migrated before recording
    recorder = Recorder(conn)
    store = Replica(recorder, STORE)  # type: ignore[arg-type]
    recorder.log.clear()
    with progress("recording append SQL", len(bodies)) as advance:
        for i in range(0, len(bodies), batch):
            store.append(bodies[i : i + batch], "bench", wall_ms=BASE_MS + 2 * i)
            advance(min(batch, len(bodies) - i))
    conn.close()
    replay = connect(root / "replayed.db")
    Replica(replay, STORE)
    with progress("replaying append SQL", len(recorder.log)) as advance:
        t = time.perf_counter()
        for n, (many, sql, args) in enumerate(recorder.log, start=1):
            if many:
                replay.executemany(sql, args)  # type: ignore[arg-type]
            else:
                replay.execute(sql, args).fetchall()  # type: ignore[arg-type]
            if n % 1000 == 0 or n == len(recorder.log):
                advance(1000 if n % 1000 == 0 else n % 1000)
        elapsed = time.perf_counter() - t
    replay.close()
    return len(bodies) / elapsed


def bench_raw_insert(root: Path, rows: Sequence[tuple], batch: int) -> float:
    """Events/s of a plain executemany INSERT of `rows` into a table shaped like `events`."""
    conn = connect(root / "raw-bulk.db")
    conn.execute(
        "CREATE TABLE events(origin TEXT NOT NULL, seq INTEGER NOT NULL, hlc INTEGER NOT NULL, "
        "kind TEXT NOT NULL, raw BLOB NOT NULL, hash BLOB NOT NULL, PRIMARY KEY(origin, seq)) "
        "WITHOUT ROWID"
    )
    with progress("raw executemany INSERT", len(rows)) as advance:
        t = time.perf_counter()
        for i in range(0, len(rows), batch):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows[i : i + batch])
            conn.execute("COMMIT")
            advance(min(batch, len(rows) - i))
        elapsed = time.perf_counter() - t
    conn.close()
    return len(rows) / elapsed


def bench_ingest(
    path: Path, deliveries: Sequence[Sequence[bytes]], label: str
) -> tuple[float, Replica]:
    """Events/s of hub-style `Replica.ingest`, one call per delivery, into a fresh store."""
    hub = Replica(connect(path), "hub")
    wall = BASE_MS + 10**9  # well after every event: nothing is held for clock skew
    total = sum(len(d) for d in deliveries)
    with progress(label, total) as advance:
        t = time.perf_counter()
        for delivery in deliveries:
            result = hub.ingest(delivery, wall_ms=wall)
            assert not (result.rejected or result.held), result
            advance(len(delivery))
        elapsed = time.perf_counter() - t
    return total / elapsed, hub


def bench_fold(events: Sequence[Event]) -> tuple[float, Snapshot]:
    """Events/s of the pure reference fold over decoded events."""
    t = time.perf_counter()
    snap = fold_events(events)
    return len(events) / (time.perf_counter() - t), snap


def agrees(store: Replica, snap: Snapshot) -> bool:
    """Does the store's stock and cost equal the reference fold's? (cheap sanity check)"""
    stock = {(r.location, r.sku, r.lot): r.qty for r in store.read.stock(include_virtual=True)}
    want = {key: qty for key, qty in snap.stock.items() if qty}
    cost = {(r.location, r.sku): (r.qty, r.value, r.last_cost) for r in store.read.cost()}
    want_cost = {key: tuple(state) for key, state in snap.cost.items()}
    return {k: v for k, v in stock.items() if v} == want and cost == want_cost


# ---- report -------------------------------------------------------------------------------


@dataclass
class Line:
    """One row of the summary table."""

    metric: str
    value: float
    raw: float | None = None
    latency: bool = False  # lower is better: ratio printed as a factor, not a share
    target: str = "-"
    passed: bool | None = None

    def cells(self) -> list[str]:
        fmt = "{:,.2f}" if self.latency else "{:,.0f}"
        raw = "-" if self.raw is None else fmt.format(self.raw)
        if self.raw is None:
            ratio = "-"
        elif self.latency:
            ratio = f"{self.value / self.raw:.2f}x"
        else:
            ratio = f"{self.value / self.raw:.1%}"
        verdict = "info" if self.passed is None else ("PASS" if self.passed else "MISS")
        return [self.metric, fmt.format(self.value), raw, ratio, self.target, verdict]


def table(lines: Sequence[Line]) -> None:
    """Print the summary lines as an aligned table."""
    head = ["metric", "kucun", "raw limit", "ratio", "target", "result"]
    rows = [head] + [line.cells() for line in lines]
    widths = [max(len(row[c]) for row in rows) for c in range(len(head))]
    for n, row in enumerate(rows):
        first = row[0].ljust(widths[0])
        rest = [cell.rjust(w) for cell, w in zip(row[1:4], widths[1:4], strict=True)]
        tail = [row[4].ljust(widths[4]), row[5]]
        say("  " + "  ".join([first, *rest, *tail]))
        if n == 0:
            say("  " + "  ".join("-" * w for w in widths))


def profiled(what: str, fn: Callable[[], object]) -> None:
    """Run `fn` under cProfile and print the top functions by own time."""
    profile = cProfile.Profile()
    profile.runcall(fn)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(14)
    say(f"\n-- profile: {what} (cProfile, by own time; slows everything down) --")
    say("\n".join(line for line in out.getvalue().splitlines()[4:] if line.strip()))


# ---- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="bulk events (200000)")
    parser.add_argument("--sales", type=int, default=2000, help="single sales timed (2000)")
    parser.add_argument("--batch", type=int, default=5000, help="events per append/ingest")
    parser.add_argument("--quick", action="store_true", help="20000 events, 300 sales")
    parser.add_argument("--dir", type=Path, help="where the SQLite files go (a temp dir)")
    parser.add_argument(
        "--profile", action="store_true", help="also profile append and late ingest with cProfile"
    )
    args = parser.parse_args()
    if args.quick:
        args.events, args.sales = 20_000, 300
    if args.events < 1000 or args.sales < 10 or args.batch < 1:
        parser.error("use at least 1000 events, 10 sales and a batch of 1")
    started = time.perf_counter()
    lines: list[Line] = []
    with tempfile.TemporaryDirectory(prefix="kucun-bench-", dir=args.dir) as tmp:
        root = Path(tmp).resolve()
        machine_info(root)

        say(
            f"\n1. durable single-sale commit: {args.sales} x Node.sell (a Document header and "
            "its movement, one transaction)"
        )
        sale_ms, raw_ms = bench_sales(root, args.sales)
        for name, ms in (("Node.sell", sale_ms), ("raw INSERT + COMMIT", raw_ms)):
            say(
                f"   {name:<20} p50 {percentile(ms, 50):6.2f}  p99 {percentile(ms, 99):6.2f}  "
                f"mean {statistics.mean(ms):6.2f}  max {max(ms):6.2f} ms"
            )
        p99 = percentile(sale_ms, 99)
        lines.append(
            Line(
                "sale commit p50 (ms)",
                percentile(sale_ms, 50),
                percentile(raw_ms, 50),
                latency=True,
            )
        )
        lines.append(
            Line(
                "sale commit p99 (ms)",
                p99,
                percentile(raw_ms, 99),
                latency=True,
                target=f"p99 < {SALE_TARGET_MS:g} ms",
                passed=p99 < SALE_TARGET_MS,
            )
        )

        say(
            f"\n2. bulk append: {args.events:,} events, {args.batch:,} bodies per "
            "Replica.append (500 SKUs x 2 lots)"
        )
        bodies = workload(args.events)
        log_rate, logged = bench_append(root, bodies, args.batch, fold=False)
        project_rate = bench_project(logged, args.batch)
        append_rate, store = bench_append(root, bodies, args.batch)
        rows = store.conn.execute("SELECT origin, seq, hlc, kind, raw, hash FROM events").fetchall()
        raw_rate = bench_raw_insert(root, rows, args.batch)
        size = statistics.mean(len(r[4]) for r in rows)
        say(
            f"   Replica.append(fold=False) {log_rate:10,.0f} events/s   raw executemany "
            f"{raw_rate:10,.0f} events/s   ({size:.0f}-byte events)"
        )
        say(f"   then Replica.project       {project_rate:10,.0f} events/s")
        say(
            f"   Replica.append, folded inline {append_rate:10,.0f} events/s "
            f"(log then project: {1 / (1 / log_rate + 1 / project_rate):,.0f} events/s)"
        )
        lines.append(
            Line(
                "bulk append, log (events/s)",
                log_rate,
                raw_rate,
                target=f">= {BULK_TARGET:.0%} of raw",
                passed=log_rate / raw_rate >= BULK_TARGET,
            )
        )
        lines.append(Line("project after it (events/s)", project_rate, raw_rate))
        lines.append(Line("append folded inline (events/s)", append_rate, raw_rate))
        floor_rate = bench_sql_floor(root, bodies, args.batch)
        say(
            f"   append's SQL replayed, no Python {floor_rate:10,.0f} events/s: the schema alone "
            f"is {floor_rate / raw_rate:.0%} of raw;"
        )
        say(
            f"   {1 - append_rate / floor_rate:.0%} of append's time is Python (encode, hash, "
            "fold), the rest SQLite"
        )
        lines.append(Line("append SQL, no Python (events/s)", floor_rate, raw_rate))

        say("\n3. fold throughput")
        raws = [raw for _, raw in store.log.raw_events(STORE, 0, len(bodies))]
        deliveries = [raws[i : i + args.batch] for i in range(0, len(raws), args.batch)]
        ingest_rate, hub = bench_ingest(root / "hub.db", deliveries, "Replica.ingest")
        events = [codec.decode(raw) for raw in raws]
        fold_rate, snap = bench_fold(events)
        checked = agrees(store, snap) and agrees(hub, snap) and agrees(logged, snap)
        logged.conn.close()
        hub.conn.close()
        say(f"   (a) Replica.ingest, in order  {ingest_rate:10,.0f} events/s")
        say(f"   (b) fold_events (pure, in memory) {fold_rate:10,.0f} events/s")
        say(
            "       append (inline and projected) and ingest agree with the reference fold: "
            f"{checked}"
        )
        lines.append(Line("ingest in order (events/s)", ingest_rate, raw_rate))
        lines.append(Line("fold_events, pure (events/s)", fold_rate))

        late = two_tills(bodies, args.batch, lag_batches=2)
        share = late_share(late)
        late_rate, hub2 = bench_ingest(root / "hub-late.db", late, "ingest, two tills, late")
        _, late_snap = bench_fold([codec.decode(raw) for d in late for raw in d])
        say(
            f"   (c) two tills, {share:.1%} of events out of hlc order "
            f"{late_rate:10,.0f} events/s ({late_rate / ingest_rate:.0%} of in order)"
        )
        say(f"       late ingest agrees with the reference fold: {agrees(hub2, late_snap)}")
        hub2.conn.close()
        lines.append(Line(f"ingest, {share:.0%} late (events/s)", late_rate, ingest_rate))

        if args.profile:
            fresh = Replica(connect(root / "append-profile.db"), STORE)
            profiled(
                "Replica.append, same workload, fresh store",
                lambda: [
                    fresh.append(bodies[i : i + args.batch], "bench", BASE_MS + 2 * i)
                    for i in range(0, len(bodies), args.batch)
                ],
            )
            again = Replica(connect(root / "hub-profile.db"), "hub")
            profiled(
                "ingest, two tills, late",
                lambda: [again.ingest(d, BASE_MS + 10**9) for d in late],
            )
        store.conn.close()

    say(
        "\nsummary (raw limit: the same work as plain SQLite in this run; for late ingest, the "
        "in-order ingest)"
    )
    table(lines)
    missed = [line.metric for line in lines if line.passed is False]
    say(
        f"\n{'MISSED: ' + ', '.join(missed) if missed else 'all targets met'}  "
        f"({time.perf_counter() - started:.0f} s; a benchmark reports, exit code 0)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
