"""Receipt and shift report layout: widths in display columns, both languages, 58 and 80 mm."""

from __future__ import annotations

import string
import time
from datetime import UTC, datetime

import pytest

from devices.printer.writer import MESSAGES, PrinterError
from node import receipt
from node.receipt import (
    centre,
    char_width,
    cut,
    display_width,
    pair,
    printer_message,
    return_receipt,
    sale_receipt,
    shift_report_lines,
    tender_name,
    wrap,
)
from protocol import i18n
from protocol.events import CashierTotals, DocLine, Document, ShiftReport, Tender

LONG = "新疆阿克苏冰糖心红富士苹果特级大果礼盒装十二个一箱产地直发包邮到家"
NAMES = {
    "COKE": "可口可乐 330ml 罐装",
    "BANANA": "Bananas, organic",
    "APPLE": LONG,
    "GUM": "Extra Spearmint chewing gum, family pack of twelve",
}
UNITS = {"BANANA": "kg"}
STORE = "库存超市 人民路店"


def T(method: str, amount: int) -> Tender:
    return Tender(method=method, amount=amount)


def sale() -> Document:
    return Document(
        doc="S01-T1-42",
        type="sale",
        location="S01",
        shift="S01-T1-1",
        lines=[
            # price overridden 4.00 → 3.50 and 1.00 off, both approved by M01
            DocLine(
                sku="COKE",
                qty=2000,
                unit_price=350,
                list_price=400,
                discount=100,
                amount=600,
                approved_by="M01",
            ),
            DocLine(sku="BANANA", qty=512, unit_price=600, amount=307),  # weighed
            DocLine(sku="APPLE", qty=1000, unit_price=12800, amount=12800),
            DocLine(sku="GUM", qty=3000, unit_price=250, amount=750),
        ],
        tenders=[T("wechat", 10000), T("cash", 4457)],
    )


def receipt_lines(lang: str, width: int) -> list[str]:
    return sale_receipt(
        sale(),
        store_name=STORE,
        till="S01-T1",
        cashier="张三",
        at="2026-12-02T13:05:11",
        change=543,
        lang=lang,
        width=width,
        names=NAMES,
        units=UNITS,
    )


def test_sale_receipt_zh_58mm_exactly():
    assert receipt_lines("zh-CN", 32) == [
        "       库存超市 人民路店",
        "--------------------------------",
        "小票号                 S01-T1-42",
        "收银台                    S01-T1",
        "收银员                      张三",
        "时间         2026-12-02 13:05:11",
        "--------------------------------",
        "可口可乐 330ml 罐装",
        "  2 x 3.50                  7.00",
        "  原价 4.00",
        "  折扣                     -1.00",
        "  授权 M01",
        "Bananas, organic",
        "  0.512 kg x 6.00/kg        3.07",
        "新疆阿克苏冰糖心红富士苹果特级大",
        "果礼盒装十二个一箱产地直发包邮..",
        "  1 x 128.00              128.00",
        "Extra Spearmint chewing gum,",
        "family pack of twelve",
        "  3 x 2.50                  7.50",
        "--------------------------------",
        "件数                           7",
        "优惠合计                   -1.00",
        "合计                      144.57",
        "微信支付                  100.00",
        "现金                       50.00",
        "找零                        5.43",
        "--------------------------------",
        "     谢谢惠顾，欢迎再次光临",
    ]


def test_sale_receipt_en_80mm_exactly():
    assert receipt_lines("en", 42) == [
        "            库存超市 人民路店",
        "------------------------------------------",
        "Receipt                          S01-T1-42",
        "Till                                S01-T1",
        "Cashier                               张三",
        "Time                   2026-12-02 13:05:11",
        "------------------------------------------",
        "可口可乐 330ml 罐装",
        "  2 x 3.50                            7.00",
        "  was 4.00",
        "  Discount                           -1.00",
        "  approved by M01",
        "Bananas, organic",
        "  0.512 kg x 6.00/kg                  3.07",
        "新疆阿克苏冰糖心红富士苹果特级大果礼盒装十",
        "二个一箱产地直发包邮到家",
        "  1 x 128.00                        128.00",
        "Extra Spearmint chewing gum, family pack",
        "of twelve",
        "  3 x 2.50                            7.50",
        "------------------------------------------",
        "Items                                    7",
        "Discounts                            -1.00",
        "TOTAL                               144.57",
        "WeChat Pay                          100.00",
        "Cash                                 50.00",
        "Change                                5.43",
        "------------------------------------------",
        "       Thank you, please come again",
    ]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("width", [32, 42])
