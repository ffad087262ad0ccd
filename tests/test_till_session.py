"""The till's decisions without a UI (`node.till.session.TillSession`) on real ledgers."""

from __future__ import annotations

import time

import pytest

from node.errors import NodeError
from node.permissions import User
from node.service import Node
from node.till.session import NeedsApproval, TillSession
from node.users import add_user
from protocol.events import Document
from protocol.i18n import Translatable
from replication.clock import wall_ms
from tests.test_tui import Simulator

CASHIER = User("li", "Li", "cashier")
MANAGER = User("wang", "Wang", "manager")


def make_node(path, node_id: str = "S01", location: str = "S01") -> Node:
    node = Node.init(path, node_id, location, "nats://127.0.0.1:1")
    return node


@pytest.fixture
def node(tmp_path):
    node = make_node(tmp_path / "store.db")
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.add_product("EGG", "Eggs", price="7.60", unit="kg")
    node.add_product("RICE", "Rice", price="25.00")
    node.receive("COLA", "20")
    node.receive("EGG", "5")
    node.receive("RICE", "8")
    add_user(node, "li", "Li", "cashier", "1111")
    add_user(node, "wang", "Wang", "manager", "2222")
    return node


def till(node: Node, user: User = CASHIER, printer=None) -> TillSession:
    session = TillSession(node, user, printer=printer)
    return session


def opened(node: Node, user: User = CASHIER, cash_float: str = "200.00") -> TillSession:
    session = till(node, user)
    session.open_shift(cash_float)
    return session


def test_scanning_again_adds_to_the_line_and_totals_round_half_up(node):
    session = till(node)
    assert session.scan("6901234567892") == 0
    assert session.scan("COLA 2") == 0
    assert session.scan("EGG 0.333") == 1  # 0.333 kg × 7.60 = 2.5308 → 2.53
    assert [(line.sku, line.qty) for line in session.basket.lines] == [
        ("COLA", 3000),
        ("EGG", 333),
    ]
    assert session.basket.total == 900 + 253


def test_weighed_items_take_the_scales_weight(node):
    session = till(node)
    session.scan("EGG", lambda: 642)
    assert session.basket.lines[0].qty == 642
    assert session.basket.total == 488  # 0.642 × 7.60 = 4.8792


def test_change_quantity_and_void_a_line(node):
    session = till(node)
    session.scan("COLA")
    session.scan("RICE")
    session.set_qty(0, "4")
    assert session.basket.lines[0].qty == 4000
    session.void_line(0)
    assert [line.sku for line in session.basket.lines] == ["RICE"]
    with pytest.raises(Translatable, match="is not a number"):
        session.set_qty(0, "two")
    with pytest.raises(NodeError, match="no line 5"):
        session.void_line(4)


def test_a_cashiers_discount_waits_for_a_manager_and_records_both(node):
    session = till(node)
    session.scan("RICE")
    with pytest.raises(NeedsApproval) as refused:
        session.discount(0, "5.00")
    assert refused.value.action == "discount"
    assert "needs a manager's approval" in str(refused.value)
    assert session.basket.lines[0].discount == 0  # nothing changed yet
    with pytest.raises(NodeError, match="wrong PIN"):
        session.approve("wang", "9999")
    assert session.pending is not None  # still waiting: the manager types again
    session.approve("wang", "2222")
    line = session.basket.lines[0]
    assert (line.discount, line.approved_by, line.total) == (500, "wang", 2000)
    # the approval covered that one action: the next one asks again
    with pytest.raises(NeedsApproval):
        session.override_price(0, "20.00")
    session.cancel_pending()
    with pytest.raises(NodeError, match="nothing waits"):
        session.approve("wang", "2222")


