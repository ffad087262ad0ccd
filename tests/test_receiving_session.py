"""Receiving and transfers as the till counts them (node.till.receiving_session), on real
SQLite ledgers: scans, the comparison with the order or shipment, the re-count of the
lines that differ, a manager's confirmation, costs, blind receipts and shipments."""

from __future__ import annotations

import pytest

from node import logistics, users
from node.errors import NodeError
from node.permissions import User
from node.service import Node
from node.till.receiving_session import (
    Checkin,
    NeedsCheck,
    differences_text,
    inbound_transfers,
    open_orders,
    recent_transfers,
    stores,
)
from protocol.events import DocLine, Document, Upsert
from replication.clock import wall_ms
from tests.test_receiving import hub_log

CLERK = User("zhao", "Zhao", "clerk")
MANAGER = User("wang", "Wang", "manager")
CASHIER = User("li", "Li", "cashier")

ORDER = Document(
    doc="PO-S01-1",
    type="purchase_order",
    location="S01",
    counterparty="ACME",
    lines=[
        DocLine(sku="COLA", qty=20_000, unit_cost=230),
        DocLine(sku="RICE", qty=10_000, unit_cost=1800),
    ],
)
TRANSFER = Document(
    doc="W01-9",
    type="transfer",
    location="W01",
    counterparty="S01",
    lines=[DocLine(sku="COLA", qty=12_000)],
    shipped=[DocLine(sku="COLA", qty=12_000, unit_cost=400, lot="L7")],
)


def shop(path) -> Node:
    node = Node.init(path, "S01", "S01", "nats://127.0.0.1:1")
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.add_product("RICE", "Rice", price="25.00")
    node.add_product("EGG", "Eggs", price="7.60", unit="kg")
    users.add_user(node, "wang", "Wang", "manager", "2222")
    users.add_user(node, "zhao", "Zhao", "clerk", "3333")
    users.add_user(node, "li", "Li", "cashier", "1111")
    node.store.ingest(
        hub_log(
            "hub-S01",
            ORDER,
            TRANSFER,
            Upsert(entity="store", key="S02", fields={"name": "East"}),
            Upsert(entity="store", key="S01", fields={"name": "Here"}),
        ),
        wall_ms(),
    )
    return node


@pytest.fixture
def node(tmp_path):
    return shop(tmp_path / "store.db")


def level(node: Node, sku: str) -> int:
    return sum(r.qty for r in node.read.stock(location="S01", sku=sku))


def scan_all(checkin: Checkin, *codes: str) -> None:
    for code in codes:
        checkin.scan(code)


def table(checkin: Checkin) -> list[tuple[str, int | None, int, int, str]]:
    return [(r.sku, r.expected, r.scanned, r.difference, r.state) for r in checkin.rows()]


# ---- lists and roles ----------------------------------------------------------------------


def test_the_lists_show_this_stores_open_orders_inbound_transfers_and_other_stores(node):
    assert [s.doc for s in open_orders(node)] == ["PO-S01-1"]
    assert [s.doc for s in inbound_transfers(node)] == ["W01-9"]
    assert stores(node) == [("S02", "East")]