def test_every_layout_fits_its_width(lang, width):
    layouts = [
        receipt_lines(lang, width),
        return_receipt(
            a_return(),
            store_name=STORE,
            till="S01-T2",
            cashier="李四",
            at=AT,
            lang=lang,
            width=width,
            names=NAMES,
        ),
        return_receipt(
            a_void(),
            store_name=STORE,
            till="S01-T1",
            cashier="王经理",
            at=AT,
            lang=lang,
            width=width,
            names=NAMES,
            reprint=True,
        ),
        shift_report_lines(
            a_report(),
            kind="Z",
            store_name=STORE,
            till="S01-T1",
            cashier="王经理",
            at=AT,
            lang=lang,
            width=width,
            opened_at="2026-12-02T08:00:00",
            cashier_names={"C01": "张三", "C02": "Li Si"},
        ),
        shift_report_lines(
            ShiftReport(),
            kind="X",
            store_name=STORE,
            till="S01-T1",
            cashier="张三",
            at=AT,
            lang=lang,
            width=width,
        ),
    ]
    for lines in layouts:
        assert lines
        for line in lines:
            assert display_width(line) <= width, line
            assert line == line.rstrip() or line.strip() == ""
            assert not any(ch < " " for ch in line)
    assert max(display_width(line) for line in layouts[0]) == width  # the rules


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_totals_are_the_documents_own(lang):
    lines = receipt_lines(lang, 32)
    total = sum(line.amount or 0 for line in sale().lines)
    assert total == 14457 == sum(t.amount for t in sale().tenders)
    label = {"zh-CN": "合计", "en": "TOTAL"}[lang]
    assert any(line.startswith(label) and line.endswith(" 144.57") for line in lines)
    # the cash line is what the customer handed over: the cash tender plus the change
    cash = {"zh-CN": "现金", "en": "Cash"}[lang]
    assert any(line.startswith(cash) and line.endswith("50.00") for line in lines)


def test_a_receipt_without_cash_has_no_change_line_and_a_copy_says_so():
    header = Document(
        doc="S01-T1-43",
        type="sale",
        location="S01",
        lines=[DocLine(sku="X1", qty=1000, unit_price=500, amount=500)],
        tenders=[T("alipay", 300), T("unionpay", 200)],
    )
    lines = sale_receipt(
        header, store_name="Shop", till="T", cashier="C", at="now", lang="en", reprint=True
    )
    assert not any(line.startswith("Change") for line in lines)
    assert "Alipay                      3.00" in lines
    assert "unionpay                    2.00" in lines  # head office's own method: its id
    assert "X1" in lines  # a product without a known name: its SKU
    assert lines[6].endswith(" now")  # a time that is not ISO is shown as given
    assert centre("** REPRINT **", 32)[0] in lines


def test_an_event_time_in_utc_is_shown_in_the_tills_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        lines = sale_receipt(
            sale(), store_name="S", till="T", cashier="C", at="2026-12-02T05:05:11Z", lang="en"
        )
        assert "Time         2026-12-02 13:05:11" in lines
        at = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
        lines = sale_receipt(sale(), store_name="S", till="T", cashier="C", at=at, lang="en")
        assert "Time         2026-12-03 00:00:00" in lines
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_line_without_a_recorded_amount_is_qty_times_price_rounded_half_up():
    header = Document(
        doc="D",
        type="sale",
        location="S01",
        lines=[DocLine(sku="B", qty=1235, unit_price=100)],  # 1.235 kg at 1.00: 1.235 → 1.24
        tenders=[T("card", 124)],
    )
    lines = sale_receipt(
        header, store_name="S", till="T", cashier="C", at=AT, lang="en", units={"B": "kg"}
    )
    assert "  1.235 kg x 1.00/kg        1.24" in lines
    assert "TOTAL                       1.24" in lines


