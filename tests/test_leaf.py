"""A store runs its own NATS server as a leaf of head office's: its tills keep seeing each
other while the store's link is down, and everything reaches the hub when it is back.

Real processes on loopback: head office's nats-server (JetStream in domain kucun,
accepting leaves), `kucun hub serve` on it, the store's nats-server (no JetStream, a leaf
of head office's through `Link`, a TCP proxy standing for the store's internet link that
the test cuts and restores), till S01 as a `kucun node sync` process (the counter's
long-lived worker) and till S01-T2 synced in-process and with `kucun node sync --once`.
Cutting a proxy rather than stopping head office's server keeps the hub and its NATS up,
as they are when only one store's line is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nats
import pytest

from kucun.natsserver import HQ_DOMAIN, NatsServer, free_port, leaf_config_text
from node.service import Node
from node.sync import SyncStatus, SyncWorker, cancel_and_wait, sync_once
from protocol.units import format_qty
from tests.helpers import HubProcess, kucun, start_hub, wait_until

pytestmark = pytest.mark.slow

KUCUN = [sys.executable, "-m", "kucun"]


class Link:
    """A TCP proxy from a local port to head office's leaf port: `cut()` closes every
    connection through it and refuses new ones until `restore()`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self._lock:
            conns, self._open = self._open, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def hq_answers(url: str) -> bool:
    """Does head office's JetStream answer through the server at `url`?"""

    async def ask() -> bool:
        nc = await nats.connect(url, connect_timeout=2, allow_reconnect=False)
        try:
            await nc.jetstream(domain=HQ_DOMAIN, timeout=1).account_info()
            return True
        except Exception:
            return False
        finally:
            await nc.close()

    return asyncio.run(ask())


def stock(node: Node) -> list[tuple[str, str | None, str]]:
    return [(r.sku, r.lot, format_qty(r.qty)) for r in node.read.stock(location="S01")]


def hub_stock(hub: HubProcess) -> list[tuple[str, str | None, str]]:
    return [(r["sku"], r["lot"], r["qty"]) for r in hub.stock(location="S01")]


@pytest.fixture
def store(tmp_path):
    """Head office (nats + hub), the store's leaf server behind a `Link`, two tills."""
    hq = NatsServer(data_dir=tmp_path / "hq-nats", leafnodes_port=free_port())
    hq.start(log_file=(tmp_path / "hq-nats.log").open("ab"))
    assert hq.leafnodes_port is not None
    link = Link(hq.leafnodes_port)
    leaf = NatsServer(data_dir=tmp_path / "store-nats", leaf=f"nats-leaf://127.0.0.1:{link.port}")
    leaf.start(log_file=(tmp_path / "store-nats.log").open("ab"))
    hub = start_hub(tmp_path, hq.url)
    tills = [
        Node.init(tmp_path / f"{n}.db", n, "S01", leaf.url, jetstream_domain=HQ_DOMAIN)
        for n in ("S01", "S01-T2")
    ]
    try:
        assert wait_until(lambda: hq_answers(leaf.url), timeout=20), "leaf never connected"
        yield hq, link, leaf, hub, tills
    finally:
        for t in tills:
            t.close()
        hub.stop()
        leaf.close()
        link.close()
        hq.close()


def worker(tmp_path: Path, db: Path) -> subprocess.Popen:
    """`kucun node sync` without --once: the counter's background sync, in its own process."""
    return subprocess.Popen(
        [*KUCUN, "--log-level", "info", "node", "sync", "--db", str(db), "--interval", "0.5"],
        stdout=(tmp_path / "till1-sync.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


async def run_until(node: Node, done, timeout: float = 60) -> SyncStatus:
    """Run `node`'s counter worker (answering the other tills) until `done(its status)`."""
    worker = SyncWorker(node, interval=0.5)
    task = asyncio.create_task(worker.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not done(worker.status):
            assert asyncio.get_running_loop().time() < deadline, worker.status
            await asyncio.sleep(0.1)
        return worker.status
    finally:
        await cancel_and_wait(task)


def test_tills_of_a_store_see_each_other_while_its_link_is_down(tmp_path, store) -> None:
    _hq, link, leaf, hub, (one, two) = store
    one.add_product("A1", "Tea", price="5.00")
    one.receive("A1", "10", cost="2.00")
    proc = worker(tmp_path, tmp_path / "S01.db")
    try:
        # linked: till 1's worker publishes through the leaf, till 2 syncs and sells
        assert wait_until(lambda: hub.ingested("S01") == one.store.log.head_seq("S01"), 30)
        assert asyncio.run(sync_once(two, confirm_timeout=20)).unconfirmed == 0
        assert stock(two) == [("A1", None, "10.000")]
        two.sell("A1", "1")
        assert asyncio.run(sync_once(two, confirm_timeout=20)).unconfirmed == 0
        assert wait_until(lambda: stock(one) == [("A1", None, "9.000")], 20), stock(one)
        assert wait_until(lambda: hub_stock(hub) == stock(one), 20)

        # the store's link is cut: head office is gone, the store's server is not
        link.cut()
        assert wait_until(lambda: not hq_answers(leaf.url), 20)
        one.sell("A1", "3")
        result = kucun("node", "sync", "--once", "--db", str(tmp_path / "S01-T2.db"))
        # head office does not answer: one line saying so, and that till 1's sale came in
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "link down" in result.stderr and "took 2 events" in result.stderr, result.stderr
        assert stock(two) == stock(one) == [("A1", None, "6.000")]
        # and the other way: till 2 sells offline, till 1's worker takes it from till 2
        two.sell("A1", "2")
        status = asyncio.run(
            run_until(
                two,
                lambda st: stock(one) == [("A1", None, "4.000")] and "link" in str(st.last_error),
            )
        )
        assert status.connected is False  # to head office
        assert stock(one) == stock(two) == [("A1", None, "4.000")]
        assert hub_stock(hub) == [("A1", None, "9.000")]  # head office saw none of it

        # link back: everything reaches the hub, and all three agree
        link.restore()
        assert wait_until(lambda: hq_answers(leaf.url), 30)
        assert wait_until(lambda: hub.ingested("S01") == one.store.log.head_seq("S01"), 30)
        assert asyncio.run(sync_once(two, confirm_timeout=20)).unconfirmed == 0
        assert hub.ingested("S01-T2") == two.store.log.head_seq("S01-T2")
        assert wait_until(lambda: hub_stock(hub) == [("A1", None, "4.000")], 20), hub_stock(hub)
        assert stock(one) == stock(two) == hub_stock(hub)
        for t in (one, two):
            assert t.store.quarantine.rejected() == []
    finally:
        proc.terminate()
        proc.wait(10)


def test_leaf_config_has_no_jetstream_and_names_head_office() -> None:
    text = leaf_config_text(4222, "nats-leaf://hq.example.com:7422")
    assert "jetstream" not in text
    assert '"nats-leaf://hq.example.com:7422"' in text


def test_nats_serve_refuses_leaf_with_head_office_options(tmp_path) -> None:
    for args in (
        ["--leaf", "nats://hq:7422", "--leafnodes-port", "7422"],
        ["--leaf", "hq"],
        ["--leafnodes-port", "7422", "--hub-db", str(tmp_path / "hub.db")],
    ):
        result = kucun("nats", "serve", "--data", str(tmp_path / "n"), *args)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
