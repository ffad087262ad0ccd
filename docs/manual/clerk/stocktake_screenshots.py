"""Export the stocktake chapter's screenshots (SVG) from the stocktake screen, at 80×24.

    .venv/bin/python docs/manual/clerk/stocktake_screenshots.py         # both languages
    .venv/bin/python docs/manual/clerk/stocktake_screenshots.py en

A sample shop in a temporary ledger; clerk 陈 opens the count, counts the shelf (the
first picture: a place being counted), a second clerk's back-store tally is already in,
then the review (the second picture). The files go to
docs/manual/img/clerk-stocktake-<lang>.svg and clerk-stocktake-review-<lang>.svg.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
IMG = ROOT / "docs" / "manual" / "img"
sys.path.insert(0, str(ROOT))


def sample_shop(path: Path):
    from node.service import Node
    from node.users import add_user

    node = Node.init(path, "S01-T1", "S01", "nats://127.0.0.1:1")
    node.add_product("COLA", "可口可乐 330ml", barcode="6901234567892", price="3.00")
    node.add_product("TEA", "龙井绿茶 250g", barcode="6900000000017", price="48.00")
    node.add_product("EGG", "散装鸡蛋", price="7.60", unit="kg")
    for sku, qty, cost in (("COLA", "48", "2.00"), ("TEA", "6", "30.00"), ("EGG", "20", "5.00")):
        node.receive(sku, qty, cost=cost)
    add_user(node, "chen", "陈", "clerk", "1111")
    add_user(node, "liu", "刘", "clerk", "2222")
    add_user(node, "wang", "王经理", "manager", "4821")
    return node


async def shoot(lang: str) -> list[Path]:
    from textual.app import App

    from node import stocktake
    from node.permissions import User
    from node.till.stocktake import StocktakeScreen

    os.environ["KUCUN_LANG"] = lang
    shots = []
    with tempfile.TemporaryDirectory() as tmp:
        node = sample_shop(Path(tmp) / "store.db")

        class Frame(App[None]):
            def on_mount(self) -> None:
                self.push_screen(StocktakeScreen(node, User("chen", "陈", "clerk")))

        app = Frame()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = app.screen
            assert isinstance(screen, StocktakeScreen)
            doc = screen.counting.doc or ""
            node.user = "liu"  # the second clerk's back store is in already
            stocktake.tally(node, doc, "仓库" if lang == "zh-CN" else "back store",
                            [stocktake.Counted("COLA", 24_000)])  # fmt: skip
            await pilot.press("f3", *("货架" if lang == "zh-CN" else "shelf"), "enter")
            for code in ("6901234567892", "COLA 21", "TEA 6"):
                screen.scanned(code)
            await pilot.pause(0.1)
            name = f"clerk-stocktake-{lang}.svg"
            app.save_screenshot(name, str(IMG))
            shots.append(IMG / name)
            await pilot.press("f5", "f6")
            await pilot.pause(0.1)
            name = f"clerk-stocktake-review-{lang}.svg"
            app.save_screenshot(name, str(IMG))
            shots.append(IMG / name)
        node.close()
    return shots


def main() -> None:
    for lang in sys.argv[1:] or ["zh-CN", "en"]:
        for path in asyncio.run(shoot(lang)):
            print(path)


if __name__ == "__main__":
    main()