AT = "2026-12-02T15:30:00"


def a_return() -> Document:
    return Document(
        doc="S01-T2-7",
        type="return",
        location="S01",
        ref="S01-T1-42",
        lines=[
            DocLine(sku="COKE", qty=1000, unit_price=300, amount=300),
            DocLine(sku="APPLE", qty=1000, unit_price=12800, amount=12800, scrap=True),
        ],
        tenders=[T("wechat", 10000), T("cash", 3100)],
    )


def a_void() -> Document:
    return Document(
        doc="S01-T1-44",
        type="void",
        location="S01",
        ref="S01-T1-42",
        approved_by="M01",
        lines=[DocLine(sku="GUM", qty=3000, unit_price=250, amount=750)],
        tenders=[T("cash", 750)],
    )


def test_return_slip_zh():
    lines = return_receipt(
        a_return(),
        store_name=STORE,
        till="S01-T2",
        cashier="李四",
        at=AT,
        lang="zh-CN",
        names=NAMES,
    )
    assert lines[:2] == ["       库存超市 人民路店", "             退货单"]
    assert "小票号                  S01-T2-7" in lines
    assert "原小票                 S01-T1-42" in lines
    assert "  （损坏，报废）" in lines
    index = lines.index("  （损坏，报废）")
    assert lines[index - 1] == "  1 x 128.00              128.00"  # under the scrapped line
    assert lines[-3:] == [
        "退款合计                  131.00",
        "退回 微信支付             100.00",
        "退回 现金                  31.00",
    ]


def test_return_without_receipt_names_its_approver_and_a_void_is_titled_so():
    header = Document(
        doc="S01-T1-45",
        type="return",
        location="S01",
        approved_by="M01",
        lines=[DocLine(sku="COKE", qty=1000, unit_price=350, amount=350)],
        tenders=[T("cash", 350)],
    )
    lines = return_receipt(
        header, store_name="Shop", till="S01-T1", cashier="Zhang", at=AT, lang="en"
    )
    assert "Return without receipt" in lines and "approved by M01" in lines
    assert not any(line.startswith("Sale ") for line in lines)
    void = return_receipt(
        a_void(), store_name="Shop", till="S01-T1", cashier="Wang", at=AT, lang="en"
    )
    assert void[1].strip() == "VOID" and "** REPRINT **" not in "".join(void)
    assert "Sale                   S01-T1-42" in void
    assert "REFUND                      7.50" in void


def a_report() -> ShiftReport:
    return ShiftReport(
        number=3,
        sales=12,
        sales_total=34500,
        returns=1,
        returns_total=700,
        voids=1,
        voids_total=750,
        discounts_total=100,
        tenders=[T("cash", 19300), T("wechat", 14500)],
        cash_float=10000,
        cash_sales=20000,
        cash_refunds=700,
        expected_cash=29300,
        counted_cash=29350,
        variance=50,
        cashiers=[
            CashierTotals(user="C01", sales=10, sales_total=30000, returns=1, returns_total=700),
            CashierTotals(user="C02", sales=2, sales_total=4500),
        ],
    )


def test_z_report_zh_exactly():
    lines = shift_report_lines(
        a_report(),
        kind="Z",
        store_name="库存超市",
        till="S01-T1",
        cashier="王经理",
        at=AT,
        lang="zh-CN",
        opened_at="2026-12-02T08:00:00",
        cashier_names={"C01": "张三"},
    )
    assert lines == [
        "            库存超市",
        "          Z 报表 0003",
        "--------------------------------",
        "收银台                    S01-T1",
        "收银员                    王经理",
        "时间         2026-12-02 15:30:00",
        "开班         2026-12-02 08:00:00",
        "--------------------------------",
        "销售 12 笔                345.00",
        "退货 1 笔                   7.00",
        "作废 1 笔                   7.50",
        "优惠合计                    1.00",
        "--------------------------------",
        "按支付方式",
        "  现金                    193.00",
        "  微信支付                145.00",
        "--------------------------------",
        "备用金                    100.00",
        "现金销售                  200.00",
        "现金退款                    7.00",
        "应有现金                  293.00",
        "实点现金                  293.50",
        "差额                       +0.50",
        "--------------------------------",
        "按收银员",
        "C01 张三",
        "  销售 10 笔              300.00",
        "  退货 1 笔                 7.00",
        "C02",
        "  销售 2 笔                45.00",
        "  退货 0 笔                 0.00",
        "--------------------------------",
        "        已归档，不可更改",
    ]