def test_a_cashier_is_refused_in_their_language(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    with pytest.raises(NodeError, match="may not do receive here") as refused:
        Checkin.purchase_order(node, CASHIER, "PO-S01-1")
    assert "clerk or a manager" in str(refused.value)
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    with pytest.raises(NodeError) as refused:
        Checkin.shipment(node, CASHIER, "S02")
    assert "请用仓管员或经理登录" in str(refused.value)
    assert "调拨" in str(refused.value)


def test_only_documents_for_this_store_can_be_opened(node):
    with pytest.raises(NodeError, match="no document"):
        Checkin.purchase_order(node, CLERK, "PO-NOPE")
    with pytest.raises(NodeError, match="not a document to receive"):
        Checkin.purchase_order(node, CLERK, "W01-9")
    with pytest.raises(NodeError, match="not a document to receive"):
        Checkin.inbound(node, CLERK, "PO-S01-1")
    with pytest.raises(NodeError, match="supplier"):
        Checkin.blind(node, CLERK, "  ")
    with pytest.raises(NodeError, match="another store"):
        Checkin.shipment(node, CLERK, "S01")


# ---- scanning -----------------------------------------------------------------------------


def test_each_scan_counts_one_a_typed_quantity_counts_that(node):
    checkin = Checkin.purchase_order(node, CLERK, "PO-S01-1")
    scan_all(checkin, "6901234567892", "COLA", "COLA 3")
    assert table(checkin) == [
        ("COLA", 20_000, 5_000, -15_000, "under"),
        ("RICE", 10_000, 0, -10_000, "under"),
    ]


def test_lot_and_expiry_come_from_a_gs1_code_or_are_typed(node):
    checkin = Checkin.blind(node, CLERK, "ACME")
    checkin.scan("(01)06901234567892(10)L9(17)270131")
    checkin.scan("COLA 2 L10 2027-03-01")
    assert {(a.lot, a.expiry, a.qty) for a in checkin.lines()} == {
        ("L9", "2027-01-31", 1000),
        ("L10", "2027-03-01", 2000),
    }
    assert checkin.rows()[0].lots == ("L10", "L9")


def test_weighed_goods_need_the_scale_or_a_typed_weight(node):
    checkin = Checkin.blind(node, CLERK, "ACME")
    assert checkin.needs_weight("EGG")
    assert not checkin.needs_weight("EGG 1.5")
    with pytest.raises(NodeError, match="scale"):
        checkin.scan("EGG")
    checkin.scan("EGG", weight=1_234)
    checkin.scan("EGG 0.5")
    assert checkin.rows()[0].scanned == 1_734


@pytest.mark.parametrize(
    "line, words",
    [
        ("", "scan a code"),
        ("COLA 1 L1 2027-01-01 extra", "scan a code"),
        ("NOPE", "unknown"),
        ("COLA abc", None),
        ("COLA 1.5", None),
        ("COLA 1 L1 31.01.2027", None),
    ],
)
def test_bad_lines_are_refused_and_count_nothing(node, line, words):
    checkin = Checkin.blind(node, CLERK, "ACME")
    with pytest.raises(NodeError, match=words):
        checkin.scan(line)
    assert checkin.lines() == []


def test_an_item_not_on_the_order_shows_as_extra(node):
    checkin = Checkin.purchase_order(node, CLERK, "PO-S01-1")
    scan_all(checkin, "COLA 20", "RICE 10", "EGG 1")
    assert table(checkin)[-1] == ("EGG", 0, 1_000, 1_000, "extra")
    assert checkin.differing() == ["EGG"]


# ---- the double check ---------------------------------------------------------------------


def test_an_order_received_exactly_posts_without_a_check(node):
    checkin = Checkin.purchase_order(node, CLERK, "PO-S01-1")
    scan_all(checkin, "COLA 20", "RICE 10")
    checkin.post()
    assert level(node, "COLA") == 20_000
    status = node.read.document("PO-S01-1")
    assert status is not None and status.status == "received"


def test_an_over_and_an_under_line_wait_for_an_agreeing_recount(node):
    checkin = Checkin.purchase_order(node, CLERK, "PO-S01-1")
    scan_all(checkin, "COLA 22", "RICE 7")
    with pytest.raises(NeedsCheck) as waiting:
        checkin.post()
    assert waiting.value.skus == ["COLA", "RICE"]
    assert level(node, "COLA") == 0  # nothing written
    assert checkin.begin_recount() == ["COLA", "RICE"]
    with pytest.raises(NodeError, match="not being counted again"):
        checkin.scan("EGG 1")
    with pytest.raises(NodeError, match="finish the re-count"):
        checkin.post()
    scan_all(checkin, "COLA 20", "COLA 2", "RICE 6")  # RICE recounted differently
    assert [r.recount for r in checkin.rows()] == [22_000, 6_000]
    assert checkin.finish_recount() == (["COLA"], ["RICE"])
    assert table(checkin)[1] == ("RICE", 10_000, 6_000, -4_000, "under")  # the new count
    assert checkin.unconfirmed() == ["RICE"]
    assert checkin.begin_recount() == ["RICE"]  # only the line still in doubt
    checkin.scan("RICE 6")
    assert checkin.finish_recount() == (["RICE"], [])
    events = checkin.post()
    receipt = events[0].body
    assert isinstance(receipt, Document) and receipt.type == "receipt"
    assert receipt.recounted and receipt.approved_by is None
    assert {(line.sku, line.qty, line.unit_cost) for line in receipt.lines} == {
        ("COLA", 22_000, 230),
        ("RICE", 6_000, 1800),
    }
    status = node.read.document("PO-S01-1")
    assert status is not None and status.status == "over_received"  # the difference stays
    assert {line.sku: line.discrepancy for line in status.lines} == {
        "COLA": 2_000,
        "RICE": -4_000,
    }


def test_a_scan_after_the_recount_asks_for_it_again(node):
    checkin = Checkin.purchase_order(node, CLERK, "PO-S01-1")
    scan_all(checkin, "COLA 21", "RICE 10")
    checkin.begin_recount()
    checkin.scan("COLA 21")
    checkin.finish_recount()
    assert checkin.unconfirmed() == []
    checkin.scan("COLA")
    assert checkin.unconfirmed() == ["COLA"]


def test_a_manager_confirms_the_differences_instead(node):
    checkin = Checkin.purchase_order(node, CLERK, "PO-S01-1")
    scan_all(checkin, "COLA 22", "RICE 7")
    with pytest.raises(NodeError, match="wrong PIN"):
        checkin.post("wang", "9999")
    with pytest.raises(NodeError):
        checkin.post("zhao", "3333")  # a clerk cannot confirm
    assert level(node, "COLA") == 0
    receipt = checkin.post("wang", "2222")[0].body
    assert isinstance(receipt, Document) and receipt.approved_by == "wang"
    assert not receipt.recounted
    assert level(node, "RICE") == 7_000


def test_a_recount_without_differences_is_refused(node):
    checkin = Checkin.purchase_order(node, CLERK, "PO-S01-1")
    scan_all(checkin, "COLA 20", "RICE 10")
    with pytest.raises(NodeError, match="nothing to count again"):
        checkin.begin_recount()
    with pytest.raises(NodeError, match="no re-count"):
        checkin.finish_recount()


def test_nothing_scanned_posts_nothing(node):
    checkin = Checkin.purchase_order(node, CLERK, "PO-S01-1")
    with pytest.raises(NodeError, match="nothing scanned"):
        checkin.post()


def test_a_removed_line_is_counted_again_from_zero(node):
    checkin = Checkin.purchase_order(node, CLERK, "PO-S01-1")
    scan_all(checkin, "COLA 5", "RICE 10")
    checkin.remove("COLA")
    assert table(checkin)[0] == ("COLA", 20_000, 0, -20_000, "under")


# ---- costs --------------------------------------------------------------------------------


def test_costs_come_from_the_order_and_a_manager_may_change_them(node):
    checkin = Checkin.purchase_order(node, CLERK, "PO-S01-1")
    scan_all(checkin, "COLA 20", "RICE 10")
    assert checkin.rows()[0].unit_cost == 230
    with pytest.raises(NodeError, match="manager"):
        checkin.set_cost("COLA", "2.50")
    with pytest.raises(NodeError, match="wrong PIN"):
        checkin.set_cost("COLA", "2.50", "wang", "0000")
    assert checkin.set_cost("COLA", "2.50", "wang", "2222") == 250
    receipt = checkin.post()[0].body
    assert isinstance(receipt, Document) and receipt.approved_by == "wang"
    assert {line.sku: line.unit_cost for line in receipt.lines} == {"COLA": 250, "RICE": 1800}
    cost = node.read.cost("S01", "COLA")[0]
    assert cost.value == 20 * 250


def test_a_manager_sets_a_cost_alone_and_bad_costs_are_refused(node):
    checkin = Checkin.purchase_order(node, MANAGER, "PO-S01-1")
    with pytest.raises(NodeError):
        checkin.set_cost("COLA", "abc")
    assert checkin.set_cost("COLA", "2.4") == 240
    inbound = Checkin.inbound(node, MANAGER, "W01-9")
    with pytest.raises(NodeError, match="shipping store's cost"):
        inbound.set_cost("COLA", "1.00")


# ---- blind receipts -----------------------------------------------------------------------


def test_a_blind_receipt_of_several_lines_is_one_document(node):
    checkin = Checkin.blind(node, CLERK, "Fresh Farm")
    scan_all(checkin, "COLA 6", "RICE 2 R1 2027-05-01")
    checkin.set_cost("RICE", "17.00", "wang", "2222")
    events = checkin.post()
    receipt = events[0].body
    assert isinstance(receipt, Document)
    assert (receipt.type, receipt.counterparty, receipt.approved_by) == (
        "receipt",
        "Fresh Farm",
        "wang",
    )
    assert len(events) == 3  # the header and a movement per line
    assert level(node, "COLA") == 6_000
    assert [(r.lot, r.expiry) for r in node.read.lot_levels("S01", "RICE")] == [
        ("R1", "2027-05-01")
    ]
    assert node.read.cost("S01", "RICE")[0].value == 2 * 1700


def test_receive_blind_refuses_empty_deliveries(node):
    with pytest.raises(NodeError, match="nothing to receive from ACME"):
        logistics.receive_blind(node, "ACME", [])
    with pytest.raises(NodeError, match="supplier"):
        logistics.receive_blind(node, "", [logistics.Arrived("COLA", 1000)])


# ---- transfers ----------------------------------------------------------------------------


def test_a_shipment_puts_stock_in_transit(node):
    node.receive("COLA", "10")
    checkin = Checkin.shipment(node, CLERK, "S02")
    scan_all(checkin, "COLA", "COLA 3")
    assert table(checkin) == [("COLA", None, 4_000, 4_000, "ok")]
    events = checkin.post()
    header = events[0].body
    assert isinstance(header, Document)
    assert (header.type, header.counterparty) == ("transfer", "S02")
    assert level(node, "COLA") == 6_000
    assert (
        sum(r.qty for r in node.read.stock(location="@transit", sku="COLA", include_virtual=True))
        == 4_000
    )


def test_a_transfer_with_a_shortfall_needs_the_check_and_keeps_the_difference(node):
    checkin = Checkin.inbound(node, CLERK, "W01-9")
    checkin.scan("COLA 10")
    assert table(checkin) == [("COLA", 12_000, 10_000, -2_000, "under")]
    with pytest.raises(NeedsCheck, match="COLA 10 counted, 12 expected"):
        checkin.post()
    checkin.begin_recount()
    checkin.scan("COLA 10")
    checkin.finish_recount()
    receipt = checkin.post()[0].body
    assert isinstance(receipt, Document) and receipt.recounted
    assert [(line.lot, line.unit_cost) for line in receipt.lines] == [("L7", 400)]
    assert level(node, "COLA") == 10_000
    status = node.read.document("W01-9")
    assert status is not None and status.status == "received_with_discrepancy"
    assert inbound_transfers(node) == []
    (kept,) = recent_transfers(node)  # still in sight, with its difference
    assert (kept.doc, differences_text(kept, node)) == ("W01-9", "COLA -2")
    with pytest.raises(NodeError, match="received already"):
        Checkin.inbound(node, CLERK, "W01-9")


def test_kucun_node_receive_blind_books_several_lines_as_one_receipt(node, tmp_path, capsys):
    from kucun.cli import main

    db = str(tmp_path / "store.db")
    node.close()
    code = main(
        [
            "node", "receive-blind", "--db", db, "--supplier", "ACME",
            "COLA=6@2.10", "RICE=2:R1:2027-05-01", "--approver", "wang", "--pin", "2222",
        ]
    )  # fmt: skip
    assert code in (0, None)
    out = capsys.readouterr().out
    assert "2" in out and "ACME" in out
    again = Node.open(db)
    (receipt,) = [
        e.body
        for e in again.store.log.events()
        if isinstance(e.body, Document) and e.body.counterparty == "ACME" and not e.body.ref
        and e.body.type == "receipt"
    ]  # fmt: skip
    assert receipt.approved_by == "wang"
    assert [(x.sku, x.qty, x.unit_cost, x.lot) for x in receipt.lines] == [
        ("COLA", 6000, 210, None),
        ("RICE", 2000, None, "R1"),
    ]
    assert level(again, "COLA") == 6000
