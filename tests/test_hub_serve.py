"""`kucun hub serve` always starts and always stops: real processes, a real nats-server.

It serves HTTP at once, says not ready (503) until NATS is up, connects in the
background, and ends on SIGTERM or SIGINT whether it is connecting, connected or NATS
is gone. What makes it unable to go on is one line on stderr, no traceback, exit 1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hub.identities import hub_public_key
from hub.store import HubStore
from kucun.natsserver import NatsServer, authorization_block, free_port
from tests.helpers import http_json, kucun, wait_until


class Serve:
    """One `kucun hub serve` process, its output in a file."""

    def __init__(self, tmp: Path, *args: str, name: str = "serve") -> None:
        self.log = tmp / f"{name}.log"
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kucun", "--log-level", "info", "hub", "serve", *args],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            env=dict(os.environ, KUCUN_LANG="en"),
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def listening(self) -> str:
        """The address it printed, once it serves."""
        found = wait_until(lambda: "hub listening on http://" in self.text() or self.ended())
        assert found and not self.ended(), self.text()
        line = next(x for x in self.text().splitlines() if x.startswith("hub listening on"))
        return line.rsplit("http://", 1)[1]

    def ended(self) -> bool:
        return self.proc.poll() is not None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal it; it must be gone well within 15 s (a bound, not a timing)."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"hub serve did not stop on {sig!r}:\n{self.text()}") from None


def _hub(tmp: Path) -> Path:
    db = tmp / "hub.db"
    kucun("hub", "init", "--db", str(db), check=True)
    return db


def _serve(tmp: Path, db: Path, nats_url: str) -> Serve:
    port = free_port()
    return Serve(tmp, "--db", str(db), "--nats", nats_url, "--http", f"127.0.0.1:{port}")


def _ready(address: str) -> int:
    return http_json(f"http://{address}/readyz")[0]


def test_serves_at_once_ready_only_once_nats_is_up_and_stops_on_sigterm(tmp_path):
    db = _hub(tmp_path)
    nats_port = free_port()  # nobody listens there yet
    hub = _serve(tmp_path, db, f"nats://127.0.0.1:{nats_port}")
    try:
        address = hub.listening()
        assert http_json(f"http://{address}/healthz")[0] == 200  # alive
        status, body = http_json(f"http://{address}/readyz")
        assert status == 503 and "NATS" in str(body), body
        server = NatsServer(port=nats_port, data_dir=tmp_path / "nats")
        server.start(log_file=(tmp_path / "nats.log").open("ab"))
        try:
            assert wait_until(lambda: _ready(address) == 200, timeout=20), hub.text()
            status, body = http_json(f"http://{address}/readyz")
            assert body["ready"] is True and body["nats"] and body["streams"]
            assert "ingesting" in hub.text()
        finally:
            assert hub.stop() == 0, hub.text()
            server.close()
    finally:
        if not hub.ended():
            hub.proc.kill()
    assert "Traceback" not in hub.text()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stops_while_still_connecting(tmp_path, sig):
    db = _hub(tmp_path)
    hub = _serve(tmp_path, db, f"nats://127.0.0.1:{free_port()}")
    hub.listening()
    wait_until(lambda: "retrying" in hub.text())
    assert hub.stop(sig) == 0, hub.text()
    assert "Traceback" not in hub.text()


def test_stops_when_nats_has_gone_away(tmp_path):
    db = _hub(tmp_path)
    server = NatsServer(data_dir=tmp_path / "nats")
    server.start(log_file=(tmp_path / "nats.log").open("ab"))
    hub = _serve(tmp_path, db, server.url)
    address = hub.listening()
    assert wait_until(lambda: _ready(address) == 200, timeout=20), hub.text()
    server.close()
    assert wait_until(lambda: _ready(address) == 503, timeout=20), hub.text()
    assert http_json(f"http://{address}/healthz")[0] == 200  # still alive, still serving
    assert hub.stop() == 0, hub.text()


def _one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_port_in_use_is_one_line(tmp_path):
    db = _hub(tmp_path)
    first = _serve(tmp_path, db, f"nats://127.0.0.1:{free_port()}")
    address = first.listening()
    try:
        result = kucun("hub", "serve", "--db", str(db), "--nats", "nats://127.0.0.1:1",
                       "--http", address, timeout=30)  # fmt: skip
        _one_line_error(result, address, "already in use")
    finally:
        first.stop()


@pytest.mark.parametrize("case", ["directory", "missing parent", "not a hub database"])
def test_a_database_that_cannot_be_opened_is_one_line(tmp_path, case):
    if case == "directory":
        db = tmp_path / "adir"
        db.mkdir()
    elif case == "missing parent":
        db = tmp_path / "nowhere" / "hub.db"
    else:
        db = tmp_path / "other.db"
        import sqlite3

        sqlite3.connect(db).execute("CREATE TABLE t(x)").connection.close()
    result = kucun("hub", "serve", "--db", str(db), "--nats", "nats://127.0.0.1:1",
                   "--http", f"127.0.0.1:{free_port()}", timeout=30)  # fmt: skip
    _one_line_error(result)


def test_nats_refusing_the_hubs_key_is_one_line(tmp_path):
    db = _hub(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    stranger = HubStore.open(_hub(other))  # a key the server allows, which is not ours
    try:
        block = authorization_block(hub_public_key(stranger), [])
    finally:
        stranger.conn.close()
    server = NatsServer(data_dir=tmp_path / "nats", authorization=block)
    server.start(log_file=(tmp_path / "nats.log").open("ab"))
    try:
        result = kucun("hub", "serve", "--db", str(db), "--nats", server.url,
                       "--http", f"127.0.0.1:{free_port()}", timeout=30)  # fmt: skip
    finally:
        server.close()
    _one_line_error(result, "Authorization Violation")


def test_serves_from_a_config_file(tmp_path):
    db = _hub(tmp_path)
    server = NatsServer(data_dir=tmp_path / "nats")
    server.start(log_file=(tmp_path / "nats.log").open("ab"))
    port = free_port()
    config = tmp_path / "hub.toml"
    config.write_text(
        f'db = "hub.db"\nnats = "{server.url}"\nhttp = "127.0.0.1:{port}"\n'
        'log_level = "info"\npublish_interval = 0.5\nreaders = 2\n'
    )
    hub = Serve(tmp_path, "--config", str(config))
    try:
        assert hub.listening() == f"127.0.0.1:{port}"
        assert wait_until(lambda: _ready(f"127.0.0.1:{port}") == 200, timeout=20), hub.text()
    finally:
        hub.stop()
        server.close()
    assert db.exists()


@pytest.mark.slow
def test_stops_while_ingesting_a_backlog_and_loses_nothing(tmp_path, nats_server):
    from node.service import Node
    from protocol.events import Document, Movement

    node = Node.init(tmp_path / "S01.db", "S01", None, nats_server.url)
    for chunk in range(4):
        bodies = []
        for i in range(2_500):
            doc = f"S01-r{chunk}-{i}"
            bodies += [
                Document(doc=doc, type="receipt", location="S01", counterparty="ACME"),
                Movement(sku="A", qty=1000, src="@supplier", dst="S01", doc=doc, unit_cost=100),
            ]
        node.store.append(bodies, "test", 1_700_000_000_000 + chunk)
    head = node.store.log.head_seq("S01")
    node.store.conn.close()
    db = _hub(tmp_path)
    hub = _serve(tmp_path, db, nats_server.url)
    address = hub.listening()
    assert wait_until(lambda: _ready(address) == 200, timeout=20), hub.text()
    syncing = subprocess.Popen(
        [sys.executable, "-m", "kucun", "node", "sync", "--db", str(tmp_path / "S01.db"),
         "--once"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_until(lambda: "ingested" in hub.text(), timeout=30), hub.text()
        assert hub.stop() == 0, hub.text()
    finally:
        syncing.wait(60)
    again = _serve(
        tmp_path,
        db,
        nats_server.url,
    )
    address = again.listening()
    kucun("node", "sync", "--db", str(tmp_path / "S01.db"), "--once", timeout=60)

    def folded() -> int:
        return http_json(f"http://{address}/healthz")[1]["folded"].get("S01", 0)

    try:
        assert wait_until(lambda: folded() == head, timeout=60), again.text()
    finally:
        assert again.stop() == 0
