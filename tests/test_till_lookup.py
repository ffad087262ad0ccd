"""The lookup screen (F2) driven by Textual's pilot at 80×24 on real ledgers: a pinyin
lookup with the scanner simulator on a real pty and the other stores' stock from a hub
service on a real nats-server; picking for a sale; offline with what was kept."""

from __future__ import annotations

import html
import re
import time

import nats
import pytest
from textual.app import App
from textual.widgets import DataTable, Static

from devices import ScannerReader
from hub.stock_service import serve_stock
from hub.store import HubStore
from node.permissions import User
from node.service import Node
from node.till.lookup import LookupScreen
from protocol import subjects
from replication.stock_query import StockAnswer
from tests.test_tui import Simulator

CLERK = User("zhao", "Zhao", "clerk")
SIZE = (80, 24)
OFFLINE = "nats://127.0.0.1:1"


class Frame(App[None]):
    """The smallest frame the lookup needs: it pushes the screen and keeps what it chose."""

    def __init__(self, node: Node, user: User = CLERK, pick: bool = False) -> None:
        super().__init__()
        self.node, self.user, self.pick = node, user, pick
        self.chosen: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(LookupScreen(self.node, self.user, pick=self.pick), self.chosen.append)


def shop(tmp_path, name: str, url: str = OFFLINE) -> Node:
    node = Node.init(tmp_path / f"{name}.db", name, None, url)
    node.add_product("A100", "苹果 红富士", "6901234567892", "5.80")
    node.add_product("B15", "苹果汁", None, "8.00")
    node.add_product("P200", "梨", "6901234567908", "3.20")
    node.add_product("M300", "Fresh Milk 1L", None, "12.00")
    return node


async def until(pilot, condition, tries: int = 250) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


