"""kill -9 everything in the middle of a sync, and prove it converges exactly once.

Real nats-server, real `kucun hub serve`, real `kucun node sync` processes. Kill points
are random (seeded, printed): a random delay, or right after the n-th batch of the sync
reached the server (seen on a core NATS subscription to the node's subject), which is
where "stored but the ack was lost" happens. After every kill the stream must hold the
node's events 1..k each exactly once, the node's ledger must be whole and its outbox must
never claim more than the stream holds; at the end hub and node must agree byte for byte.

Replay a run with KUCUN_CHAOS_SEED=<seed printed by the test> (pytest -s shows it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
from collections import Counter
from pathlib import Path

import nats
import pytest

from node.service import Node
from protocol import subjects
from replication.ingest import PROJECT_CHUNK, PROJECT_IDLE_CHUNK
from replication.setup import ACK_WAIT_S
from tests.helpers import serve_hub, wait_until
from tests.sync_helpers import (
    HOUR_MS,
    SubjectWatch,
    assert_converged,
    assert_exactly_once,
    child_env,
    days_ago_ms,
    fill,
    head_and_outbox,
    kill9,
    nodes_item,
    read_only,
    stream_check,
    subject_batches,
    sync_cmd,
    wait_or_exit,
)

pytestmark = pytest.mark.slow  # chaos / soak: `make test-fast` skips these

#: sale receipts carry ~700 bytes of printed text, so a few thousand events are many batches
NOTE = 700
KILLS = 20


def chaos_seed() -> int:
    seed = int(os.environ.get("KUCUN_CHAOS_SEED") or random.randrange(2**32))
    print(f"\nchaos seed {seed} (replay: KUCUN_CHAOS_SEED={seed})")
    return seed


def final_sync(db: Path) -> None:
    """Let the sync finish: every event sent and confirmed by the hub (exit 0)."""
    done = subprocess.run(
        sync_cmd(db, "--confirm-timeout", "30"),
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
    )
    assert done.returncode == 0, done.stderr


def backlog_batches(db: Path, in_stream: int) -> int:
    """Roughly how many batches the next sync will publish (to pick a kill point in it)."""
    conn = read_only(db)
    try:
        (size,) = conn.execute(
            "SELECT coalesce(sum(length(raw) + 5), 0) FROM events WHERE origin = 'S01' AND seq > ?",
            (in_stream,),
        ).fetchone()
    finally:
        conn.close()
    return -(-size // subjects.MAX_BATCH_BYTES)


def classify(published: int, in_stream: int, head: int) -> str:
    if in_stream == 0:
        return "before the first batch was stored"
    if published < in_stream:
        return "batch stored, ack not recorded"
    if in_stream < head:
        return "between batches"
    return "everything stored (pulling or awaiting confirmation)"


def test_node_killed_9_at_random_points_of_a_large_sync(tmp_path, nats_server, hub):
    seed = chaos_seed()
    rng = random.Random(seed)
    db = tmp_path / "s01.db"
    node = Node.init(db, "S01", None, nats_server.url)
    start = days_ago_ms(2)
    fill(node, 8000, start, HOUR_MS, seed=seed, note=NOTE)
    errors = (tmp_path / "sync-stderr.log").open("ab")

    async def chaos() -> tuple[int, Counter]:
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        states: Counter = Counter()
        kills = attempts = in_stream = 0
        async with SubjectWatch(nc, subjects.events_subject("S01")) as watch:
            while kills < KILLS + 4 and attempts < 80:
                attempts += 1
                more = rng.randint(300, 2500) if rng.random() < 0.7 else 0
                during = rng.random() < 0.3  # the till sells while its sync runs
                if more and not during:
                    fill(
                        node,
                        more,
                        start + attempts * HOUR_MS,
                        HOUR_MS,
                        seed=seed + attempts,
                        note=NOTE,
                    )
                proc = await asyncio.create_subprocess_exec(
                    *sync_cmd(db, "--confirm-timeout", "2"),
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    env=child_env(),
                )
                if more and during:
                    await asyncio.to_thread(
                        fill,
                        node,
                        more,
                        start + attempts * HOUR_MS,
                        HOUR_MS,
                        seed + attempts,
                        8,
                        NOTE,
                    )
                pending = backlog_batches(db, in_stream)
                if pending and rng.random() < 0.6:  # right after the n-th batch was stored
                    await wait_or_exit(proc, watch.arm(rng.randint(1, pending)), timeout=20)
                else:  # anywhere: importing, connecting, reconciling, publishing, confirming
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(proc.wait()), rng.uniform(0, 1.0))
                killed = await kill9(proc)
                if not killed:
                    assert proc.returncode in (0, 3), f"sync exited {proc.returncode}"
                head, held, published = head_and_outbox(db, "S01")
                assert held == head, "the node's ledger lost or gained events"
                in_stream = assert_exactly_once(await subject_batches(js, "S01"), "S01")
                assert published <= in_stream <= head, (published, in_stream, head)
                if killed:
                    kills += 1
                    states[classify(published, in_stream, head)] += 1
        await nc.close()
        return kills, states

    kills, states = asyncio.run(chaos())
    print(f"{kills} kills -9; states right after them: {dict(states)}")
    assert kills >= KILLS, f"only {kills} sync processes were still running when killed"
    final_sync(db)
    head = node.store.log.head_seq("S01")
    assert head >= 8000
    assert_converged(hub, node, nats_server.url)
    row = node.conn.execute("SELECT published_seq, safe_seq FROM outbox").fetchone()
    assert row == (head, head)


def sync_stderr_is_clean(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "hub unreachable" in stderr or "lost the connection" in stderr, stderr


def test_nats_server_killed_9_mid_sync_then_restarted(tmp_path, nats_server, hub):
    """Round 1 kills the server right after a batch was stored, round 2 at a random moment
    of the sync; each time the node's sync fails cleanly (exit 1), the server restarts on
    its port and directory, and the running hub reconnects by itself."""
    seed = chaos_seed()
    rng = random.Random(seed)
    db = tmp_path / "s01.db"
    node = Node.init(db, "S01", None, nats_server.url)
    start = days_ago_ms(2)
    fill(node, 6000, start, HOUR_MS, seed=seed, note=NOTE)

    async def sync_and_kill_server(after_batches: int | None) -> tuple[int | None, str]:
        nc = await nats.connect(nats_server.url, allow_reconnect=False)
        async with SubjectWatch(nc, subjects.events_subject("S01")) as watch:
            reached = watch.arm(after_batches or 1)
            proc = await asyncio.create_subprocess_exec(
                *sync_cmd(db, "--confirm-timeout", "5"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=child_env(),
            )
            if after_batches:
                fired = await wait_or_exit(proc, reached, timeout=30)
                assert fired, "the sync ended before the server was killed"
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(proc.wait()), rng.uniform(0.2, 1.0))
            running = proc.returncode is None
            nats_server.stop(kill=True)  # kill -9 the server under the syncing node
        stderr = await asyncio.wait_for(proc.stderr.read(), 60)
        await asyncio.wait_for(proc.wait(), 60)
        await nc.close()
        return (proc.returncode if running else None), stderr.decode()

    for round_, after in enumerate((rng.randint(1, 3), None)):
        fill(node, 3000, start + (round_ + 1) * HOUR_MS, HOUR_MS, seed=seed + round_, note=NOTE)
        code, stderr = asyncio.run(sync_and_kill_server(after))
        if code is not None:  # it was still running when the server died
            assert code == 1, (code, stderr)
            sync_stderr_is_clean(stderr)
        assert hub.get("/healthz", auth=False)[0] == 200  # the hub serves without NATS
        offline = subprocess.run(
            sync_cmd(db), capture_output=True, text=True, timeout=60, env=child_env()
        )
        assert offline.returncode == 1
        sync_stderr_is_clean(offline.stderr)
        head, held, published = head_and_outbox(db, "S01")
        assert held == head
        nats_server.start()  # same port, same JetStream directory
        assert asyncio.run(stream_check(nats_server.url, "S01")) >= published
    final_sync(db)
    assert_converged(hub, node, nats_server.url)


def test_running_node_rides_out_a_nats_kill_9(tmp_path, nats_server, hub):
    """`kucun node sync` (no --once: the counter's SyncWorker) keeps one connection; NATS
    dies under it mid-publish and comes back: it must resume by itself, exactly once."""
    db = tmp_path / "s01.db"
    node = Node.init(db, "S01", None, nats_server.url)
    start = days_ago_ms(2)
    fill(node, 8000, start, HOUR_MS, seed=5, note=NOTE)
    log = (tmp_path / "worker.log").open("ab")
    worker = subprocess.Popen(
        [*sync_cmd(db)[:-2], "--interval", "0.5"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=child_env(),
    )
    try:

        async def kill_server_mid_publish() -> None:
            nc = await nats.connect(nats_server.url, allow_reconnect=False)
            async with SubjectWatch(nc, subjects.events_subject("S01")) as watch:
                reached = watch.arm(2)
                await asyncio.wait_for(reached.wait(), 30)
                nats_server.stop(kill=True)
            await nc.close()

        asyncio.run(kill_server_mid_publish())
        fill(node, 2000, start + HOUR_MS, HOUR_MS, seed=6, note=NOTE)  # sold while NATS was down
        nats_server.start()
        assert_converged(hub, node, nats_server.url, timeout=60)
        assert worker.poll() is None, "the sync worker died instead of reconnecting"
        # and it keeps going: a sale made now reaches the hub through the same process
        fill(node, 10, start + 2 * HOUR_MS, HOUR_MS, seed=7)
        assert_converged(hub, node, nats_server.url, timeout=30)
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(10)


def test_hub_killed_9_mid_ingest_twice_then_restarted(tmp_path, nats_server, hub):
    """The hub stores 16 messages (≤ 8 MiB) per transaction and acknowledges after the
    commit, then folds what it stored in chunks of their own; killed inside either, its
    successor gets unacknowledged messages again after the ack wait and folds on from the
    last committed chunk. The first hub is killed while storing, the next one while
    folding (stored events left unfolded), and the third must end where the node is."""
    rng = random.Random(chaos_seed())
    db = tmp_path / "s01.db"
    node = Node.init(db, "S01", None, nats_server.url)
    head = fill(node, 60_000, days_ago_ms(3), 6 * HOUR_MS, seed=9, note=NOTE)
    hub.stop()  # the backlog lands in NATS first, so the next hub is killed while storing it
    sent = subprocess.run(
        sync_cmd(db, "--confirm-timeout", "0"),
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
    )
    assert sent.returncode in (0, 3), sent.stderr  # all of it in NATS; the hub is behind
    assert head_and_outbox(db, "S01")[2] == head

    def progress(h) -> tuple[int, int, int]:
        item = nodes_item(h, "S01")
        return (item["ingested_seq"], item["waiting"], item["folded_seq"]) if item else (0, 0, 0)

    def committed(hub_db) -> tuple[int, int, int]:
        """(verified head, events waiting behind a gap, folded) as committed on disk."""
        conn = read_only(hub_db)
        try:
            return conn.execute(
                "SELECT coalesce((SELECT seq FROM heads WHERE origin = 'S01'), 0), "
                "(SELECT count(*) FROM events WHERE origin = 'S01' AND seq > "
                "coalesce((SELECT seq FROM heads WHERE origin = 'S01'), 0)), "
                "coalesce((SELECT seq FROM folded WHERE origin = 'S01'), 0)"
            ).fetchone()
        finally:
            conn.close()

    current, at_kill = (
        serve_hub(hub.db, hub.token, nats_server.url, tmp_path / "hub1.log"),
        (0, 0, 0),
    )
    kills = []
    try:
        for n in range(2):
            if n == 0:  # the first hub dies while storing
                assert wait_until(
                    lambda h=current: progress(h) != (0, 0, 0), timeout=60, interval=0.01
                ), "the hub ingests nothing"
            else:  # the second while folding, with chunks still to fold
                assert wait_until(
                    lambda h=current, was=at_kill[2]: (
                        # more left than an idle chunk folds (folding runs on its own
                        # thread now), so the kill lands with chunks still to fold
                        (p := progress(h))[2] > was
                        and p[0] - p[2] >= PROJECT_IDLE_CHUNK + PROJECT_CHUNK
                    ),
                    timeout=2 * ACK_WAIT_S + 60,
                    interval=0.01,
                ), "the hub folds nothing"
            # it answers HTTP between transactions: the next one is being written right now
            with contextlib.suppress(subprocess.TimeoutExpired):
                current.proc.wait(rng.uniform(0, 0.05))
            current.proc.send_signal(signal.SIGKILL)  # kill -9 the hub
            current.proc.wait(10)
            assert current.proc.returncode == -signal.SIGKILL
            at_kill = tuple(committed(current.db))
            kills.append(at_kill)
            assert at_kill[2] < at_kill[0] if n else at_kill[2] < head, (
                "the hub had folded everything it stored before it was killed"
            )
            check = read_only(current.db)
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            check.close()
            current = serve_hub(hub.db, hub.token, nats_server.url, tmp_path / f"hub{n + 2}.log")
        print(f"hub killed at (ingested, waiting, folded) {kills} of {head}")
        # what a killed hub had fetched but not acknowledged is redelivered after the ack wait
        assert_converged(current, node, nats_server.url, timeout=2 * ACK_WAIT_S + 60)
        confirm = subprocess.run(
            sync_cmd(db, "--confirm-timeout", "10"),
            capture_output=True,
            text=True,
            timeout=60,
            env=child_env(),
        )
        assert confirm.returncode == 0, confirm.stderr
        assert '"sent_events": 0' in confirm.stdout
    finally:
        current.stop()
