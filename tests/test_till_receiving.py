"""The receiving and transfers screens driven by Textual's pilot at 80×24 on real ledgers,
with the scanner and scale simulators on real ptys."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable, Static

from devices import ScaleSession, ScannerReader
from node.permissions import User
from node.service import Node
from node.till.approval import ManagerModal
from node.till.confirm import PromptModal
from node.till.receiving import ReceivingScreen
from node.till.transfers import TransfersScreen
from protocol.events import Document
from tests.test_receiving_session import shop
from tests.test_tui import Simulator

CLERK = User("zhao", "Zhao", "clerk")
CASHIER = User("li", "Li", "cashier")
SIZE = (80, 24)


class Backroom(App[None]):
    """The smallest frame the screens need: it pushes one and holds the scale."""

    def __init__(self, screen: Screen[Any], scale: Any = None) -> None:
        super().__init__()
        self.first = screen
        self.scale = scale

    def on_mount(self) -> None:
        self.push_screen(self.first)


@pytest.fixture
def node(tmp_path):
    return shop(tmp_path / "store.db")


@pytest.fixture
def english(monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")


async def until(pilot, condition, tries: int = 250) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


def text(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def cells(app: App) -> list[list[Any]]:
    table = app.screen.query_one("#table", DataTable)
    return [list(table.get_row_at(i)) for i in range(table.row_count)]


def rows(app: App) -> list[list[str]]:
    return [[str(cell) for cell in row] for row in cells(app)]


def keys(app: App) -> set[str]:
    """The keys the footer shows."""
    return {
        key
        for key, active in app.screen.active_bindings.items()
        if active.binding.show and active.enabled and active.binding.description
    }


def fits(app: App) -> None:
    """Nothing on the screen is wider than the terminal."""
    table = app.screen.query_one("#table", DataTable)
    assert table.virtual_size.width <= SIZE[0]
    for widget in app.screen.query("*"):
        assert widget.region.right <= SIZE[0]


async def test_a_po_receipt_with_an_over_and_an_under_line_and_the_double_check(
    node, tmp_path, english
):
    scanner_sim = Simulator("sim-scanner", "--interval", "3600")
    screen = ReceivingScreen(node, CLERK)
    app = Backroom(screen)
    scanner = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            assert rows(app) == [["PO-S01-1", "ACME", "2", "ordered", ""]]
            assert keys(app) == {"f3", "escape"}
            scanner = ScannerReader(
                scanner_sim.path,
                suffix="cr",
                repeat_window=0.0,  # a clerk scanning each carton on purpose
                on_event=lambda e: app.call_from_thread(screen.scanned, getattr(e, "code", "")),
            ).start()
            assert scanner.wait_ready(5.0)
            await pilot.press("enter")  # the highlighted order
            assert "Receiving PO-S01-1  from ACME" in text(app, "#title")
            assert keys(app) == {"f5", "f7", "f8", "f9", "f12", "escape"}
            await pilot.press(*"COLA 20", "enter")
            for _ in range(2):  # two more cartons than ordered, one scan each
                scanner_sim.control("scan 6901234567892")
            await until(pilot, lambda: rows(app)[0][3] == "22")
            await pilot.press(*"RICE 7", "enter")
            assert rows(app) == [
                ["COLA", "Cola", "20", "22", "+2 ?", "", "2.30"],
                ["RICE", "Rice", "10", "7", "-3 ?", "", "18.00"],
            ]
            over, under = cells(app)[0][4], cells(app)[1][4]
            assert isinstance(over, Text) and isinstance(under, Text)
            assert "yellow" in str(over.style) and "red" in str(under.style)
            assert "over 1  under 1  to check 2" in text(app, "#summary")
            fits(app)
            await pilot.press("f12")  # not yet: the differing lines wait for a check
            assert "count these lines again (F5)" in text(app, "#message")
            assert "COLA 22 counted, 20 expected" in text(app, "#message")
            await pilot.press("f5")  # the re-count pass: only the differing lines
            assert "Re-count" in text(app, "#title")
            await pilot.press(*"EGG 1", "enter")
            assert "not being counted again" in text(app, "#message")
            await pilot.press(*"COLA 20", "enter")
            for _ in range(2):
                scanner_sim.control("scan 6901234567892")
            await until(pilot, lambda: rows(app)[0][5] == "22")
            await pilot.press(*"RICE 7", "enter")
            await pilot.press("f5")
            assert "The re-count agrees: COLA, RICE" in text(app, "#message")
            assert [r[4] for r in rows(app)] == ["+2 ✓", "-3 ✓"]
            await pilot.press("f12")
            assert "posted" in text(app, "#message")
            assert rows(app) == []  # the order is no longer open
    finally:
        if scanner is not None:
            scanner.close()
        scanner_sim.close()
    again = Node.open(tmp_path / "store.db")
    status = again.read.document("PO-S01-1")
    assert status is not None and status.status == "over_received"
    assert {line.sku: line.discrepancy for line in status.lines} == {"COLA": 2000, "RICE": -3000}
    (receipt,) = [
        e for e in again.store.log.events() if isinstance(e.body, Document) and e.body.ref
    ]
    assert isinstance(receipt.body, Document) and receipt.body.recounted
    assert receipt.user == "zhao"


async def test_a_transfer_with_a_shortfall_confirmed_by_a_manager(node, tmp_path, english):
    scanner_sim = Simulator("sim-scanner", "--interval", "3600")
    screen = TransfersScreen(node, CLERK)
    app = Backroom(screen)
    scanner = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            assert rows(app) == [["W01-9", "W01", "1", "in transit", ""]]
            scanner = ScannerReader(
                scanner_sim.path,
                suffix="cr",
                repeat_window=0.0,
                on_event=lambda e: app.call_from_thread(screen.scanned, getattr(e, "code", "")),
            ).start()
            assert scanner.wait_ready(5.0)
            await pilot.press(*"W01-9", "enter")
            assert "Receiving W01-9  from W01" in text(app, "#title")
            assert keys(app) == {"f5", "f8", "f9", "f12", "escape"}  # no cost: the shipper's
            await pilot.press(*"COLA 9", "enter")
            scanner_sim.control("scan 6901234567892")
            await until(pilot, lambda: rows(app)[0][3] == "10")
            assert rows(app) == [["COLA", "Cola", "12", "10", "-2 ?", ""]]
            fits(app)
            await pilot.press("f12")
            assert "COLA 10 counted, 12 expected" in text(app, "#message")
            await pilot.press("f9")
            assert isinstance(app.screen, ManagerModal)
            await pilot.press(*"wang", "enter", *"9999", "enter")
            assert isinstance(app.screen, ManagerModal)
            assert "wrong PIN" in text(app, "#approval-message")
            await pilot.press(*"2222", "enter")  # the id is kept, the PIN asked again
            assert isinstance(app.screen, TransfersScreen)
            assert "Receipt" in text(app, "#message") and "posted" in text(app, "#message")
            # the difference stays in sight until a manager accepts it
            assert rows(app) == [["W01-9", "W01", "1", "received with discrepancy", "COLA -2"]]
            await pilot.press("enter")
            assert "received already" in text(app, "#message")
    finally:
        if scanner is not None:
            scanner.close()
        scanner_sim.close()
    again = Node.open(tmp_path / "store.db")
    status = again.read.document("W01-9")
    assert status is not None and status.status == "received_with_discrepancy"
    assert [line.discrepancy for line in status.lines] == [-2000]
    (receipt,) = [
        e.body for e in again.store.log.events() if isinstance(e.body, Document) and e.body.ref
    ]
    assert receipt.approved_by == "wang" and [line.lot for line in receipt.lines] == ["L7"]


async def test_shipping_a_transfer_puts_the_stock_in_transit(node, english):
    node.receive("COLA", "10")
    app = Backroom(TransfersScreen(node, CLERK))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        assert isinstance(app.screen, PromptModal)
        assert "S02 East" in str(app.screen.query_one(".dialog-title", Static).render())
        await pilot.press(*"S02", "enter")
        assert "Shipping a transfer to S02" in text(app, "#title")
        assert keys(app) == {"f8", "f12", "escape"}
        await pilot.press(*"COLA", "enter", *"COLA 3", "enter")
        assert rows(app) == [["COLA", "Cola", "4"]]
        assert "1 lines  4 in all" in text(app, "#summary")
        await pilot.press("f12")
        assert "in transit" in text(app, "#message")
    assert sum(r.qty for r in node.read.stock(location="S01", sku="COLA")) == 6000
    transit = node.read.stock(location="@transit", sku="COLA", include_virtual=True)
    assert sum(r.qty for r in transit) == 4000


async def test_a_blind_receipt_with_a_weighed_line_and_a_cost_a_manager_sets(
    node, tmp_path, english
):
    scale_sim = Simulator("sim-scale", "--protocol", "mt-sics", "--weight", "1.250")
    scale = ScaleSession(scale_sim.path, "mt-sics").start()
    app = Backroom(ReceivingScreen(node, CLERK), scale)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f3")
            await pilot.press(*"Fresh Farm", "enter")
            assert "No-order receipt  from Fresh Farm" in text(app, "#title")
            assert keys(app) == {"f7", "f8", "f12", "escape"}
            await pilot.press(*"EGG", "enter")  # sold by weight: the scale is read
            await until(pilot, lambda: len(rows(app)) == 1)
            assert rows(app) == [["EGG", "Eggs", "1.250kg", ""]]
            await pilot.press("f7", *"6.40", "enter")
            assert isinstance(app.screen, ManagerModal)
            await pilot.press(*"wang", "enter", *"2222", "enter")
            assert "EGG: cost set to 6.40" in text(app, "#message")
            assert rows(app)[0][3] == "6.40"
            fits(app)
            await pilot.press("f12")
            assert "posted" in text(app, "#message")
    finally:
        scale.close()
        scale_sim.close()
    again = Node.open(tmp_path / "store.db")
    (receipt,) = [
        e.body
        for e in again.store.log.events()
        if isinstance(e.body, Document) and e.body.counterparty == "Fresh Farm"
    ]
    assert [(line.sku, line.qty, line.unit_cost) for line in receipt.lines] == [("EGG", 1250, 640)]
    assert receipt.approved_by == "wang"


async def test_a_cashier_is_refused_in_chinese_and_nothing_opens(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    app = Backroom(ReceivingScreen(node, CASHIER))
    async with app.run_test(size=SIZE) as pilot:
        assert "请用仓管员或经理登录" in text(app, "#message")
        assert "收货" in text(app, "#message")
        await pilot.press("enter")
        await pilot.press(*"PO-S01-1", "enter")
        assert rows(app) == []
        await pilot.press("f3")
        assert isinstance(app.screen, ReceivingScreen)
    app = Backroom(TransfersScreen(node, CASHIER))
    async with app.run_test(size=SIZE):
        assert "调拨" in text(app, "#message")


async def test_the_chinese_screens_fit_80_columns(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    app = Backroom(ReceivingScreen(node, CLERK))
    async with app.run_test(size=SIZE) as pilot:
        assert "待收采购订单" in text(app, "#title")
        await pilot.press("enter", *"COLA 21", "enter")
        assert "收货 PO-S01-1" in text(app, "#title")
        assert rows(app)[0][4] == "+1 ?"
        assert "少收 1" in text(app, "#summary")
        fits(app)
        await pilot.press("f5", *"COLA 22", "enter", "f5")  # a re-count that disagrees
        assert "复点不一致：COLA" in text(app, "#message")
        assert rows(app)[0][3:5] == ["22", "+2 ?"]  # it stands, to be counted once more
        await pilot.press("f5", *"COLA 22", "enter", "f5")
        assert "复点一致" in text(app, "#message")
        assert rows(app)[0][4] == "+2 ✓"
        await pilot.press("escape")  # counted lines: asked before dropping them
        await pilot.press("y")
        assert "待收采购订单" in text(app, "#title")
