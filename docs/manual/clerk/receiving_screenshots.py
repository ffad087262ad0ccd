"""Export the receiving and transfers screenshots (SVG) of the clerk's guide, at 80×24.

    .venv/bin/python docs/manual/clerk/receiving_screenshots.py          # both languages
    .venv/bin/python docs/manual/clerk/receiving_screenshots.py en

A fresh sample shop in a temporary ledger: a purchase order and an inbound transfer from
head office, a clerk and a manager; the real screens driven the way a clerk types:
count an order with an over and an under line, re-count them, receive a short transfer.
The files go to docs/manual/img/clerk-receiving*-<lang>.svg.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
IMG = Path(__file__).resolve().parents[1] / "img"
sys.path.insert(0, str(ROOT))


def sample_shop(path: Path):
    from node.service import Node
    from node.users import add_user
    from protocol import codec
    from protocol.events import DocLine, Document, Event, Upsert
    from protocol.hlc import pack
    from replication.clock import wall_ms

    node = Node.init(path, "S01-T1", "S01", "nats://127.0.0.1:1")
    node.add_product("COLA", "可口可乐 330ml", barcode="6901234567892", price="3.00")
    node.add_product("RICE", "东北大米 5kg", price="39.00")
    node.add_product("TEA", "龙井绿茶 250g", barcode="6900000000017", price="48.00")
    add_user(node, "wang", "王经理", "manager", "2222")
    add_user(node, "zhao", "赵仓管", "clerk", "3333", approver="wang", approver_pin="2222")
    bodies = [
        Upsert(entity="store", key="S02", fields={"name": "东门店"}),
        Document(
            doc="PO-S01-7",
            type="purchase_order",
            location="S01",
            counterparty="华润饮料",
            lines=[
                DocLine(sku="COLA", qty=24_000, unit_cost=180),
                DocLine(sku="RICE", qty=10_000, unit_cost=2600),
            ],
        ),
        Document(
            doc="W01-31",
            type="transfer",
            location="W01",
            counterparty="S01",
            lines=[DocLine(sku="TEA", qty=12_000)],
            shipped=[DocLine(sku="TEA", qty=12_000, unit_cost=3100, lot="T2611")],
        ),
    ]
    raws, prev = [], codec.GENESIS
    for seq, body in enumerate(bodies, start=1):
        event = Event(
            origin="hub-S01", seq=seq, hlc=pack(wall_ms(), seq), prev=prev, user="api", body=body
        )
        raw = codec.encode(event)
        prev = codec.event_hash(raw)
        raws.append(raw)
    node.store.ingest(raws, wall_ms())
    return node


async def shoot(lang: str) -> None:
    os.environ["KUCUN_LANG"] = lang
    from textual.app import App

    from node.permissions import User
    from node.till.receiving import ReceivingScreen
    from node.till.transfers import TransfersScreen

    class Backroom(App[None]):
        def __init__(self, screen: Any) -> None:
            super().__init__()
            self.first = screen

        def on_mount(self) -> None:
            self.push_screen(self.first)

    clerk = User("zhao", "赵仓管" if lang == "zh-CN" else "Zhao", "clerk")
    with tempfile.TemporaryDirectory() as tmp:
        node = sample_shop(Path(tmp) / "till.db")
        try:
            app = Backroom(ReceivingScreen(node, clerk))
            async with app.run_test(size=(80, 24)) as pilot:

                def save(name: str) -> None:
                    app.save_screenshot(f"{name}-{lang}.svg", str(IMG))

                await pilot.pause(0.2)
                await pilot.press("enter", *"COLA 24", "enter")
                await pilot.press(*"6901234567892", "enter")  # one carton more than ordered
                await pilot.press(*"RICE 8", "enter")
                await pilot.press("f12")  # refused: the differing lines wait for a check
                await pilot.pause(0.1)
                save("clerk-receiving")
                await pilot.press("f5", *"COLA 25", "enter")
                await pilot.pause(0.1)
                save("clerk-receiving-recount")
            app = Backroom(TransfersScreen(node, clerk))
            async with app.run_test(size=(80, 24)) as pilot:

                def save_transfer(name: str) -> None:
                    app.save_screenshot(f"{name}-{lang}.svg", str(IMG))

                await pilot.pause(0.2)
                await pilot.press("enter", *"TEA 10", "enter", "f12")
                await pilot.pause(0.1)
                save_transfer("clerk-receiving-transfer")
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
    print(f"docs/manual/img/clerk-receiving*-{langs[0]}.svg written")


if __name__ == "__main__":
    main()
