"""Export the lookup chapter's screenshots (SVG) from the lookup screen itself, at 80×24.

    .venv/bin/python docs/manual/clerk/lookup_screenshots.py         # both languages
    .venv/bin/python docs/manual/clerk/lookup_screenshots.py en

A sample shop in a temporary ledger (apples in two lots, a juice, pears), the other
stores' stock as the hub last sent it, and no hub reachable: the screen shows the kept
answer "as of" its time. The clerk types `pg`. The files go to
docs/manual/img/clerk-lookup-<lang>.svg.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
IMG = ROOT / "docs" / "manual" / "img"
sys.path.insert(0, str(ROOT))


def sample_shop(path: Path):
    from node.lookup import Lookup
    from node.permissions import User
    from node.service import Node
    from replication.stock_query import StockAnswer

    node = Node.init(path, "S01-T1", "S01", "nats://127.0.0.1:1")
    node.add_product("A01", "苹果（红富士）", barcode="6901234567892", price="5.80", unit="kg")
    node.add_product("A02", "苹果汁 1L", barcode="6901234567908", price="8.50")
    node.add_product("P03", "砀山梨", price="4.20", unit="kg")
    node.receive("A01", "30", cost="3.10", lot="L2611", expiry="2026-12-20")
    node.receive("A01", "20", cost="3.20", lot="L2612", expiry="2027-01-10")
    node.sell("A01", "1.25")
    node.receive("A02", "24", cost="5.00")
    as_of = int(time.time() * 1000) - 2 * 3600 * 1000
    Lookup(node, User("zhao", "赵", "clerk")).remember(
        StockAnswer("A01", as_of, [("S01", 48750), ("S02", 12000), ("S03", 0)])
    )
    return node


async def shoot(lang: str) -> None:
    from textual.app import App

    from node.permissions import User
    from node.till.lookup import LookupScreen

    os.environ["KUCUN_LANG"] = lang
    with tempfile.TemporaryDirectory() as tmp:
        node = sample_shop(Path(tmp) / "store.db")

        class Frame(App[None]):
            def on_mount(self) -> None:
                self.push_screen(LookupScreen(node, User("zhao", "赵", "clerk")))

        app = Frame()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("p", "g")
            for _ in range(200):  # the hub is not reachable: wait for the kept answer
                detail = str(app.screen.query_one("#detail").render())
                if "S02" in detail and "…" not in detail:
                    break
                await pilot.pause(0.05)
            app.save_screenshot(f"clerk-lookup-{lang}.svg", str(IMG))
        node.close()


def main() -> None:
    for lang in sys.argv[1:] or ["zh-CN", "en"]:
        asyncio.run(shoot(lang))
        print(IMG / f"clerk-lookup-{lang}.svg")


if __name__ == "__main__":
    main()