def test_a_cashier_cannot_approve_and_a_manager_needs_no_approval(node):
    add_user(node, "zhou", "Zhou", "cashier", "3333", approver="wang", approver_pin="2222")
    session = till(node)
    session.scan("RICE")
    with pytest.raises(NeedsApproval):
        session.override_price(0, "20.00")
    with pytest.raises(NodeError, match="may not approve"):
        session.approve("zhou", "3333")
    with pytest.raises(NodeError, match="someone else"):
        session.approve("li", "1111")
    boss = till(node, MANAGER)
    boss.scan("RICE")
    boss.override_price(0, "20.00")
    assert boss.basket.lines[0].unit_price == 2000
    assert boss.basket.lines[0].list_price == 2500


def test_the_refusal_is_translated(node, monkeypatch):
    session = till(node)
    session.scan("RICE")
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    with pytest.raises(NeedsApproval) as refused:
        session.discount(0, "1.00")
    assert "经理" in str(refused.value)
    assert refused.value.text("en").startswith("discount needs a manager's approval")


def test_a_large_quantity_needs_a_manager(node):
    session = till(node)
    with pytest.raises(NeedsApproval):
        session.scan("COLA 150")
    assert not session.basket.lines
    session.approve("wang", "2222")
    assert (session.basket.lines[0].qty, session.basket.lines[0].approved_by) == (150_000, "wang")


def test_suspended_baskets_survive_a_restart(node, tmp_path):
    session = till(node)
    session.scan("COLA 2")
    session.scan("EGG 0.500")
    number = session.suspend()
    assert not session.basket.lines
    session.scan("RICE")
    with pytest.raises(NodeError, match="finish or suspend"):
        session.resume(number)
    session.cancel_basket()
    node.close()
    again = Node.open(tmp_path / "store.db")
    later = till(again)
    (parked,) = later.suspended()
    assert (parked.id, parked.user, parked.lines, parked.total) == (number, "li", 2, 600 + 380)
    later.resume(number)
    assert [(line.sku, line.qty) for line in later.basket.lines] == [("COLA", 2000), ("EGG", 500)]
    assert later.suspended() == []
    later.cancel_basket()
    with pytest.raises(NodeError, match="no suspended basket"):
        later.resume(number)
    # nothing of it was an event
    documents = [e.body for e in again.store.log.events() if isinstance(e.body, Document)]
    assert not [d for d in documents if d.type == "sale"]


def test_an_empty_basket_cannot_be_suspended_or_paid(node):
    session = opened(node)
    with pytest.raises(NodeError, match="empty"):
        session.suspend()
    with pytest.raises(NodeError, match="empty"):
        session.pay(["cash"])


def test_paying_needs_an_open_shift(node):
    session = till(node)
    session.scan("COLA")
    with pytest.raises(NodeError, match="no shift is open"):
        session.pay(["cash"])
    assert session.basket.lines  # kept for when the shift is open


def test_pay_state_tells_remaining_and_change(node):
    session = till(node)
    session.scan("COLA 3")  # 9.00
    state = session.pay_state(["card:5.00"])
    assert (state.total, state.tendered, state.remaining, state.change) == (900, 500, 400, 0)
    assert not state.covered
    state = session.pay_state(["card:5.00", "cash:10.00"])
    assert (state.remaining, state.change, state.covered) == (0, 600, True)
    assert session.pay_state(["card:5.00", "cash"]).covered


def test_split_tender_posts_with_change_and_prints_with_a_drawer_kick(node, printer):
    session = opened(node)
    session.printer = printer.device
    session.scan("COLA 3")
    session.scan("EGG 0.333")
    done = session.pay(["card:5.00", "cash:10.00"])
    assert (done.kind, done.total, done.change) == ("sale", 1153, 347)
    assert {t.method: t.amount for t in done.tenders} == {"card": 500, "cash": 653}
    header = node.read.document_header(done.doc)
    assert header is not None and header.type == "sale"
    assert header.shift == session.shift().doc  # type: ignore[union-attr]
    assert not session.basket.lines
    assert done.printed and session.last_receipt == done.receipt
    assert any(done.doc in line for line in done.receipt)
    (job,) = printer.jobs(1)
    assert job.cut and job.drawer_kicks == 1
    assert any(done.doc in line for line in job.lines)
    assert session.reprint()
    again = printer.jobs(2)[1]
    assert again.drawer_kicks == 0 and any(done.doc in line for line in again.lines)


