"""Barcode interpretation: GTINs, UPC-E, GS1 element strings, in-store variable-measure codes."""

from datetime import date
from decimal import Decimal

import pytest
from biip.checksums import gs1_standard_check_digit
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.barcodes import (
    DEFAULT_PATTERNS,
    BarcodeKind,
    PatternError,
    VariableMeasurePattern,
    interpret,
    parse_patterns,
)

GS = "\x1d"


def with_check(payload: str) -> str:
    return payload + str(gs1_standard_check_digit(payload))


@pytest.mark.parametrize(
    ("code", "gtin", "gtin14"),
    [
        ("6901234567892", "6901234567892", "06901234567892"),  # GTIN-13 (EAN-13, China)
        ("96385074", "96385074", "00000096385074"),  # GTIN-8 (EAN-8)
        ("042100005264", "042100005264", "00042100005264"),  # GTIN-12 (UPC-A)
        ("16901234567899", "16901234567899", "16901234567899"),  # GTIN-14 (case of 12)
        ("]E06901234567892", "6901234567892", "06901234567892"),  # with AIM id
    ],
)
def test_gtins(code, gtin, gtin14):
    r = interpret(code)
    assert (r.kind, r.gtin, r.gtin14, r.ok) == (BarcodeKind.GTIN, gtin, gtin14, True)
    assert r.product_key == gtin14


def test_gtin14_check_digit_is_valid():
    assert with_check("1690123456789") == "16901234567899"


@pytest.mark.parametrize("code", ["0425261", "04252614", "425261"])
def test_upc_e_expands_to_upc_a(code):
    r = interpret(code)
    assert r.kind is BarcodeKind.GTIN and r.gtin == "042100005264"


def test_eight_digits_with_ean8_aim_id_stay_ean8():
    assert interpret("]E401234565").gtin == "01234565"
    assert interpret("01234565").gtin == "012345000065"  # read as UPC-E without the hint


@pytest.mark.parametrize("code", ["6901234567891", "96385075", "042100005265", "16901234567890"])
def test_bad_gtin_check_digit_has_a_cashier_reason(code):
    r = interpret(code)
    assert r.kind is BarcodeKind.INVALID and not r.ok
    assert "Check digit wrong" in r.reason and "Scan it again" in r.reason
    assert "校验位错误" in r.reason_zh


def test_gs1_128_element_string_all_ais():
    code = "]C1010950600013435210ABC123" + GS + "1726123121SN42" + GS + "31030012343922001999"
    r = interpret(code)
    assert r.kind is BarcodeKind.GS1 and r.ok
    assert r.symbology == "]C1"
    assert r.gtin == "9506000134352" and r.gtin14 == "09506000134352"
    assert r.lot == "ABC123" and r.serial == "SN42"
    assert r.expiry == date(2026, 12, 31)
    assert (r.weight, r.weight_unit) == (Decimal("1.234"), "kg")
    assert r.price == Decimal("19.99")


def test_gs1_datamatrix_and_qr_and_hri():
    dm = interpret("]d201095060001343521725063010L1" + GS + "21S1")
    assert (dm.gtin14, dm.expiry, dm.lot, dm.serial) == (
        "09506000134352",
        date(2025, 6, 30),
        "L1",
        "S1",
    )
    qr = interpret("]Q3010950600013435215250101")
    assert qr.best_before == date(2025, 1, 1)
    hri = interpret("(01)09506000134352(3103)000500(10)XYZ")
    assert (hri.weight, hri.lot) == (Decimal("0.500"), "XYZ")


def test_gs1_without_aim_from_a_keyboard_wedge():
    r = interpret("010950600013435210LOT7")
    assert r.kind is BarcodeKind.GS1 and r.lot == "LOT7"


def test_gs1_with_bad_gtin_check_digit():
    r = interpret("]C1010950600013435310L")
    assert r.kind is BarcodeKind.INVALID and "expected 2, got 3" in r.reason


def test_gs1_without_gtin_is_unknown_with_reason():
    r = interpret("]C110LOT" + GS + "17260101")
    assert r.kind is BarcodeKind.UNKNOWN and "GTIN" in r.reason and r.lot == "LOT"


def test_broken_gs1_is_invalid():
    r = interpret("]C199")
    assert r.kind is BarcodeKind.INVALID and r.reason


# -- in-store variable-measure codes ---------------------------------------------------


def test_cn13_weight_default():
    code = with_check("210012301234")  # PLU 00123, 1.234 kg
    r = interpret(code)
    assert r.kind is BarcodeKind.VARIABLE_MEASURE and r.ok
    assert (r.plu, r.weight, r.weight_unit, r.price, r.pattern) == (
        "00123",
        Decimal("1.234"),
        "kg",
        None,
        "cn13-weight",
    )
    assert r.product_key == "plu:00123"


def test_cn13_price_default():
    r = interpret(with_check("220456701250"))  # PLU 04567, 12.50 yuan
    assert (r.plu, r.price, r.currency, r.weight) == ("04567", Decimal("12.50"), "CNY", None)


