"""`kucun demo`: the README's first quick-start command, headless; its port check, its
reset, its users, and a scanner that scans only when asked."""

from __future__ import annotations

import json
import socket
import time

import pytest

from devices import ScannerReader
from kucun import demo
from kucun.natsserver import free_port
from node.service import Node
from node.till.login import authenticate
from tests.helpers import kucun


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    result = kucun(
        "demo",
        "--no-ui",
        "--dir",
        str(tmp_path / "demo"),
        "--http",
        f"127.0.0.1:{free_port()}",
        check=True,
        timeout=120,
    )
    stock = json.loads(result.stdout[result.stdout.index("{") :])
    by_sku = {item["sku"]: item["qty"] for item in stock["items"]}
    assert by_sku["COLA-330"] == "46.000"
    assert by_sku["APPLE"] == "23.750"
    # the demo's users, printed, log in at its till
    assert "log in cashier wang PIN 1234, manager li PIN 5678" in result.stdout
    node = Node.open(tmp_path / "demo" / "store.db")
    assert authenticate(node, "wang", "1234").role == "cashier"
    assert authenticate(node, "li", "5678").role == "manager"


def test_a_taken_port_is_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = kucun(
            "demo", "--no-ui", "--dir", str(tmp_path / "demo"), "--http", f"127.0.0.1:{port}"
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: cannot start the hub on 127.0.0.1:{port}")
    assert "--http 127.0.0.1:" in lines[0]
    assert "http://" not in result.stdout  # no hub URL printed for a hub that cannot start
    assert not (tmp_path / "demo").exists()  # nothing started, nothing written


def test_port_problems():
    assert demo.port_problem(f"127.0.0.1:{free_port()}") is None
    assert "not host:port" in (demo.port_problem("localhost") or "")
    assert "not host:port" in (demo.port_problem("127.0.0.1:99999") or "")


def test_reset_removes_only_the_demos_files(tmp_path):
    for name in ("hub.db", "store.db", "store.db-wal", "hub-token.txt", "nats.log"):
        (tmp_path / name).write_text("x")
    (tmp_path / "nats" / "jetstream").mkdir(parents=True)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / "notes.txt").write_text("mine")
    removed = demo.reset(tmp_path)
    assert set(removed) == {
        "hub.db",
        "store.db",
        "store.db-wal",
        "hub-token.txt",
        "nats.log",
        "nats",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == [".venv", "notes.txt"]
    assert demo.reset(tmp_path) == []


def test_the_demo_scanner_scans_only_when_asked(tmp_path):
    with demo.simulated_devices(tmp_path) as sims:
        codes: list[str] = []
        reader = ScannerReader(
            sims.scanner, on_event=lambda e: codes.append(getattr(e, "code", "?"))
        ).start()
        try:
            assert reader.wait_ready(10)
            time.sleep(1.0)
            assert codes == []  # nothing scanned on its own
            sims.scan_next()
            deadline = time.monotonic() + 10
            while not codes and time.monotonic() < deadline:
                time.sleep(0.05)
            assert codes == [demo.DEMO_SCANS[0]]
        finally:
            reader.close()
        assert sims.printer  # a printer simulator on its own pty