def test_a_printer_failure_never_undoes_the_sale(node, printer):
    session = opened(node)
    session.printer = printer.device
    printer.sim.control("paper out")
    printer.sim.proc.stdout.readline()  # "ok …"
    session.scan("COLA")
    done = session.pay(["cash"])
    assert not done.printed and done.print_error and "out of paper" in done.print_error
    assert node.read.document_header(done.doc) is not None
    with pytest.raises(NodeError, match="out of paper"):
        session.reprint()


def test_selling_beyond_stock_is_confirmed_and_recorded(node):
    session = opened(node)
    session.scan("RICE 10")  # 8 in stock
    (short,) = session.shortfalls()
    assert (short.sku, short.wanted, short.held) == ("RICE", 10_000, 8_000)
    with pytest.raises(NodeError, match="confirm"):
        session.pay(["cash"])
    assert session.basket.lines
    done = session.pay(["cash"], confirmed_beyond_stock=True)
    header = node.read.document_header(done.doc)
    assert header is not None and header.lines[0].beyond_stock == 2000


def test_partial_return_against_a_receipt_never_more_than_left(node):
    from node.sales import ReturnLine

    session = opened(node)
    session.scan("COLA 3")
    sale = session.pay(["wechat"])
    left = {r.sku: r.left for r in session.returnable(sale.doc)}
    assert left == {"COLA": 3000}
    done = session.refund(sale.doc, [ReturnLine("COLA", 2000)])
    assert (done.kind, done.total) == ("return", 600)
    assert [(t.method, t.amount) for t in done.tenders] == [("wechat", 600)]
    with pytest.raises(NodeError, match=r"at most 1\.000"):
        session.refund(sale.doc, [ReturnLine("COLA", 2000)])
    with pytest.raises(NodeError, match="at least one"):
        session.refund(sale.doc, [ReturnLine("COLA", 0)])


def test_a_return_without_receipt_needs_a_manager(node):
    from node.sales import ReturnLine

    session = opened(node)
    with pytest.raises(NeedsApproval):
        session.refund(None, [ReturnLine("COLA", 1000, unit_price=300)])
    done = session.approve("wang", "2222")
    header = node.read.document_header(done.doc)
    assert header is not None and (header.type, header.ref, header.approved_by) == (
        "return",
        None,
        "wang",
    )


def test_void_of_a_posted_sale_is_a_managers(node):
    session = opened(node)
    session.scan("COLA 2")
    sale = session.pay(["cash"])
    with pytest.raises(NeedsApproval):
        session.void_sale(sale.doc)
    done = session.approve("wang", "2222")
    assert (done.kind, done.total) == ("void", 600)
    assert session.returnable(sale.doc)[0].left == 0


def test_shift_open_x_and_z_with_counted_cash(node):
    session = till(node)
    with pytest.raises(NodeError, match="no shift is open"):
        session.x_report()
    session.open_shift("200.00")
    with pytest.raises(NodeError, match="is open since"):
        session.open_shift("100.00")
    session.scan("COLA 2")
    session.pay(["cash:10.00"])
    report, lines = session.x_report()
    assert (report.sales, report.sales_total, report.expected_cash) == (1, 600, 20_600)
    assert lines
    closed, shown, error = session.close_shift("205.00")
    assert error is None and shown
    assert (closed.report.number, closed.report.counted_cash, closed.report.variance) == (
        1,
        20_500,
        -100,
    )
    assert session.shift() is None


def test_a_return_across_two_tills(tmp_path):
    """Sold at T1, partly returned at T2, then T2 refuses more than what is left."""
    from node.sales import ReturnLine

    first = make_node(tmp_path / "t1.db", "S01-T1", "S01")
    first.add_product("COLA", "Cola", price="3.00")
    first.receive("COLA", "10")
    add_user(first, "li", "Li", "cashier", "1111")
    session = opened(first)
    session.scan("COLA 3")
    sale = session.pay(["cash"])
    second = make_node(tmp_path / "t2.db", "S01-T2", "S01")
    second.store.ingest([raw for _, raw in first.store.log.raw_events("S01-T1", 0)], wall_ms())
    other = opened(second)
    done = other.refund(sale.doc, [ReturnLine("COLA", 2000)])
    assert done.total == 600
    first.store.ingest([raw for _, raw in second.store.log.raw_events("S01-T2", 0)], wall_ms())
    assert [r.left for r in session.returnable(sale.doc)] == [1000]