def test_cn18_price_and_weight():
    r = interpret(with_check("28000420356000890"))
    assert (r.plu, r.price, r.weight, r.pattern) == (
        "00042",
        Decimal("35.60"),
        Decimal("0.890"),
        "cn18",
    )


def test_in_store_bad_check_digit_names_the_plu():
    good = with_check("210012301234")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    r = interpret(bad)
    assert r.kind is BarcodeKind.INVALID and r.plu == "00123" and "Check digit" in r.reason


def test_custom_template_language():
    p = VariableMeasurePattern.parse("21.....{NNDDD}", name="no-check")
    assert (p.length, p.check_position) == (12, None)
    r = interpret("210012301234", patterns=[p])
    assert (r.plu, r.weight) == ("00123", Decimal("1.234"))
    price = VariableMeasurePattern.parse("27PPPP{price:NNN.DD}XC")
    r = interpret(with_check("271234019997"), patterns=[price])
    assert (r.plu, r.price) == ("1234", Decimal("19.99"))
    lb = VariableMeasurePattern.parse("2PPPPP{w:NNDD}C", weight_unit="lb")
    assert lb.length == 11
    r = interpret(with_check("2123450150"), patterns=[lb])
    assert (r.plu, r.weight, r.weight_unit) == ("12345", Decimal("1.50"), "lb")


def test_default_pattern_for_bare_group_is_the_patterns_measure():
    p = VariableMeasurePattern.parse("23PPPPP{NNNDD}C", measure="price")
    assert p.fields[0].kind == "price"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("21{NNDDD}C", "no PLU"),
        ("21PPPPPC", "no weight or price"),
        ("21PPPPP{NNDDD}C1", "last"),
        ("21PPPPP{kg:NNDDD}", "unknown measure"),
        ("21PPPPP{NNxDD}", "bad measure group"),
        ("21PPPPP{}", "empty measure group"),
        ("21PPPPP{w:NN}{w:DD}", "more than one weight"),
        ("21PPPPP?{NN}", "unexpected"),
    ],
)
def test_pattern_errors_say_what_to_fix(template, message):
    with pytest.raises(PatternError, match=message):
        VariableMeasurePattern.parse(template)


def test_parse_patterns_config_text():
    pats = parse_patterns("""
        # label scale in the deli
        deli = 25PPPPP{NNDDD}C
        bakery = 26PPPPP{NNNDD}C price
        27PPPPP{NNDDD}C
    """)
    assert [p.name for p in pats] == ["deli", "bakery", "27PPPPP{NNDDD}C"]
    assert pats[1].fields[0].kind == "price"
    with pytest.raises(PatternError):
        parse_patterns("x = 25PPPPP{NNDDD}C kilos")


def test_in_store_code_matching_no_pattern_is_unknown_with_reason():
    r = interpret(with_check("210012301234"), patterns=[])
    assert r.kind is BarcodeKind.UNKNOWN and "label-scale" in r.reason and "条码秤" in r.reason_zh


def test_unknown_codes_have_reasons():
    for code in ("ABC-123", "12345", "123456789"):
        r = interpret(code)
        assert r.kind is BarcodeKind.UNKNOWN and r.reason and r.reason_zh, code
    sscc = interpret("376130321109103420")
    assert sscc.kind is BarcodeKind.UNKNOWN and "SSCC" in sscc.reason
    assert interpret("").kind is BarcodeKind.UNKNOWN


def test_as_dict_is_json_friendly():
    d = interpret("]C1010950600013435217261231").as_dict()
    assert d["expiry"] == "2026-12-31" and d["kind"] == "gs1" and d["ok"] is True


@settings(deadline=None)
@given(st.sampled_from(["1", "2"]), st.integers(0, 99999), st.integers(0, 99999))
def test_default_13_digit_roundtrip(flag, plu, measure):
    code = with_check(f"2{flag}{plu:05d}{measure:05d}")
    r = interpret(code)
    assert r.kind is BarcodeKind.VARIABLE_MEASURE and r.plu == f"{plu:05d}"
    if flag == "1":
        assert r.weight == Decimal(measure).scaleb(-3)
    else:
        assert r.price == Decimal(measure).scaleb(-2)


@settings(deadline=None)
@given(st.integers(0, 99999), st.integers(0, 99999), st.integers(0, 99999))
def test_default_18_digit_roundtrip(plu, price, weight):
    r = interpret(with_check(f"29{plu:05d}{price:05d}{weight:05d}"))
    assert (r.plu, r.price, r.weight) == (
        f"{plu:05d}",
        Decimal(price).scaleb(-2),
        Decimal(weight).scaleb(-3),
    )


@settings(deadline=None)
@given(st.text(max_size=40))
def test_interpret_never_raises(code):
    r = interpret(code)
    assert r.ok or r.reason


def test_default_patterns_are_exported():
    assert [p.name for p in DEFAULT_PATTERNS] == ["cn13-weight", "cn13-price", "cn18"]
