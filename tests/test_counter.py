"""Counter logic on a real ledger: every kind of code a cashier meets."""

from __future__ import annotations

import pytest

from node.counter import identify, sell_line
from node.errors import NodeError
from node.service import Node


@pytest.fixture
def node(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    n = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    n.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    n.add_product("APPLE", "Apple", barcode="00123", price="9.80", unit="kg")
    n.add_product("CAKE", "Cake", barcode="plu:12345", price="25.00", unit="kg")
    n.receive("COLA", "10", lot="L9", expiry="2027-12-31")
    n.receive("COLA", "10", lot="L1", expiry="2027-01-31")
    return n


def test_gtin_in_any_length_finds_the_product(node):
    for code in ("6901234567892", "06901234567892"):
        assert identify(node, code).product.sku == "COLA"


def test_plain_scan_sells_one_from_the_earliest_expiring_lot(node):
    outcome = sell_line(node, "6901234567892")
    assert (outcome.qty, outcome.total) == ("1.000", "3.00")
    assert {(r.lot, r.qty) for r in node.stock(sku="COLA")} == {("L1", 9000), ("L9", 10_000)}


def test_gs1_code_sells_from_the_lot_it_names(node):
    outcome = sell_line(node, "01069012345678921727123110L9")
    assert outcome.qty == "1.000"
    assert {(r.lot, r.qty) for r in node.stock(sku="COLA")} == {("L1", 10_000), ("L9", 9000)}


def test_weight_label_from_the_label_scale(node):
    outcome = sell_line(node, "2100123003501")  # PLU 00123, 0.350 kg
    assert (outcome.sku, outcome.qty, outcome.total) == ("APPLE", "0.350", "3.43")


def test_price_label_charges_exactly_the_printed_price(node):
    outcome = sell_line(node, "2812345012505")  # PLU 12345, 12.50 yuan at 25.00/kg
    assert (outcome.sku, outcome.qty, outcome.total) == ("CAKE", "0.500", "12.50")


def test_product_by_weight_is_weighed_on_the_scale(node):
    outcome = sell_line(node, "APPLE", weigh=lambda: 1234)
    assert (outcome.qty, outcome.total) == ("1.234", "12.09")
    with pytest.raises(NodeError, match="no scale is connected"):
        sell_line(node, "APPLE")
    assert sell_line(node, "APPLE 0.500").total == "4.90"


def test_scale_problem_is_shown_and_nothing_sold(node):
    def unstable() -> int:
        raise NodeError("the scale is still moving: let it settle and scan again")

    before = node.store.log.head_seq("S01")
    with pytest.raises(NodeError, match="settle"):
        sell_line(node, "APPLE", weigh=unstable)
    assert node.store.log.head_seq("S01") == before


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("6901234567891", "Check digit wrong"),
        ("ZZZ", "unknown code 'ZZZ'"),
        ("4006381333931", "no product here has this barcode"),
    ],
)
def test_bad_codes_explain_themselves(node, code, message):
    with pytest.raises(NodeError, match=message):
        sell_line(node, code)


def test_reasons_in_chinese(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    with pytest.raises(NodeError, match="校验位错误"):
        sell_line(node, "6901234567891")