def text(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def rows(app: App) -> list[str]:
    table = app.screen.query_one("#found", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def screen_text(svg: str) -> str:
    """The characters of an exported screen, line by line."""
    lines: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        lines.setdefault(float(m[2]), []).append((float(m[1]), html.unescape(m[3])))
    return "\n".join(
        "".join(part for _, part in sorted(lines[y])).replace("\xa0", " ") for y in sorted(lines)
    )


def hub_of(tmp_path, *nodes: Node) -> HubStore:
    hub, _ = HubStore.init(tmp_path / "hub.db")
    for node in nodes:
        raws = [raw for _, raw in node.store.log.raw_events(node.config.node, 0, limit=10**6)]
        hub.events.ingest(raws, int(time.time() * 1000))
    return hub


async def test_a_pinyin_lookup(tmp_path, nats_server):
    here = shop(tmp_path, "S01", nats_server.url)
    there = shop(tmp_path, "S02", nats_server.url)
    here.receive("A100", "6", lot="L7", expiry="2027-01-15")
    here.receive("A100", "4", lot="L8", expiry="2027-03-01")
    here.sell("A100", "1")
    there.receive("A100", "25")
    there.receive("P200", "9")
    hub = hub_of(tmp_path, here, there)
    nc = await nats.connect(nats_server.url)
    await serve_stock(nc, hub)
    scanner_sim = Simulator("sim-scanner", "--interval", "3600")
    app = Frame(here)
    scanner = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, LookupScreen)
            await pilot.press("p", "g")
            await until(pilot, lambda: rows(app) == ["A100", "B15"])
            assert "2 products found" in text(app, "#message")
            # the first match is shown; the hub's answer arrives from the worker thread
            await until(pilot, lambda: "S02  25" in text(app, "#detail"))
            detail = text(app, "#detail")
            assert "苹果 红富士" in detail and "Price 5.80" in detail
            assert "Here: 9 pcs" in detail
            assert "Lot L7  exp 2027-01-15  5" in detail  # the sale drew the first expiry
            assert "Lot L8  exp 2027-03-01  4" in detail
            assert "S01 (here)  9" in detail and "Other stores (hub," in detail
            assert "sale -1 → 9" in detail and "receipt +4 → 10" in detail
            await pilot.press("down")  # 苹果汁: nothing anywhere
            await until(pilot, lambda: "苹果汁" in text(app, "#detail"))
            await until(pilot, lambda: "none anywhere" in text(app, "#detail"))
            await pilot.press("backspace", "backspace", *"pingguozhi")
            await until(pilot, lambda: rows(app) == ["B15"])
            await pilot.press(*["backspace"] * 10, *"xyz")
            await until(pilot, lambda: rows(app) == [])
            assert "Nothing found for 'xyz'" in text(app, "#message")

            scanner = ScannerReader(
                scanner_sim.path,
                suffix="cr",
                on_event=lambda e: app.call_from_thread(screen.scanned, getattr(e, "code", "")),
            ).start()
            assert scanner.wait_ready(5.0)
            scanner_sim.control("scan 6901234567908")  # 梨, by its barcode
            await until(pilot, lambda: rows(app) == ["P200"])
            await until(pilot, lambda: "S02  9" in text(app, "#detail"))
            assert "梨" in text(app, "#detail")
            assert app.screen is screen  # not picking: the screen stays

            # moving through the results asks the hub only where the cursor rests, and not
            # again about a product it answered a moment ago
            asked: list[str] = []

            async def count(msg) -> None:
                asked.append(msg.subject)

            await nc.subscribe(subjects.STOCK_QUERY_SUBSCRIPTION, cb=count)
            await nc.flush()
            await pilot.press(*["backspace"] * 13)
            await until(pilot, lambda: rows(app) == ["A100", "B15", "M300", "P200"])
            await pilot.press("down", "down", "down", "up")  # rests on M300, never asked
            await until(pilot, lambda: "Fresh Milk" in text(app, "#detail"))
            await until(pilot, lambda: "none anywhere" in text(app, "#detail"))
            await pilot.pause(0.3)
            assert asked == [subjects.stock_query_subject("S01")]
            await pilot.press("escape")
            await until(pilot, lambda: app.chosen == [None])
    finally:
        if scanner is not None:
            scanner.close()
        scanner_sim.close()
        await nc.close()
        hub.conn.close()
    kept = Node.open(tmp_path / "S01.db")
    from node.lookup import Lookup

    cached = Lookup(kept, CLERK).cached_other_stores("A100")
    assert cached is not None and cached.levels == [("S01", 9000), ("S02", 25000)]


async def test_picking_for_a_sale_returns_the_chosen_sku(tmp_path):
    node = shop(tmp_path, "S01")
    app = Frame(node, pick=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"pgz")
        await until(pilot, lambda: rows(app) == ["B15"])
        assert "Enter: put this product in the basket" in text(app, "#detail")
        await pilot.press("x", "enter")  # nothing found: Enter chooses nothing
        await until(pilot, lambda: "Choose a product" in text(app, "#detail"))
        assert app.chosen == []
        await pilot.press("backspace", "enter")
        await until(pilot, lambda: app.chosen == ["B15"])
    app = Frame(node, pick=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, LookupScreen)
        screen.scanned("6901234567892")  # picking, a scan chooses at once
        await until(pilot, lambda: app.chosen == ["A100"])


async def test_offline_it_shows_what_the_hub_last_said_and_when(tmp_path):
    node = shop(tmp_path, "S01")
    from node.lookup import Lookup

    as_of = int(time.mktime((2026, 11, 30, 18, 5, 0, 0, 0, -1)) * 1000)
    Lookup(node, CLERK).remember(StockAnswer("P200", as_of, [("S01", 0), ("S03", 12000)]))
    app = Frame(node)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"li")
        await until(pilot, lambda: rows(app) == ["P200"])
        await until(pilot, lambda: "Asking" not in text(app, "#detail"))
        detail = text(app, "#detail")
        assert "Other stores (offline, as of 11-30 18:05)" in detail
        assert "S03  12" in detail
        await pilot.press("backspace", "backspace", *"M300")  # never asked, hub away
        await until(pilot, lambda: "Fresh Milk" in text(app, "#detail"))
        await until(pilot, lambda: "No answer from the hub" in text(app, "#detail"))


async def test_a_role_without_lookup_is_told_what_to_do(tmp_path):
    app = Frame(shop(tmp_path, "S01"), User("x", "X", "nobody"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "may not look products up" in text(app, "#message"))
        assert rows(app) == []


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_it_fits_80_by_24(tmp_path, monkeypatch, lang):
    monkeypatch.setenv("KUCUN_LANG", lang)
    node = shop(tmp_path, "S01")
    node.receive("A100", "6", lot="L7", expiry="2027-01-15")
    app = Frame(node)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: rows(app) == ["A100", "B15", "M300", "P200"])
        await until(pilot, lambda: "A100" in text(app, "#detail"))
        key = "F5 问各店" if lang == "zh-CN" else "F5 Ask stores"
        # the footer is drawn after the first refresh: a loaded machine takes longer
        await until(pilot, lambda: key in screen_text(app.export_screenshot()))
        for widget in app.screen.query("*"):
            region = widget.region
            assert region.right <= 80 and region.bottom <= 24, widget
        shown = screen_text(app.export_screenshot())
        assert ("编码" if lang == "zh-CN" else "SKU") in shown
