"""The till app driven by Textual's pilot against a real ledger file, with the scanner and
scale simulators on real ptys: what a device sends reaches the sale screen's `scanned`."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from devices.scales.events import Reading
from node.service import Node
from node.till.app import DeviceConfig, TillApp
from node.till.status import StatusBar
from node.users import add_user


def basket(app: TillApp) -> dict[str, int]:
    """SKU → quantity (milli) of what reached the sale screen."""
    totals: dict[str, int] = {}
    for line in app.session.basket.lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.qty
    return totals


async def wait_for(pilot, condition, tries: int = 200, step: float = 0.05) -> bool:
    for _ in range(tries):
        if condition():
            return True
        await pilot.pause(step)
    return condition()


def store(tmp_path) -> Node:
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    add_user(node, "wang", "王芳", "cashier", "1234")
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.receive("COLA", "10")
    return node


async def log_in(pilot) -> None:
    await pilot.press(*"wang", "enter", *"1234", "enter")
    await wait_for(pilot, lambda: pilot.app.user is not None)


async def test_typed_code_reaches_the_sale_screen(tmp_path):
    node = store(tmp_path)
    app = TillApp(node, sync=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await pilot.press(*"6901234567892 2", "enter")
        assert await wait_for(pilot, lambda: basket(app) == {"COLA": 2000})
    # a basket is not a sale: nothing was taken from stock
    assert Node.open(tmp_path / "store.db").stock(sku="COLA")[0].qty == 10000


async def test_offline_link_is_shown(tmp_path):
    node = store(tmp_path)
    app = TillApp(node, sync_interval=0.2, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        assert app.sync is not None
        assert await wait_for(pilot, lambda: bool(app.sync and app.sync.status().last_error))
        bar = app.screen.query_one(StatusBar)
        bar.redraw()
        assert "offline" in str(bar.render())
        assert "hub unreachable" in (app.sync.status().last_error or "")


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
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.stdin = self.proc.stdin
        self.stdout = self.proc.stdout
        self.path = self.stdout.readline().strip()

    def control(self, line: str) -> None:
        self.stdin.write(line + "\n")
        self.stdin.flush()

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.stdin.close()
        self.stdout.close()


async def test_scanner_and_scale_on_real_ptys(tmp_path):
    node = store(tmp_path)
    codes = []
    for i in range(30):
        code = f"69100000{i:05d}"
        node.add_product(f"P{i:02d}", f"Item {i}", barcode=code, price="1.00")
        codes.append(code)
    scale = Simulator("sim-scale", "--protocol", "mt-sics", "--weight", "0.642")
    scanner = Simulator("sim-scanner", "--interval", "3600")
    printer = Simulator("sim-printer", "--record", str(tmp_path / "printer.bin"))
    devices = DeviceConfig(scanner=scanner.path, scale=scale.path)
    app = TillApp(node, sync=False, devices=devices, printer=printer.path, lock_after_s=0)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await log_in(pilot)
            bar = app.screen.query_one(StatusBar)
            ready = (("scanner", "ready"), ("scale", "ready"), ("printer", "ready"))
            assert await wait_for(pilot, lambda: app.till_status().devices == ready)
            bar.redraw()
            assert "scan✓ scale✓ prn✓" in str(bar.render())
            if app.session is not None:  # the sale screen prints on the app's printer
                assert app.session.printer is app.printer
            scanner.control("scan 6901234567892")
            assert await wait_for(pilot, lambda: basket(app) == {"COLA": 1000})
            # a burst of 30 codes from the scanner: none lost
            for code in codes:
                scanner.control(f"scan {code}")
            expected = {"COLA": 1000} | {f"P{i:02d}": 1000 for i in range(30)}
            assert await wait_for(pilot, lambda: basket(app) == expected), basket(app)
            # the scale runs on its own thread; the screens read it from the app
            assert app.scale is not None
            reading = await asyncio.to_thread(app.scale.read_weight, timeout=5.0)
            assert isinstance(reading, Reading)
            assert reading.to_milli() == 642
    finally:
        scale.close()
        scanner.close()
        printer.close()
