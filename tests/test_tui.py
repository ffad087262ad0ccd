"""The counter UI driven by Textual's pilot against a real ledger file."""

from __future__ import annotations

import subprocess
import sys

from textual.widgets import DataTable, Static

from node.service import Node
from node.tui import CounterApp, DeviceConfig


async def test_scan_sells_and_updates_stock(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.receive("COLA", "10")
    app = CounterApp(node, sync=False)
    async with app.run_test() as pilot:
        await pilot.press(*"6901234567892 2", "enter")
        message = str(app.query_one("#message", Static).render())
        assert "Sold 2.000 × COLA, total 6.00" in message
        table = app.query_one("#stock", DataTable)
        assert table.get_row_at(0)[3] == "8.000"
        await pilot.press(*"NOPE", "enter")
        assert "unknown code 'NOPE'" in str(app.query_one("#message", Static).render())
    # committed before it was shown: a fresh connection sees the sale
    reopened = Node.open(tmp_path / "store.db")
    assert reopened.stock(sku="COLA")[0].qty == 8000


async def test_offline_link_is_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    app = CounterApp(node, sync_interval=0.2)
    async with app.run_test() as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.status.last_error:
                break
        app.refresh_link()
        assert "offline" in str(app.query_one("#link", Static).render())
        assert "hub unreachable" in app.status.last_error


class Simulator:
    """A `kucun devices sim-…` process on a real pty; the first stdout line is its path."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devices", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.path = self.proc.stdout.readline().strip()

    def control(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


async def test_scanner_and_scale_on_real_ptys(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.add_product("EGG", "Eggs", price="7.60", unit="kg")
    scale = Simulator("sim-scale", "--protocol", "mt-sics", "--weight", "0.642")
    scanner = Simulator("sim-scanner", "--interval", "3600")
    devices = DeviceConfig(scanner=scanner.path, scale=scale.path)
    app = CounterApp(node, sync=False, devices=devices)
    try:
        async with app.run_test() as pilot:
            message = app.query_one("#message", Static)
            scanner.control("scan 6901234567892")
            for _ in range(200):
                await pilot.pause(0.02)
                if "COLA" in str(message.render()):
                    break
            assert "Sold 1.000 × COLA, total 3.00" in str(message.render())
            await pilot.press(*"EGG", "enter")  # sold by weight: the scale is read
            for _ in range(200):
                await pilot.pause(0.02)
                if "EGG" in str(message.render()):
                    break
            assert "Sold 0.642 × EGG, total 4.88" in str(message.render())
            scale.control("overload")
            await pilot.press(*"EGG", "enter")
            for _ in range(200):
                await pilot.pause(0.02)
                if "scale:" in str(message.render()):
                    break
            assert "scale:" in str(message.render())
    finally:
        scale.close()
        scanner.close()
    assert {r.sku: r.qty for r in Node.open(tmp_path / "store.db").stock()} == {
        "COLA": -1000,
        "EGG": -642,
    }
