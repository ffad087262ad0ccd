"""The stocktake screen driven by Textual's pilot at 80×24 on real ledgers: two clerks on
two tills count two places of one store (a scanner and a scale simulator on real ptys),
a third till sells during the count, a manager approves; the counts are summed and true
when posted."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App
from textual.widgets import DataTable, Static

from node import stocktake
from node.counter import sell_line
from node.permissions import User
from node.service import Node
from node.till.approval import ManagerModal
from node.till.stocktake import StocktakeScreen
from node.users import add_user
from replication.clock import wall_ms
from tests.test_tui import Simulator

SIZE = (80, 24)
CHEN = User("chen", "Chen", "clerk")
LIU = User("liu", "Liu", "clerk")


class Back(App[None]):
    """The smallest frame the screen needs: it pushes it and holds the scale."""

    def __init__(self, node: Node, user: User, scale: Any = None) -> None:
        super().__init__()
        self.node, self.user, self.scale = node, user, scale

    def on_mount(self) -> None:
        self.push_screen(StocktakeScreen(self.node, self.user))


def exchange(*tills: Node) -> None:
    """Every till ingests what the others wrote (what sync through the hub amounts to)."""
    for src in tills:
        for dst in tills:
            if dst is not src:
                raws = [raw for _, raw in src.store.log.raw_events(src.config.node, 0)]
                dst.store.ingest(raws, wall_ms())


async def until(pilot, condition, tries: int = 250) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


def text(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def rows(app: App) -> list[list[str]]:
    table = app.screen.query_one("#counted", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.fixture
def tills(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    t1, t2, t3 = (
        Node.init(tmp_path / f"t{i}.db", f"S01-T{i}", "S01", "nats://127.0.0.1:1")
        for i in (1, 2, 3)
    )
    t1.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    t1.add_product("EGG", "Eggs", price="7.60", unit="kg")
    t1.receive("COLA", "20", cost="2.00")
    t1.receive("EGG", "5", cost="5.00")
    add_user(t1, "chen", "Chen", "clerk", "1111")
    add_user(t1, "liu", "Liu", "clerk", "2222")
    add_user(t1, "zhao", "Zhao", "manager", "4821")
    add_user(t1, "li", "Li", "cashier", "3333")
    exchange(t1, t2, t3)
    return t1, t2, t3


@pytest.mark.slow
async def test_two_clerks_on_two_tills_summed_and_approved_while_a_third_sells(tills):
    from devices import ScaleSession, ScannerReader

    t1, t2, t3 = tills
    scanner_sim = Simulator("sim-scanner", "--interval", "3600")
    scale_sim = Simulator("sim-scale", "--protocol", "mt-sics", "--weight", "1.250")
    scale = ScaleSession(scale_sim.path, "mt-sics").start()
    scanner = None
    try:
        one = Back(t1, CHEN)
        async with one.run_test(size=SIZE) as pilot:
            counting = one.screen
            assert isinstance(counting, StocktakeScreen)
            assert "No stocktake is open here" in text(one, "#message")
            assert stocktake.sessions(t1) == []  # looking at the screen starts nothing
            await pilot.press("f2")
            assert "Opened a whole-store stocktake" in text(one, "#message")
            doc = counting.counting.doc
            await pilot.press("f3", *"shelf", "enter")
            assert "Counting shelf" in text(one, "#message")
            scanner = ScannerReader(
                scanner_sim.path,
                suffix="cr",
                repeat_window=0.0,
                on_event=lambda e: one.call_from_thread(counting.scanned, getattr(e, "code", "")),
            ).start()
            assert scanner.wait_ready(5.0)
            for _ in range(3):
                scanner_sim.control("scan 6901234567892")
            await until(pilot, lambda: rows(one) == [["Cola (COLA)", "", "3.000"]])
            await pilot.press(*"COLA 9", "enter")  # a case of nine, typed
            assert rows(one) == [["Cola (COLA)", "", "12.000"]]
            await pilot.press("f5")
            assert "shelf posted" in text(one, "#message")
        exchange(t1, t2, t3)

        two = Back(t2, LIU, scale)
        async with two.run_test(size=SIZE) as pilot:
            screen = two.screen
            assert isinstance(screen, StocktakeScreen)
            assert f"Joined stocktake {doc}" in text(two, "#message")
            await pilot.press("f3", *"back store", "enter")
            await pilot.press(*"COLA 7", "enter")
            await pilot.press(*"EGG", "enter")  # sold by weight: the scale is read
            await until(pilot, lambda: len(rows(two)) == 2)
            assert rows(two)[1] == ["Eggs (EGG)", "", "1.250"]
            await pilot.press("f5")
            assert "back store posted" in text(two, "#message")
        exchange(t1, t2, t3)

        t3.user = "li"
        sell_line(t3, "COLA 2")  # the third till sells during the count
        exchange(t1, t2, t3)

        # a clerk reviews, then asks the manager, whose PIN is typed into the modal
        again = Back(t1, CHEN)
        async with again.run_test(size=SIZE) as pilot:
            await pilot.press("f6")
            # COLA: 12 + 7 = 19 counted before 2 were sold: 17 there, 18 on the books
            # EGG: 1.250 counted, 5 on the books
            assert rows(again) == [
                ["Cola (COLA)", "", "18.000", "19.000", "-1.000", "-2.00"],
                ["Eggs (EGG)", "", "5.000", "1.250", "-3.750", "-18.75"],
            ]
            assert "chen@shelf" in text(again, "#message")
            assert "liu@back store" in text(again, "#message")
            await pilot.press("f9")
            assert isinstance(again.screen, ManagerModal)
            await pilot.press(*"zhao", "enter", *"0000", "enter")
            assert "wrong PIN" in text(again, "#approval-message")
            await pilot.press(*"4821", "enter")
            await until(pilot, lambda: isinstance(again.screen, StocktakeScreen))
            assert "Stocktake approved" in text(again, "#message")
        assert {r.sku: r.qty for r in t1.stock(location="S01")} == {"COLA": 17_000, "EGG": 1250}

        exchange(t1, t2, t3)  # every till shows the same approval and stock
        for till in (t2, t3):
            assert stocktake.status(till, doc or "").status == "approved"
            assert {r.sku: r.qty for r in till.stock(location="S01")} == {
                "COLA": 17_000,
                "EGG": 1250,
            }
    finally:
        if scanner is not None:
            scanner.close()
        scale.close()
        scale_sim.close()
        scanner_sim.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_fits_80_by_24(tills, monkeypatch, lang):
    monkeypatch.setenv("KUCUN_LANG", lang)
    t1, _, _ = tills
    app = Back(t1, CHEN)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2", "f3", *"shelf", "enter", *"COLA", "enter", "f6")
        screen = app.screen
        for selector in ("#stocktake-title", "#scan", "#counted", "#message", "Footer"):
            region = screen.query_one(selector).region
            assert region.height > 0 and region.right <= 80 and region.bottom <= 24, selector
        assert len(rows(app)) == 2  # review: COLA and EGG (not counted yet)
        assert rows(app)[1][3] == "-"


async def test_a_cashier_is_refused(tills):
    t1, _, _ = tills
    app = Back(t1, User("li", "Li", "cashier"))
    async with app.run_test(size=SIZE):
        assert "may not count" in text(app, "#message")
        assert stocktake.sessions(t1) == []


async def test_a_manager_approves_at_once_and_a_second_approval_is_refused(tills):
    t1, _, _ = tills
    app = Back(t1, User("zhao", "Zhao", "manager"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2", "f3", *"shelf", "enter", *"COLA 20", "enter", "f5", "f9")
        assert "Stocktake approved" in text(app, "#message")
        await pilot.press("f9")
        message = text(app, "#message")
        assert "already approved by zhao at" in message
        assert "error" in app.screen.query_one("#message").classes