def test_x_report_en_has_no_number_and_an_uncounted_z_says_so():
    x = shift_report_lines(
        a_report(),
        kind="X",
        store_name="Shop",
        till="S01-T1",
        cashier="Zhang",
        at=AT,
        lang="en",
        width=42,
    )
    assert x[1].strip() == "X REPORT (running)"
    assert "Filed: cannot be changed" not in "".join(x)
    uncounted = ShiftReport(number=4, cash_float=5000, expected_cash=5000)
    z = shift_report_lines(
        uncounted,
        kind="Z",
        store_name="Shop",
        till="S01-T1",
        cashier="Zhang",
        at=AT,
        lang="en",
        width=42,
    )
    assert z[1].strip() == "Z REPORT 0004"
    assert "Counted cash                   not counted" in z
    assert not any(line.startswith("Variance") for line in z)
    short = ShiftReport(number=5, expected_cash=1000, counted_cash=900)
    z = shift_report_lines(
        short, kind="Z", store_name="Shop", till="T", cashier="C", at=AT, lang="en"
    )
    assert "Variance                   -1.00" in z  # counted − expected when not recorded


# -- columns ----------------------------------------------------------------------------


def test_widths_of_characters():
    assert [char_width(c) for c in "a库，Ａ\u0301\u200b"] == [1, 2, 2, 2, 0, 0]
    assert display_width("可口可乐 330ml") == 14


@pytest.mark.parametrize("width", range(1, 12))
def test_cut_never_splits_a_character_or_passes_the_width(width):
    for text in (LONG, "Coca-Cola 可口可乐", "abcdefghijklmnop"):
        shown = cut(text, width, "..")
        assert display_width(shown) <= width
        assert shown.rstrip(".") in text or shown == ".."[:width]


def test_cut_odd_width_leaves_a_column_rather_than_half_a_character():
    assert cut("库存超市", 5) == "库存"
    assert cut("库存超市", 5, "..") == "库.."
    assert cut("库存", 4, "..") == "库存"


def test_wrap_latin_at_spaces_cjk_anywhere_and_long_words_broken():
    assert wrap("Extra Spearmint chewing gum", 16) == ["Extra Spearmint", "chewing gum"]
    assert wrap("库存超市人民路店", 6) == ["库存超", "市人民", "路店"]
    assert wrap("Coca-Cola可口可乐", 11) == ["Coca-Cola可", "口可乐"]
    assert wrap("Supercalifragilistic", 8) == ["Supercal", "ifragili", "stic"]
    assert wrap("", 8) == [""]
    assert wrap("a\nb\tc\x1bd", 20) == ["a b c d"]
    assert wrap(LONG, 32, max_lines=2)[1].endswith("..")
    assert wrap("可口可乐", 8, max_lines=1) == ["可口可乐"]


def test_pair_puts_the_amount_right_or_below_when_it_cannot():
    assert pair("合计", "12.80", 16) == ["合计       12.80"]
    assert pair("a very long label here", "12.80", 12) == [
        "a very long",
        "label here",
        "       12.80",
    ]
    assert pair("x", "y", 3, indent=1) == [" x", "  y"]  # no room for the gap
    assert pair("x", "y", 4, indent=1) == [" x y"]


# -- names and messages -----------------------------------------------------------------


def test_tender_names_in_both_languages():
    assert [tender_name(m, "zh-CN") for m in ("cash", "card", "wechat", "alipay")] == [
        "现金",
        "银行卡",
        "微信支付",
        "支付宝",
    ]
    assert tender_name("wechat", "en") == "WeChat Pay"
    assert tender_name("unionpay", "zh-CN") == "unionpay"