@pytest.fixture
def printer(tmp_path):
    """The printer simulator on a real pty, and a ReceiptPrinter on it."""
    from devices.printer import ReceiptPrinter

    record = tmp_path / "paper.bin"
    sim = Simulator("sim-printer", "--record", str(record))
    device = ReceiptPrinter(sim.path, timeout=3.0).start()
    device.wait_ready(5.0)
    yield Paper(device, sim, record)
    device.close()
    sim.close()


class Paper:
    """What came out of the simulated printer."""

    def __init__(self, device, sim, record) -> None:
        self.device = device
        self.sim = sim
        self.record = record

    def jobs(self, count: int):
        from devices.sim.printer import read_jobs

        found = []
        for _ in range(250):
            found = read_jobs(self.record.read_bytes()) if self.record.exists() else []
            if len(found) >= count:
                break
            time.sleep(0.02)
        return found


def test_a_clerk_is_refused_at_the_first_scan(node):
    add_user(node, "zhao", "Zhao", "clerk", "4444", approver="wang", approver_pin="2222")
    session = till(node, User("zhao", "Zhao", "clerk"))
    with pytest.raises(NodeError, match=r"zhao \(clerk\) may not sell"):
        session.scan("COLA")
    assert not session.basket.lines


def test_a_change_of_cashier_keeps_the_basket_but_no_waiting_approval(node):
    add_user(node, "zhou", "Zhou", "cashier", "3333", approver="wang", approver_pin="2222")
    session = till(node)
    session.scan("RICE")
    with pytest.raises(NeedsApproval):
        session.discount(0, "1.00")
    session.user = User("zhou", "Zhou", "cashier")
    assert node.user == "zhou"
    assert session.pending is None
    assert [line.sku for line in session.basket.lines] == ["RICE"]


def test_every_screen_text_exists_in_both_languages_with_the_same_fields():
    import re
    import string
    from pathlib import Path

    from node.till.texts_sale import MESSAGES

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, texts in MESSAGES.items():
        assert set(texts) == {"zh-CN", "en"}, key
        assert fields(texts["zh-CN"]) == fields(texts["en"]), key
    till = Path(__file__).resolve().parent.parent / "node" / "till"
    used = set()
    for name in ("sale", "pay", "returns", "shift", "approval", "confirm"):
        source = (till / f"{name}.py").read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\(\s*\"([a-z_]+)\"", source))
        used |= set(re.findall(r"\(\"[a-z0-9+,_=]+\", \"[a-z_(')]+\", \"([a-z_]+)\"", source))
    assert used and not used - set(MESSAGES)


def test_a_manager_voids_and_refunds_without_receipt_on_their_own(node):
    from node.sales import ReturnLine

    boss = opened(node, MANAGER)
    boss.scan("COLA 2")
    sale = boss.pay(["card"])
    done = boss.void_sale(sale.doc)
    assert (done.kind, done.total, [t.method for t in done.tenders]) == ("void", 600, ["card"])
    again = boss.refund(None, [ReturnLine("RICE", 1000, unit_price=2500)])
    header = node.read.document_header(again.doc)
    assert header is not None and header.type == "return" and again.total == 2500


def test_raising_a_line_to_a_large_quantity_needs_a_manager(node):
    session = till(node)
    session.scan("COLA")
    with pytest.raises(NeedsApproval):
        session.set_qty(0, "120")
    assert session.basket.lines[0].qty == 1000
    session.approve("wang", "2222")
    assert (session.basket.lines[0].qty, session.basket.lines[0].approved_by) == (120_000, "wang")
