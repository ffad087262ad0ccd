"""The real `kucun node run` in a real terminal (tmux, 80×24), typed into the way a
cashier types: log in, scan, see the basket and the status bar, quit. No log line is
drawn over the screen: they go to `<db>.log`."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from node.service import Node
from node.users import add_user

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Tmux:
    """One tmux server of our own (-L), one 80×24 window running `command`."""

    def __init__(self, command: str) -> None:
        self.socket = f"kucun-test-{uuid.uuid4().hex[:8]}"
        self.run("new-session", "-d", "-s", "till", "-x", "80", "-y", "24", command)

    def run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        ).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "till", *keys)
        time.sleep(0.2)  # a person's pace between keys and fields

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "till", "-l", text)
        time.sleep(0.2)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "till")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not on the screen:\n{self.screen()}")

    def alive(self) -> bool:
        return (
            subprocess.run(
                ["tmux", "-L", self.socket, "has-session", "-t", "till"], capture_output=True
            ).returncode
            == 0
        )

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def test_a_cashier_logs_in_and_scans_in_a_real_terminal(tmp_path):
    db = tmp_path / "store.db"
    node = Node.init(db, "S01", None, "nats://127.0.0.1:1")
    add_user(node, "wang", "Wang Fang", "cashier", "1234")
    node.add_product("COLA", "Cola 330ml", barcode="6901234567892", price="3.00")
    node.receive("COLA", "10")
    node.close()
    command = " ".join(
        shlex.quote(part)
        for part in (
            "env",
            "KUCUN_LANG=zh-CN",  # --lang wins
            "TERM=xterm-256color",
            sys.executable,
            "-m",
            "kucun",
            "--log-level",
            "info",
            "node",
            "run",
            "--db",
            str(db),
            "--lock-after",
            "0",
            "--sync-interval",
            "0.5",
            "--lang",
            "en",
        )
    )
    tmux = Tmux(command)
    try:
        tmux.wait_for("Cashier login")
        time.sleep(1.0)  # the terminal's answers to the app's start-up queries
        tmux.type("wang")
        tmux.keys("Enter")
        tmux.type("1234")
        tmux.keys("Enter")
        shown = tmux.wait_for("Wang Fang |")
        assert "offline" in tmux.wait_for("offline")
        tmux.type("6901234567892")
        tmux.keys("Enter")
        shown = tmux.wait_for("Cola 330ml")
        assert "6.00" not in shown  # one can, not two
        tmux.type("6901234567892 2")
        tmux.keys("Enter")
        tmux.wait_for("9.00")  # the basket's total: three cans
        time.sleep(1.5)  # a few sync rounds fail meanwhile, and are logged
        shown = tmux.screen()
        assert "kucun.node" not in shown and "INFO" not in shown and "WARNING" not in shown
        for line in shown.splitlines():
            assert len(line) <= 80
        tmux.keys("C-q")
        deadline = time.monotonic() + 15
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not tmux.alive()
    finally:
        tmux.close()
    assert "kucun.node.sync" in (tmp_path / "store.db.log").read_text()
