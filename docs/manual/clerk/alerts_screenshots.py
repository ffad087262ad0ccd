"""Export the alerts screen's screenshots (SVG) for the clerk's guide, at 80×24.

    .venv/bin/python docs/manual/clerk/alerts_screenshots.py          # both languages
    .venv/bin/python docs/manual/clerk/alerts_screenshots.py en

A sample store in a temporary ledger with one alert of several kinds (negative stock, a
reorder point from head office, a lot about to expire, a short delivery); the real
`AlertsScreen` in a small frame, one alert acknowledged the way a clerk does it. The files
go to docs/manual/img/clerk-alerts-<lang>.svg.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
IMG = ROOT / "docs" / "manual" / "img"
sys.path.insert(0, str(ROOT))


def sample_store(path: Path):
    from ledger.replica import Replica
    from ledger.sqlite import connect
    from node import logistics
    from node.logistics import Arrived, Confirmation
    from node.service import Node
    from node.users import add_user
    from protocol.events import DocLine, Document, Upsert
    from replication.clock import wall_ms

    node = Node.init(path, "S01-T1", "S01", "nats://127.0.0.1:1", user="zhao")
    node.add_product("COLA", "可口可乐 330ml", barcode="6901234567892", price="3.00")
    node.add_product("MILK", "鲜牛奶 1L", price="12.00")
    node.add_product("RICE", "东北大米 5kg", price="45.00")
    add_user(node, "wang", "王经理", "manager", "2222")
    add_user(node, "zhao", "赵敏", "clerk", "3333", approver="wang", approver_pin="2222")
    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    node.receive("MILK", "12", lot="M0412", expiry=soon)
    node.receive("RICE", "4")
    order = Document(
        doc="PO-S01-1",
        type="purchase_order",
        location="S01",
        counterparty="ACME",
        lines=[DocLine(sku="COLA", qty=24_000, unit_cost=180)],
    )
    reorder = Upsert(entity="reorder", key="S01/RICE", fields={"point": 5000, "qty": 20000})
    # head office's logs, as replication brings them: the order and the reorder point
    for origin, body in (("hub-S01", order), ("hub", reorder)):
        hub = Replica(connect(path.with_name(f"{origin}.db")), origin)
        hub.append([body], "api", wall_ms())
        node.store.ingest([raw for _, raw in hub.log.raw_events(origin, 0)], wall_ms())
        hub.conn.close()
    logistics.receive_purchase_order(
        node, "PO-S01-1", [Arrived("COLA", 22_000)], Confirmation(approver="wang", pin="2222")
    )
    node.sell("COLA", "23")  # one more than arrived: the shelf had more than the books
    return node


async def shoot(lang: str) -> None:
    os.environ["KUCUN_LANG"] = lang
    from textual.app import App

    from node.permissions import User
    from node.till.alerts import AlertsScreen

    class Frame(App[None]):
        def __init__(self, node) -> None:
            super().__init__()
            self.node = node

        def on_mount(self) -> None:
            self.push_screen(AlertsScreen(self.node, User("zhao", "赵敏", "clerk")))

    with tempfile.TemporaryDirectory() as tmp:
        node = sample_store(Path(tmp) / "till.db")
        app = Frame(node)
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause(0.3)
                await pilot.press("down", "down", "enter")  # acknowledge the third
                await pilot.pause(0.2)
                await pilot.press("up")
                await pilot.pause(0.1)
                app.save_screenshot(f"clerk-alerts-{lang}.svg", str(IMG))
        finally:
            node.close()


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    langs = sys.argv[1:] or ["zh-CN", "en"]
    if len(langs) > 1:  # one process per language: texts are chosen when modules load
        for lang in langs:
            subprocess.run([sys.executable, __file__, lang], check=True)
        return
    asyncio.run(shoot(langs[0]))
    print(f"docs/manual/img/clerk-alerts-{langs[0]}.svg written")


if __name__ == "__main__":
    main()
