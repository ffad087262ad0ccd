"""Export the cashier manual's screenshots (SVG) from the till itself, at 80×24.

    .venv/bin/python docs/manual/screenshots.py            # both languages
    .venv/bin/python docs/manual/screenshots.py zh-CN

A fresh sample shop in a temporary ledger (products, a manager and a cashier, an open
shift); the real `TillApp` driven the way a cashier types: log in, sell (a weighed item
from the scale simulator), pay split, return against the receipt, close the shift. The
files go to docs/manual/img/<screen>-<lang>.svg.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMG = Path(__file__).resolve().parent / "img"
sys.path.insert(0, str(ROOT))


def sample_shop(path: Path):
    from node.service import Node
    from node.users import add_user

    node = Node.init(path, "S01-T1", "S01", "nats://127.0.0.1:1")
    node.add_product("COLA", "可口可乐 330ml", barcode="6901234567892", price="3.00")
    node.add_product("EGG", "散装鸡蛋", price="7.60", unit="kg")
    node.add_product("TEA", "龙井绿茶 250g", barcode="6900000000017", price="48.00")
    for sku, qty in (("COLA", "48"), ("EGG", "20"), ("TEA", "6")):
        node.receive(sku, qty)
    add_user(node, "wang", "王经理", "manager", "2222")
    add_user(node, "li", "李娜", "cashier", "1111", approver="wang", approver_pin="2222")
    return node


class Scale:
    """The scale simulator on a pty (as at a real counter), until closed."""

    def __init__(self, weight: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devices",
                "sim-scale",
                "--protocol",
                "mt-sics",
                "--weight",
                weight,
            ],
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.path = self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


async def until(pilot, condition, tries: int = 250) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)


async def shoot(lang: str) -> None:
    os.environ["KUCUN_LANG"] = lang
    from node.till.app import DeviceConfig, TillApp

    with tempfile.TemporaryDirectory() as tmp:
        node = sample_shop(Path(tmp) / "till.db")
        scale = Scale("0.642")
        app = TillApp(node, sync=False, devices=DeviceConfig(scale=scale.path))
        try:
            async with app.run_test(size=(80, 24)) as pilot:

                def save(name: str) -> None:
                    app.save_screenshot(f"{name}-{lang}.svg", str(IMG))

                await pilot.pause(0.3)
                await pilot.press(*"li")
                save("login")
                await pilot.press("enter", *"1111", "enter")
                await pilot.pause(0.2)
                await pilot.press("f10", *"200", "enter")  # open the shift with its float
                await pilot.pause(1.2)  # the status bar redraws every second
                save("shift-open")
                await pilot.press("escape")
                await pilot.press(*"6901234567892", "enter", *"6901234567892", "enter")
                await pilot.press(*"EGG", "enter")  # sold by weight: the scale is read
                session = app.session
                await until(pilot, lambda: len(session.basket.lines) == 2)
                await pilot.press(*"TEA", "enter")
                await pilot.pause(0.1)
                save("sale")
                await pilot.press("f12", *"20", "f4", *"50", "f2")  # WeChat 20, cash 50
                await pilot.pause(0.2)
                save("pay")
                receipt = session.last_receipt or []
                doc = next(
                    (w for line in receipt for w in line.split() if w.startswith("S01-")), ""
                )
                await pilot.press("enter")
                await pilot.press("f4", *doc, "enter", "plus", "f3")
                await pilot.pause(0.1)
                save("return")
                await pilot.press("f12")
                await pilot.pause(0.2)
                await pilot.press("enter", "f10", *"248.00", "enter", "y")
                await pilot.pause(0.2)
                save("shift-z")
        finally:
            scale.close()
            node.close()


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    langs = sys.argv[1:] or ["zh-CN", "en"]
    if len(langs) > 1:  # one process per language: texts are chosen when modules load
        for lang in langs:
            subprocess.run([sys.executable, __file__, lang], check=True)
        return
    asyncio.run(shoot(langs[0]))
    print(f"docs/manual/img/*-{langs[0]}.svg written")


if __name__ == "__main__":
    main()
