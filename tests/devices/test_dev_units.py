"""Exact conversion of readings to integer milli-units of a product's base unit."""

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.scales import Reading
from devices.units import UnitError, convert, normalize_unit, to_milli


def test_kg_and_g_are_exact():
    assert Reading(Decimal("1.234"), "kg", True).to_milli("kg") == 1234
    assert Reading(Decimal("1234"), "g", True).to_milli("kg") == 1234
    assert Reading(Decimal("0.5"), "kg", True).to_milli("g") == 500_000
    assert to_milli(Decimal("-0.020"), "kg", "kg") == -20


def test_inexact_results_are_refused_with_a_clear_message():
    with pytest.raises(UnitError, match=r"123\.4 milli-kg, not a whole number"):
        to_milli(Decimal("123.4"), "g", "kg")
    with pytest.raises(UnitError, match="rounding"):
        Reading(Decimal("1.000"), "lb", True).to_milli("kg")


def test_pounds_and_ounces_convert_exactly_when_possible():
    # 1 lb = 0.45359237 kg exactly: 100 lb is 45359.237 g, a whole number of milli-grams
    assert to_milli(Decimal("100"), "lb", "g") == 45_359_237
    assert to_milli(Decimal("1"), "lb", "g", rounding=ROUND_HALF_EVEN) == 453_592
    assert convert(Decimal("1"), "lb", "kg") == Decimal("0.45359237")
    assert convert(Decimal("16"), "oz", "lb") == Decimal(1)
    assert to_milli(Decimal("2"), "lb", "lb") == 2000
    assert to_milli(Decimal("1"), "kg", "jin") == 2000


def test_rounding_on_request():
    assert to_milli(Decimal("1.000"), "lb", "kg", rounding=ROUND_HALF_EVEN) == 454
    assert to_milli(Decimal("123.5"), "g", "kg", rounding=ROUND_HALF_EVEN) == 124


def test_incompatible_and_unknown_units():
    with pytest.raises(UnitError, match="count"):
        to_milli(Decimal(3), "pcs", "kg")
    with pytest.raises(UnitError, match="unknown unit"):
        to_milli(Decimal(3), "furlong", "kg")
    assert to_milli(Decimal(3), "PC", "pcs") == 3000


def test_normalize():
    assert normalize_unit(" KG ") == "kg"
    assert normalize_unit("lbs") == "lb"
    assert normalize_unit("斤") == "jin"


@settings(deadline=None)
@given(st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False))
def test_kg_grams_roundtrip_is_exact(value):
    assert to_milli(value, "kg", "kg") == to_milli(value * 1000, "g", "kg")
