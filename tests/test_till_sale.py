"""The selling screens driven by Textual's pilot at 80×24 on real ledgers, with the
scanner, scale and printer simulators on real ptys."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.app import App
from textual.widgets import DataTable, Static

from devices.printer import ReceiptPrinter
from devices.sim.printer import read_jobs
from node.permissions import User
from node.service import Node
from node.till.approval import ApprovalModal
from node.till.confirm import ConfirmModal
from node.till.sale import ParkedModal, SaleScreen
from node.till.session import TillSession
from node.users import add_user
from protocol.events import Document
from replication.clock import wall_ms
from tests.test_tui import Simulator

CASHIER = User("li", "Li", "cashier")
SIZE = (80, 24)


class Till(App[None]):
    """The smallest frame the sale screen needs: it pushes it and holds the devices."""

    def __init__(self, session: TillSession, scale: Any = None) -> None:
        super().__init__()
        self.session = session
        self.scale = scale

    def on_mount(self) -> None:
        self.push_screen(SaleScreen(self.session))


def shop(path, node_id: str = "S01", location: str = "S01") -> Node:
    node = Node.init(path, node_id, location, "nats://127.0.0.1:1")
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.add_product("EGG", "Eggs", price="7.60", unit="kg")
    node.add_product("RICE", "Rice", price="25.00")
    node.receive("COLA", "20")
    node.receive("EGG", "5")
    node.receive("RICE", "8")
    add_user(node, "li", "Li", "cashier", "1111")
    add_user(node, "wang", "Wang", "manager", "2222")
    return node


@pytest.fixture
def node(tmp_path):
    return shop(tmp_path / "store.db")


def session_of(node: Node, printer: Any = None, shift: bool = True) -> TillSession:
    session = TillSession(node, CASHIER, printer=printer)
    if shift:
        session.open_shift("200.00")
    return session


async def until(pilot, condition, tries: int = 250) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


def text(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def basket_rows(app: App) -> list[list[str]]:
    table = app.screen.query_one("#basket", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def jobs(record, count: int):
    found = []
    for _ in range(250):
        found = read_jobs(record.read_bytes()) if record.exists() else []
        if len(found) >= count:
            break
        time.sleep(0.02)
    return found


async def test_a_mixed_basket_with_a_weighed_item_split_tender_and_a_printed_receipt(
    node, tmp_path
):
    from devices import ScaleSession, ScannerReader

    record = tmp_path / "paper.bin"
    scale_sim = Simulator("sim-scale", "--protocol", "mt-sics", "--weight", "0.642")
    scanner_sim = Simulator("sim-scanner", "--interval", "3600")
    printer_sim = Simulator("sim-printer", "--record", str(record))
    printer = ReceiptPrinter(printer_sim.path, timeout=3.0).start()
    scale = ScaleSession(scale_sim.path, "mt-sics").start()
    session = session_of(node, printer)
    app = Till(session, scale)
    scanner = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, SaleScreen)
            scanner = ScannerReader(
                scanner_sim.path,
                suffix="cr",
                repeat_window=0.0,  # a cashier scanning twice on purpose
                on_event=lambda e: app.call_from_thread(screen.scanned, getattr(e, "code", "")),
            ).start()
            assert scanner.wait_ready(5.0)
            scanner_sim.control("scan 6901234567892")
            await until(pilot, lambda: len(session.basket.lines) == 1)
            scanner_sim.control("scan 6901234567892")  # the same item again: its line grows
            await until(pilot, lambda: session.basket.lines[0].qty == 2000)
            await pilot.press(*"EGG", "enter")  # sold by weight: the scale is read
            await until(pilot, lambda: len(session.basket.lines) == 2)
            assert basket_rows(app) == [
                ["1", "Cola", "2", "3.00", "", "6.00"],
                ["2", "Eggs", "0.642kg", "7.60", "", "4.88"],
            ]
            assert "to pay 10.88" in text(app, "#totals")
            scale_sim.control("overload")  # a scale that cannot weigh: told, nothing added
            await pilot.press(*"EGG", "enter")
            await until(pilot, lambda: "scale" in text(app, "#message").lower())
            assert "error" in str(app.screen.query_one("#message", Static).classes)
            assert len(session.basket.lines) == 2
            await pilot.press("f12")
            await pilot.press(*"5", "f3")  # card 5.00
            assert "Remaining 5.88" in text(app, "#pay-state")
            await pilot.press(*"20", "f2")  # cash 20.00
            await until(pilot, lambda: "Change 14.12" in text(app, "#pay-state"))
            state = text(app, "#pay-state")
            doc = state.split("receipt ")[1].strip()
            assert doc in text(app, "#receipt")
            await pilot.press("enter")
            assert isinstance(app.screen, SaleScreen)
            assert f"Paid, receipt {doc}  change 14.12" in text(app, "#message")
            assert basket_rows(app) == []
    finally:
        if scanner is not None:
            scanner.close()
        scale.close()
        printer.close()
        for sim in (scale_sim, scanner_sim, printer_sim):
            sim.close()
    header = Node.open(tmp_path / "store.db").read.document_header(doc)
    assert header is not None and header.type == "sale"
    assert {t.method: t.amount for t in header.tenders} == {"card": 500, "cash": 588}
    assert [(line.sku, line.qty, line.amount) for line in header.lines] == [
        ("COLA", 2000, 600),
        ("EGG", 642, 488),
    ]
    (job,) = jobs(record, 1)
    assert job.cut and job.drawer_kicks == 1
    assert any(doc in line for line in job.lines)
    assert any("14.12" in line for line in job.lines)


async def test_a_cashiers_discount_is_refused_until_a_manager_approves(node, tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    session = session_of(node)
    app = Till(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"RICE", "enter")
        await pilot.press("f7", *"5", "enter")
        assert isinstance(app.screen, ApprovalModal)
        assert "需要经理批准" in text(app, "#reason")
        await pilot.press(*"wang", "enter", *"9999", "enter")
        assert isinstance(app.screen, ApprovalModal)  # a wrong PIN: asked again
        assert "wang" in text(app, "#approval-message")
        await pilot.press(*"2222", "enter")
        assert isinstance(app.screen, SaleScreen)
        assert basket_rows(app)[0][4:] == ["5.00", "20.00"]
        # covered that one action: a price override asks again, and Esc leaves it undone
        await pilot.press("f9", *"1", "enter")
        assert isinstance(app.screen, ApprovalModal)
        await pilot.press("escape")
        assert "未授权" in text(app, "#message")
        assert basket_rows(app)[0][3] == "25.00"
        await pilot.press("f12", "f4")  # WeChat pays it all
        await pilot.press("enter")
    sale = [
        e
        for e in Node.open(tmp_path / "store.db").store.log.events()
        if isinstance(e.body, Document) and e.body.type == "sale"
    ]
    (event,) = sale
    assert isinstance(event.body, Document)
    assert event.user == "li"
    assert (event.body.lines[0].discount, event.body.lines[0].approved_by) == (500, "wang")


async def test_a_cashier_is_refused_in_english_too(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    app = Till(session_of(node))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"RICE", "enter", "f9", *"20", "enter")
        assert "price override needs a manager's approval" in text(app, "#reason")
        await pilot.press("escape")
        assert "Not approved" in text(app, "#message")
        await pilot.press(*"NOPE", "enter")
        assert "unknown code 'NOPE'" in text(app, "#message")


async def test_suspend_and_resume_a_basket(node):
    session = session_of(node)
    app = Till(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"COLA 2", "enter", *"EGG 0.250", "enter")
        await pilot.press("f5")
        assert basket_rows(app) == []
        assert "parked as 1" in text(app, "#message")
        await pilot.press(*"RICE", "enter", "f12", "f2", "enter")  # the next customer pays
        await pilot.press("f5")
        assert isinstance(app.screen, ParkedModal)
        await pilot.press("enter")
        assert isinstance(app.screen, SaleScreen)
        assert [row[1:3] for row in basket_rows(app)] == [["Cola", "2"], ["Eggs", "0.250kg"]]
        assert "resumed" in text(app, "#message")
        await pilot.press("escape")  # cancel: asks first
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        assert len(basket_rows(app)) == 2
        await pilot.press("escape", "y")
        assert basket_rows(app) == []
    assert session.suspended() == []


async def test_void_line_and_change_quantity(node):
    session = session_of(node)
    app = Till(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"COLA", "enter", *"RICE", "enter")
        await pilot.press("up", "f6", *"3", "enter")
        assert basket_rows(app)[0][2] == "3"
        await pilot.press("down", "f8")
        assert [row[1] for row in basket_rows(app)] == ["Cola"]
        await pilot.press("f6", *"x", "enter")
        assert "is not a number" in text(app, "#message")


async def test_selling_beyond_stock_warns_asks_and_records(node, tmp_path):
    app = Till(session_of(node))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"RICE 10", "enter", "f12")
        assert isinstance(app.screen, ConfirmModal)
        assert "selling 10.000, the ledger holds 8.000" in text(app, "#detail")
        await pilot.press("y", "f2")  # confirmed, then cash pays the rest
        await pilot.press("enter")
        assert "Paid" in text(app, "#message")
    node = Node.open(tmp_path / "store.db")
    (sale,) = [
        e.body
        for e in node.store.log.events()
        if isinstance(e.body, Document) and e.body.type == "sale"
    ]
    assert sale.lines[0].beyond_stock == 2000


async def test_a_partial_return_across_two_tills(tmp_path):
    first = shop(tmp_path / "t1.db", "S01-T1", "S01")
    seller = session_of(first)
    seller.scan("COLA 3")
    sale = seller.pay(["alipay"])
    second = Node.init(tmp_path / "t2.db", "S01-T2", "S01", "nats://127.0.0.1:1")
    second.store.ingest([raw for _, raw in first.store.log.raw_events("S01-T1", 0)], wall_ms())
    app = Till(session_of(second))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", *sale.doc, "enter")
        assert "3.000" in str(app.screen.query_one("#lines", DataTable).get_row_at(0)[1])
        await pilot.press("plus", "plus", "plus", "plus", "minus")  # never more than left
        assert str(app.screen.query_one("#lines", DataTable).get_row_at(0)[2]) == "2.000"
        await pilot.press("f12")
        await until(pilot, lambda: "Refunded 6.00" in text(app, "#message"))
        assert "6.00" in text(app, "#receipt")
        await pilot.press("enter")
        assert isinstance(app.screen, SaleScreen)
    first.store.ingest([raw for _, raw in second.store.log.raw_events("S01-T2", 0)], wall_ms())
    (left,) = seller.returnable(sale.doc)
    assert (left.returned, left.left) == (2000, 1000)
    (refund,) = [
        e.body
        for e in second.store.log.events()
        if isinstance(e.body, Document) and e.body.type == "return"
    ]
    assert refund.ref == sale.doc
    assert [(t.method, t.amount) for t in refund.tenders] == [("alipay", 600)]


async def test_a_return_without_receipt_needs_a_manager(node):
    app = Till(session_of(node))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", "enter", *"COLA 1 3.00", "enter", "f3", "f12")
        assert isinstance(app.screen, ApprovalModal)
        await pilot.press(*"wang", "enter", *"2222", "enter")
        await until(pilot, lambda: "Refunded 3.00" in text(app, "#message"))
    (refund,) = [
        e.body
        for e in node.store.log.events()
        if isinstance(e.body, Document) and e.body.type == "return"
    ]
    assert (refund.ref, refund.approved_by, refund.lines[0].scrap) == (None, "wang", True)


async def test_a_shift_from_float_to_z_report_checked_against_the_ledger(node, tmp_path):
    record = tmp_path / "paper.bin"
    printer_sim = Simulator("sim-printer", "--record", str(record))
    printer = ReceiptPrinter(printer_sim.path, timeout=3.0).start()
    session = session_of(node, printer, shift=False)
    app = Till(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"COLA", "enter", "f12")
            assert "no shift is open" in text(app, "#message")
            await pilot.press("f10", *"200", "enter")
            assert "opened" in text(app, "#message")
            await pilot.press("escape", "f12", *"10", "f2", "enter")  # cash 10 for 3.00
            await pilot.press(*"RICE", "enter", "f12", "f3", "enter")  # card 25.00
            await pilot.press("f10", "f2")
            assert "X REPORT" in text(app, "#report")
            await pilot.press("f11")  # the X report on paper too
            await until(pilot, lambda: "Printed" in text(app, "#message"))
            await pilot.press(*"202.50", "enter")  # a Z report is asked for first
            assert "cannot be undone" in str(app.screen.query_one(".dialog-title").render())
            assert "variance -0.50" in str(app.screen.query_one("#detail").render())
            await pilot.press("n")  # not yet: nothing posted, the shift stays open
            assert "Not closed" in text(app, "#message") and session.shift() is not None
            await pilot.press(*"202.50", "enter", "y")
            await until(pilot, lambda: "Z report 0001 saved" in text(app, "#message"))
            shown = text(app, "#report")
    finally:
        printer.close()
        printer_sim.close()
    (z,) = [
        e.body
        for e in node.store.log.events()
        if isinstance(e.body, Document) and e.body.type == "z_report"
    ]
    report = z.report
    assert report is not None
    sales = [
        e.body
        for e in node.store.log.events()
        if isinstance(e.body, Document) and e.body.type == "sale"
    ]
    assert report.sales == len(sales) == 2
    assert report.sales_total == sum(t.amount for s in sales for t in s.tenders) == 2800
    assert {t.method: t.amount for t in report.tenders} == {"cash": 300, "card": 2500}
    assert (report.cash_float, report.expected_cash, report.counted_cash, report.variance) == (
        20_000,
        20_300,
        20_250,
        -50,
    )
    assert "202.50" in shown and "-0.50" in shown
    *_, x_job, z_job = jobs(record, 4)
    assert any("X REPORT" in line for line in x_job.lines)
    assert any("202.50" in line for line in z_job.lines)
    assert session.shift() is None


async def test_thirty_codes_in_a_burst_lose_none(node):
    from devices import ScannerReader

    scanner_sim = Simulator("sim-scanner", "--interval", "3600")
    session = session_of(node)
    app = Till(session)
    scanner = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, SaleScreen)
            scanner = ScannerReader(
                scanner_sim.path,
                suffix="cr",
                repeat_window=0.0,
                on_event=lambda e: app.call_from_thread(screen.scanned, getattr(e, "code", "")),
            ).start()
            assert scanner.wait_ready(5.0)
            for i in range(30):
                scanner_sim.control("scan 6901234567892" if i % 2 else "scan RICE")
            await until(pilot, lambda: session.basket.total == 15 * 300 + 15 * 2500)
            assert [(line.sku, line.qty) for line in session.basket.lines] == [
                ("RICE", 15_000),
                ("COLA", 15_000),
            ]
    finally:
        if scanner is not None:
            scanner.close()
        scanner_sim.close()


async def test_lookup_reprint_and_a_tender_that_cannot_give_change(node, tmp_path):
    record = tmp_path / "paper.bin"
    printer_sim = Simulator("sim-printer", "--record", str(record))
    printer = ReceiptPrinter(printer_sim.path, timeout=3.0).start()
    app = Till(session_of(node, printer))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f2", *"cola")  # by name, any case
            await pilot.press("enter")  # chosen: put in as its SKU
            assert "Added: Cola × 1" in text(app, "#message")
            await pilot.press("f12", *"100", "f3")  # a card cannot give change
            assert "only cash gives change" in text(app, "#message")
            assert "Remaining 3.00" in text(app, "#pay-state")
            await pilot.press("f3", "enter")  # card pays the rest
            await pilot.press("f11")
            await until(pilot, lambda: "reprinted" in text(app, "#message"))
    finally:
        printer.close()
        printer_sim.close()
    first, again = jobs(record, 2)
    mark = [line for line in again.lines if line not in first.lines]
    assert [line.strip() for line in mark] == ["** REPRINT **"]  # a copy, never an original
    assert [line for line in again.lines if line not in mark] == first.lines
    assert (first.drawer_kicks, again.drawer_kicks) == (0, 0)  # card: the drawer stays shut


async def test_a_manager_voids_a_posted_sale(node):
    seller = session_of(node)
    seller.scan("COLA 2")
    sale = seller.pay(["cash"])
    app = Till(seller)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", *sale.doc, "enter", "f8")
        assert isinstance(app.screen, ApprovalModal)
        await pilot.press(*"wang", "enter", *"2222", "enter")
        await until(pilot, lambda: f"Voided {sale.doc}" in text(app, "#message"))
    assert seller.returnable(sale.doc)[0].left == 0
    (void,) = [
        e for e in node.store.log.events() if isinstance(e.body, Document) and e.body.type == "void"
    ]
    assert isinstance(void.body, Document)
    assert (void.user, void.body.approved_by, void.body.ref) == ("li", "wang", sale.doc)


async def test_in_the_till_frame_from_login_to_a_paid_sale(node, tmp_path):
    """The frame (`TillApp`) logs the cashier in and pushes the sale screen; scans reach it."""
    from node.till.app import TillApp

    app = TillApp(node, sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"li", "enter", *"1111", "enter")
        await until(pilot, lambda: isinstance(app.screen, SaleScreen))
        await pilot.press("f10", *"100", "enter", "escape")
        app.scanned("6901234567892")
        app.scanned("6901234567892")
        await pilot.press("f12", "f5")  # Alipay pays it all
        await until(pilot, lambda: "Paid" in text(app, "#pay-state"))
        await pilot.press("enter")
        doc = text(app, "#message").split("receipt ")[1].split()[0]
        await pilot.press("f4")
        app.scanned(doc)  # the receipt's number, scanned
        await pilot.press("plus", "f12")
        await until(pilot, lambda: "Refunded 3.00" in text(app, "#message"))
    events = list(Node.open(tmp_path / "store.db").store.log.events())
    documents = [(e.user, e.body.type) for e in events if isinstance(e.body, Document)]
    assert documents[-3:] == [("li", "shift_open"), ("li", "sale"), ("li", "return")]


async def test_a_tender_head_office_enabled_has_its_own_key(node, tmp_path):
    from ledger.replica import Replica
    from ledger.sqlite import connect
    from protocol.events import Upsert

    hub = Replica(connect(tmp_path / "hub.db"), "hub")
    hub.append([Upsert(entity="tender", key="unionpay", fields={"enabled": True})], "a", wall_ms())
    node.store.ingest([raw for _, raw in hub.log.raw_events("hub", 0)], wall_ms())
    app = Till(session_of(node))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"COLA", "enter", "f12", "f6")  # the first method beyond the four
        await until(pilot, lambda: "Paid" in text(app, "#pay-state"))
        assert "unionpay 3.00" in text(app, "#pay-tenders")
    (sale,) = [
        e.body
        for e in node.store.log.events()
        if isinstance(e.body, Document) and e.body.type == "sale"
    ]
    assert [(t.method, t.amount) for t in sale.tenders] == [("unionpay", 300)]


async def test_a_printer_out_of_paper_never_holds_the_sale(node, tmp_path):
    """In the frame, printing runs on a worker: the sale is done on screen at once and the
    printer's failure arrives afterwards as a notice; the sale stays in the ledger."""
    from node.till.app import TillApp

    record = tmp_path / "paper.bin"
    printer_sim = Simulator("sim-printer", "--record", str(record), "--paper-out")
    app = TillApp(node, sync=False, printer=printer_sim.path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"li", "enter", *"1111", "enter")
            await until(pilot, lambda: isinstance(app.screen, SaleScreen))
            await pilot.press("f10", *"100", "enter", "escape")
            app.scanned("6901234567892")
            await pilot.press("f12", "f3")  # card
            await until(pilot, lambda: "Paid" in text(app, "#pay-state"))
            await until(
                pilot,
                lambda: any("Printing failed" in str(n.message) for n in app._notifications),
            )
    finally:
        printer_sim.close()
    sales = [
        e.body
        for e in Node.open(tmp_path / "store.db").store.log.events()
        if isinstance(e.body, Document) and e.body.type == "sale"
    ]
    assert len(sales) == 1
