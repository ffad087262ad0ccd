"""Counter logic on a real ledger: every kind of code a cashier meets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.replica import Replica
from ledger.sqlite import connect
from node.counter import identify, sell_line
from node.errors import NodeError
from node.service import Node
from protocol.allocation import LotLevel, from_scanned_lot
from protocol.events import Document, Tender, Upsert, document_header
from replication.clock import wall_ms


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


# ---- lots at the counter -------------------------------------------------------------------

COLA_GS1 = "0106901234567892"  # AI 01 + the GTIN-14 of COLA's barcode


def sale_events(node):
    """The events of the newest document, read back from the log."""
    events = list(node.store.log.events("S01"))
    start = max(i for i, e in enumerate(events) if isinstance(e.body, Document))
    return events[start:]


def levels(node, sku="COLA"):
    return {(r.lot, r.qty) for r in node.stock(sku=sku)}


def test_gs1_lot_held_sells_from_it_and_keeps_the_expiry(node):
    sell_line(node, f"{COLA_GS1}1727123110L9 2")
    assert levels(node) == {("L1", 10_000), ("L9", 8000)}
    header, *moves = sale_events(node)
    assert [(m.body.lot, m.body.expiry, m.body.qty) for m in moves] == [("L9", "2027-12-31", 2000)]
    assert header.body.scanned_lot is None
    assert [a for a in node.read.alerts() if a.kind == "lot_mismatch"] == []


def test_best_before_is_kept_when_there_is_no_expiry(node):
    node.receive("COLA", "4", lot="L5")  # booked without a date
    sell_line(node, "(01)06901234567892(15)280301(10)L5")
    assert ("L5", "2028-03-01", 3000) in node.read.lot_levels("S01", "COLA")


def test_a_lot_the_store_never_received_is_sold_fefo_and_alerted(node):
    # the product's report: selling a scanned lot that was never received drove it to -1
    before = node.read.alerts()
    outcome = sell_line(node, f"{COLA_GS1}1728063010LX 3")
    assert outcome.qty == "3.000"
    assert levels(node) == {("L1", 7000), ("L9", 10_000)}  # no phantom LX, nothing negative
    header, *moves = sale_events(node)
    assert [(m.body.lot, m.body.expiry) for m in moves] == [("L1", None)]  # not LX's date
    assert header.body.scanned_lot == "LX"
    (alert,) = [a for a in node.read.alerts() if a not in before]
    assert (alert.kind, alert.location, alert.sku, alert.lot, alert.qty) == (
        "lot_mismatch",
        "S01",
        "COLA",
        "LX",
        3000,
    )
    assert alert.seq == header.seq
    assert alert.message is not None and "LX" in alert.message and "L1 3.000" in alert.message


def test_a_lot_held_in_too_small_a_quantity_gives_what_it_has_then_fefo(node):
    node.receive("COLA", "2", lot="L5", expiry="2028-06-30")
    sell_line(node, f"{COLA_GS1}10L5 13")
    assert levels(node) == {("L1", 0), ("L5", 0), ("L9", 9000)}
    assert all(r.qty >= 0 for r in node.stock())
    (alert,) = [a for a in node.read.alerts() if a.kind == "lot_mismatch"]
    assert (alert.lot, alert.qty) == ("L5", 13_000)
    assert "L5 2.000" in (alert.message or "") and "L1 10.000" in (alert.message or "")


def test_a_scanned_lot_beyond_all_lots_takes_the_rest_from_lotless_stock(node):
    sell_line(node, f"{COLA_GS1}10LX 25")
    assert levels(node) == {("L1", 0), ("L9", 0), (None, -5000)}
    kinds = {a.kind for a in node.read.alerts()}
    assert kinds == {"lot_mismatch", "negative_stock"}


def test_the_mismatch_alert_reaches_another_replica(node, tmp_path):
    sell_line(node, f"{COLA_GS1}10LX 1")
    other = Replica(connect(tmp_path / "copy.db"), "hub")
    other.ingest([raw for _, raw in node.store.log.raw_events("S01", 0)], wall_ms())
    mine = [a for a in node.read.alerts() if a.kind == "lot_mismatch"]
    assert len(mine) == 1
    assert [a for a in other.read.alerts() if a.kind == "lot_mismatch"] == mine


# ---- tenders --------------------------------------------------------------------------------


def ledger_state(node):
    return node.store.log.head_seq("S01"), node.stock()


@pytest.mark.parametrize("method", ["cash", "card", "wechat", "alipay", "WeChat"])
def test_each_built_in_tender_pays_the_whole_total(node, method):
    header = document_header(node.sell("COLA", "2", tender=method))
    assert header.tenders == [Tender(method=method.lower(), amount=600)]


@pytest.mark.parametrize(
    ("tender", "message"),
    [
        (
            "bitcoin",
            "tender 'bitcoin' is not accepted here: use one of: cash, card, wechat, alipay",
        ),
        ("", "no tender given: use one of: cash, card, wechat, alipay"),
        ([], "no tender given: use one of: cash, card, wechat, alipay"),
        (["card:1.00"], r"do not cover the total 6\.00: 5\.00 is missing"),
        (["card:1.00", "wechat:2.00"], "do not cover the total"),
        (["card:7.00"], "only cash gives change"),
        (["card:5.00", "cash:0.50"], "do not cover the total"),
        (["cash", "card"], "every tender but one"),
        (["cash:3", "cash:3"], "name each tender method once"),
        (["card:6.00", "cash"], "leave cash out"),
        (["card:abc"], "not a number.*use one of: cash"),
        (["card:-1"], "use one of"),
        (["card:0"], "more than zero"),
        (":5", "tender method missing"),
    ],
)
def test_bad_tenders_are_refused_with_the_allowed_list_and_write_nothing(node, tender, message):
    before = ledger_state(node)
    with pytest.raises(NodeError, match=message):
        node.sell("COLA", "2", tender=tender)
    assert ledger_state(node) == before


def test_a_total_beyond_what_a_sale_may_record_is_refused(node):
    before = ledger_state(node)
    with pytest.raises(NodeError, match="more than one sale may record"):
        node.sell("COLA", "10000000", price="100000000")
    assert ledger_state(node) == before


def test_split_tenders_and_cash_change(node):
    split = document_header(node.sell("COLA", "2", tender=["card:2.50", "cash"]))
    assert split.tenders == [Tender(method="card", amount=250), Tender(method="cash", amount=350)]
    change = document_header(node.sell("COLA", "2", tender=["cash:10"]))
    assert change.tenders == [Tender(method="cash", amount=600)]  # 4.00 handed back
    mixed = document_header(node.sell("COLA", "2", tender=["alipay:4", "cash:5"]))
    assert mixed.tenders == [Tender(method="alipay", amount=400), Tender(method="cash", amount=200)]


def test_a_price_override_of_zero_is_a_free_line_paid_with_nothing(node):
    header = document_header(node.sell("COLA", "1", price="0"))
    assert header.tenders == [Tender(method="cash", amount=0)]


def test_sell_line_takes_the_tender(node):
    sell_line(node, "COLA 1", tender="wechat")
    assert sale_events(node)[0].body.tenders == [Tender(method="wechat", amount=300)]
    with pytest.raises(NodeError, match="use one of"):
        sell_line(node, "COLA 1", tender="bitcoin")


def test_a_tender_head_office_configures_is_allowed_once_ingested(node, tmp_path):
    hub = Replica(connect(tmp_path / "hub.db"), "hub")

    def configure(fields):
        hub.append([Upsert(entity="tender", key="unionpay", fields=fields)], "admin", wall_ms())
        node.store.ingest([raw for _, raw in hub.log.raw_events("hub", 0)], wall_ms())

    with pytest.raises(NodeError, match=r"use one of: cash, card, wechat, alipay$"):
        node.sell("COLA", "1", tender="unionpay")
    hub.append([Upsert(entity="tender", key="unionpay", fields={"name": "UnionPay"})], "a", 1)
    assert node.tender_methods() == ("cash", "card", "wechat", "alipay")  # not ingested yet
    configure({"name": "UnionPay", "enabled": True})
    assert node.tender_methods() == ("cash", "card", "wechat", "alipay", "unionpay")
    header = document_header(node.sell("COLA", "1", tender="unionpay"))
    assert header.tenders == [Tender(method="unionpay", amount=300)]
    configure({"enabled": False})  # head office withdraws it
    with pytest.raises(NodeError, match="not accepted here"):
        node.sell("COLA", "1", tender="unionpay")


def test_a_store_cannot_configure_a_tender_itself(node):
    node.store.append(
        [Upsert(entity="tender", key="bitcoin", fields={"enabled": True})], "admin", wall_ms()
    )
    with pytest.raises(NodeError, match="not accepted here"):
        node.sell("COLA", "1", tender="bitcoin")


@given(
    held=st.lists(
        st.tuples(
            st.sampled_from(["L1", "L2", "L3", None]),
            st.sampled_from(["2027-01-31", "2027-06-30", None]),
            st.integers(-3000, 5000),
        ),
        max_size=4,
        unique_by=lambda t: t[0],
    ),
    scanned=st.sampled_from(["L1", "L2", "LX"]),
    wanted=st.integers(1, 20_000),
)
def test_a_scanned_lot_never_draws_a_lot_below_what_it_holds(held, scanned, wanted):
    levels = [LotLevel(*h) for h in held]
    parts, mismatch = from_scanned_lot(levels, scanned, wanted)
    assert sum(q for _, q in parts) == wanted and all(q > 0 for _, q in parts)
    have = {lv.lot: lv.qty for lv in levels}
    for lot, qty in parts:
        if lot is not None:
            assert qty <= have.get(lot, 0)  # only lot-less stock may go negative
    assert mismatch == (have.get(scanned, 0) < wanted)
    assert (parts == [(scanned, wanted)]) == (not mismatch)


def test_a_baskets_lot_mismatch_names_the_line_scanned_with_that_lot(node):
    """A basket of two products, the second scanned with a lot the store never had: the
    alert is about that line's product and quantity, not the first line's."""
    from node import sales
    from protocol.basket import Basket

    node.add_product("TEA", "Tea", price="5.00")
    node.receive("TEA", "10")
    basket, _ = Basket().add(sales.basket_line(node, "TEA 4"))
    basket, _ = basket.add(sales.basket_line(node, f"{COLA_GS1}10LX 2"))
    sales.post_sale(node, basket, ["cash"])
    (alert,) = [a for a in node.read.alerts() if a.kind == "lot_mismatch"]
    assert (alert.sku, alert.lot, alert.qty) == ("COLA", "LX", 2000)
    assert "TEA" not in (alert.message or "")
