"""Offline for a month, and two offline tills of one store: what the hub ends up with.

The clock is simulated (freezegun for the node's own operations, explicit wall-clock
stamps for bulk sales through the same `Replica.append` path); the hub runs on real
time, so every simulated day lies in the past.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from hub.store import HubStore
from kucun.natsserver import NatsServer
from ledger.sqlite import connect
from node.service import Node
from protocol.events import Count, Movement
from protocol.fold import fold_events
from protocol.units import format_qty
from tests.helpers import kucun, start_hub
from tests.sync_helpers import (
    DAY_MS,
    HOUR_MS,
    assert_converged,
    child_env,
    copy_ledger,
    days_ago_ms,
    db_path,
    fill,
    node_stock,
    sync_cmd,
)

pytestmark = pytest.mark.slow  # chaos / soak: `make test-fast` skips these

SKUS = [f"P{i:02d}" for i in range(8)]


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def test_node_offline_30_days_with_100k_events_then_one_sync(tmp_path, nats_server, hub):
    db = tmp_path / "s01.db"
    node = Node.init(db, "S01", None, nats_server.url)
    nats_server.stop()  # the store's line goes down for a month
    offline = subprocess.run(
        sync_cmd(db), capture_output=True, text=True, timeout=60, env=child_env()
    )
    assert offline.returncode == 1 and "hub unreachable" in offline.stderr

    days, total = 30, 100_000
    start = days_ago_ms(days + 1)
    built = time.perf_counter()
    with freeze_time(at(start + 7 * HOUR_MS), tick=False) as frozen:
        for sku in SKUS:
            node.add_product(sku, f"product {sku}", price="4.50")
        own_ops = len(SKUS) + days * 4  # products, then a receipt and a count a day
        per_day, extra = divmod(total - own_ops, days)
        for day in range(days):
            morning = start + day * DAY_MS + 8 * HOUR_MS
            frozen.move_to(at(morning))
            node.receive(SKUS[day % 8], "500", cost=f"{2 + day % 3}.00")
            # the day's sales, 08:00-20:00, through the ledger's own append path
            fill(node, per_day + (day < extra), morning + 1, 12 * HOUR_MS, seed=day, skus=len(SKUS))
            frozen.move_to(at(start + day * DAY_MS + 21 * HOUR_MS))
            node.count(SKUS[(day * 3) % 8], str(40 + day))  # the evening stocktake
    built = time.perf_counter() - built
    head = node.store.log.head_seq("S01")
    assert head == total
    first, last = (
        hlc >> 16
        for hlc in node.conn.execute(
            "SELECT min(hlc), max(hlc) FROM events WHERE origin = 'S01'"
        ).fetchone()
    )
    assert first == start + 7 * HOUR_MS and last == start + 29 * DAY_MS + 21 * HOUR_MS

    nats_server.start()  # back online: one sync sends the month and waits for the hub
    t = time.perf_counter()
    synced = subprocess.run(
        sync_cmd(db, "--confirm-timeout", "120"),
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env(),
    )
    elapsed = time.perf_counter() - t
    print(
        f"\n100k events over 30 days: built in {built:.1f} s, one sync (sent and "
        f"confirmed) in {elapsed:.1f} s = {head / elapsed:,.0f} events/s"
    )
    assert synced.returncode == 0, synced.stderr
    summary = json.loads(synced.stdout)
    assert (summary["sent_events"], summary["backlog"], summary["unconfirmed"]) == (head, 0, 0)
    assert summary["safe_seq"] == head
    assert_converged(hub, node, nats_server.url, timeout=30)


def terminal(tmp_path, name: str) -> Node:
    db = tmp_path / f"{name}.db"
    kucun(
        "node",
        "init",
        "--db",
        str(db),
        "--node",
        f"S01-{name}",
        "--location",
        "S01",
        "--nats",
        "nats://127.0.0.1:1",
        check=True,
    )
    return Node.open(db)


def test_two_terminals_of_one_store_offline_synced_in_every_order(tmp_path):
    """T1 and T2 sell at the same store, both offline; T2 also counts. Sales rung up on
    T1 just before T2's count are absorbed by it, those just after apply on top. Hubs fed
    T1-then-T2, T2-then-T1 and both at once end up with the same stock, equal to the
    reference fold of both logs."""
    t1, t2 = terminal(tmp_path, "T1"), terminal(tmp_path, "T2")
    day = days_ago_ms(2) + 8 * HOUR_MS
    minute = 60_000
    with freeze_time(at(day), tick=False) as frozen:
        for till, price in ((t1, "4.50"), (t2, "4.80")):  # both set prices: last writer wins
            for sku in SKUS[:4]:
                till.add_product(sku, f"product {sku}", price=price)
                frozen.tick(0.001)
        t1.receive("P00", "60", cost="2.00")
        t2.receive("P01", "30", cost="3.00")  # received at the other till
        frozen.move_to(at(day + 30 * minute))
        t1.receive("P01", "20", cost="3.50")
        for i in range(120):  # 09:00-11:00, both tills busy
            frozen.move_to(at(day + HOUR_MS + i * minute))
            t1.sell(SKUS[i % 4], "1")
            frozen.tick(17.5)
            t2.sell(SKUS[(i + 1) % 4], str(1 + i % 2))
        frozen.move_to(at(day + 4 * HOUR_MS - 1000))
        t1.sell("P00", "2")  # 11:59:59 on T1: before the count, absorbed by it
        frozen.move_to(at(day + 4 * HOUR_MS))
        t2.count("P00", "25")  # 12:00:00 the clerk counts P00 on the shelf
        t1.sell("P00", "1")  # the same millisecond on T1: ordered by origin, T1 first
        frozen.move_to(at(day + 4 * HOUR_MS + 1000))
        t1.sell("P00", "3")  # 12:00:01: after the count, on top of it
        t2.count("P01", "0")
        frozen.move_to(at(day + 4 * HOUR_MS + 5 * minute))
        t2.sell("P01", "1")  # sold after counting nothing: -1, an alert, never a refusal
    # then an afternoon of sales on each, in bulk
    fill(t1, 3000, day + 5 * HOUR_MS, 4 * HOUR_MS, seed=1, skus=4)
    fill(t2, 3000, day + 5 * HOUR_MS, 4 * HOUR_MS, seed=2, skus=4)
    with freeze_time(at(day + 10 * HOUR_MS), tick=False):
        t2.count("P02", "7")  # the evening count, after both tills' afternoons
    everything = list(t1.store.log.events("S01-T1")) + list(t2.store.log.events("S01-T2"))
    reference = fold_events(everything)
    expected = [
        {"location": loc, "sku": sku, "lot": lot, "qty": format_qty(qty)}
        for (loc, sku, lot), qty in sorted(
            reference.stock.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")
        )
        if loc == "S01"
    ]
    # a merge that matters: neither till alone knows the store's stock
    assert node_stock(t1) != expected and node_stock(t2) != expected

    orders = {"T1 then T2": [[t1], [t2]], "T2 then T1": [[t2], [t1]], "both at once": [[t1, t2]]}
    results = {}
    for n, (name, rounds) in enumerate(orders.items()):
        root = tmp_path / f"setup{n}"
        root.mkdir()
        server = NatsServer(data_dir=root / "nats").start()
        hub = start_hub(root, server.url)
        try:
            copies = {t.config.node: copy_ledger(t, root / f"{t.config.node}.db") for t in (t1, t2)}
            for group in rounds:  # each round's tills sync at the same time
                procs = [
                    subprocess.Popen(
                        sync_cmd(
                            db_path(copies[t.config.node]),
                            "--nats",
                            server.url,
                            "--confirm-timeout",
                            "30",
                        ),
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        env=child_env(),
                    )
                    for t in group
                ]
                for proc in procs:
                    _, err = proc.communicate(timeout=120)
                    assert proc.returncode == 0, err
            for copy in copies.values():
                assert_converged(hub, copy, server.url, alone=False)
            results[name] = hub.stock(location="S01")
        finally:
            hub.stop()
            server.close()
        replica = HubStore(connect(root / "hub.db")).events.read.snapshot()
        assert replica.nonzero_stock() == reference.nonzero_stock(), name
        assert replica.levels_after == reference.levels_after, name  # every journal row
        assert replica.costs_after == reference.costs_after, name
        assert (replica.cogs, replica.variances, replica.registers) == (
            reference.cogs,
            reference.variances,
            reference.registers,
        ), name
    assert results["T1 then T2"] == results["T2 then T1"] == results["both at once"]
    assert results["T1 then T2"] == expected
    # the stocktake: T1's sales before the count (and in its millisecond, T1 < T2) are
    # absorbed by it; T1's sale a second later applies on top of the counted 25
    count = next(
        e
        for e in everything
        if e.origin == "S01-T2" and isinstance(e.body, Count) and e.body.sku == "P00"
    )
    assert count.hlc >> 16 == day + 4 * HOUR_MS
    assert reference.levels_after[("S01", "P00", None, *count.order_key)] == 25_000
    later = min(
        (
            e
            for e in everything
            if isinstance(e.body, Movement)
            and e.body.sku == "P00"
            and e.order_key > count.order_key
        ),
        key=lambda e: e.order_key,
    )
    assert (later.origin, later.body.qty) == ("S01-T1", 3000)
    assert reference.levels_after[("S01", "P00", None, *later.order_key)] == 22_000