def test_lang_none_follows_kucun_lang(monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    assert receipt_lines(None, 32)[2].startswith("Receipt")  # type: ignore[arg-type]
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    assert receipt_lines(None, 32)[2].startswith("小票号")  # type: ignore[arg-type]


def test_every_printer_error_has_its_zh_cn_text_and_renders_in_one_line():
    assert set(MESSAGES) <= set(i18n.translations())
    for template in MESSAGES:  # the same fields in both languages
        assert _fields(i18n.translations()[template]) == _fields(template)
    errors = [
        PrinterError("offline", MESSAGES[0], url="/dev/ttyUSB1", detail="gone"),
        PrinterError("paper_out", MESSAGES[1], url="/dev/ttyUSB1"),
        PrinterError("timeout", MESSAGES[2], url="/dev/ttyUSB1", seconds="5"),
        PrinterError("closed", MESSAGES[3], url="/dev/ttyUSB1"),
    ]
    for error in errors:
        zh, en = printer_message(error, "zh-CN"), printer_message(error, "en")
        assert en == str(error)
        assert "小票打印机 /dev/ttyUSB1" in zh
        assert "\n" not in zh + en
    assert printer_message(errors[1], "zh-CN") == (
        "小票打印机 /dev/ttyUSB1 缺纸：请装上新纸卷后重新打印"
    )


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_module_is_pure_layout():
    source = receipt.__file__
    with open(source, encoding="utf-8") as fh:
        text = fh.read()
    for word in ("sqlite3", "import serial", "asyncio", "open("):
        assert word not in text


# -- a real sale and return on a real ledger --------------------------------------------


def test_the_receipt_of_a_posted_sale_and_its_return(tmp_path, monkeypatch):
    from node import users
    from node.sales import ReturnLine, basket_line, post_return, post_sale
    from node.service import Node
    from protocol.basket import Basket

    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    try:
        node.add_product("APPLE", LONG, price="12.80")
        node.add_product("BANANA", "香蕉", price="6.00", unit="kg")
        node.receive("APPLE", "10", cost="8.00")
        node.receive("BANANA", "10", cost="3.00")
        users.add_user(node, "zhao", "赵经理", "manager", "2468")
        node.user = "zhao"
        basket = Basket()
        for code in ("APPLE 2", "BANANA 0.512"):
            basket, _ = basket.add(basket_line(node, code))
        basket = basket.discount(0, 60, approved_by="zhao")
        posted = post_sale(node, basket, ["wechat:10.00", "cash:50"])
        header = posted.events[0].body
        assert isinstance(header, Document)
        products = node.products()
        layout = {
            "store_name": STORE,
            "till": "S01",
            "cashier": "赵经理",
            "at": "2026-12-02T13:05:11",
            "names": {p.sku: p.name for p in products},
            "units": {p.sku: p.unit for p in products},
        }
        for width in (32, 42):
            lines = sale_receipt(header, change=posted.change, width=width, **layout)
            assert all(display_width(line) <= width for line in lines)
            total = pair("合计", "28.07", width)[0]  # 25.60 − 0.60 + 3.07 (0.512 × 6.00)
            assert posted.total == 2807 and total in lines
            assert pair("找零", "31.93", width)[0] in lines  # 10.00 + 50.00 − 28.07
            assert pair("现金", "50.00", width)[0] in lines
            assert pair("微信支付", "10.00", width)[0] in lines
            assert pair("小票号", posted.doc, width)[0] in lines
            assert pair("  折扣", "-0.60", width)[0] in lines
            assert "  0.512 kg x 6.00/kg" in "\n".join(lines)

        back = post_return(node, posted.doc, [ReturnLine("APPLE", 1000, scrap=True)])
        slip = return_receipt(back.events[0].body, width=32, **layout)  # type: ignore[arg-type]
        assert pair("原小票", posted.doc, 32)[0] in slip
        assert "  （损坏，报废）" in slip
        refund = pair("退款合计", "12.50", 32)[0]  # the line's paid price: 25.00 / 2
        assert back.refund == 1250 and refund in slip
    finally:
        node.close()
