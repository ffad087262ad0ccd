from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.units import (
    MAX_QTY,
    AmountError,
    format_money,
    format_qty,
    line_total,
    parse_money,
    parse_qty,
)


@pytest.mark.parametrize(
    ("text", "milli"),
    [
        ("2", 2000),
        ("1.250", 1250),
        ("1.25", 1250),
        ("0.001", 1),
        (".5", 500),
        ("-1", -1000),
        (" 3 ", 3000),
        ("1.2500", 1250),
        ("0", 0),
    ],
)
def test_parse_qty(text, milli):
    assert parse_qty(text) == milli


@pytest.mark.parametrize("text", ["abc", "", "1,5", "1.2345", "1e3", "--1", "1.2.3", "NaN"])
def test_parse_qty_refuses_with_a_reason(text):
    with pytest.raises(AmountError, match="quantity"):
        parse_qty(text)


def test_parse_money():
    assert parse_money("12.80") == 1280
    assert parse_money("0.05") == 5
    with pytest.raises(AmountError, match="2 decimal places"):
        parse_money("1.005")


@given(st.integers(min_value=-MAX_QTY, max_value=MAX_QTY))
def test_format_parse_round_trip(value):
    assert parse_qty(format_qty(value)) == value
    assert parse_money(format_money(value)) == value


@pytest.mark.parametrize(
    ("parse", "text"),
    [(parse_qty, "10000000.001"), (parse_qty, "-99999999999"), (parse_money, "100000000.01")],
)
def test_amounts_beyond_what_any_replica_can_fold_are_refused(parse, text):
    with pytest.raises(AmountError, match="too large"):
        parse(text)


def test_format_shapes():
    assert format_qty(7000) == "7.000"
    assert format_qty(-1250) == "-1.250"
    assert format_money(1280) == "12.80"
    assert format_money(5) == "0.05"


@pytest.mark.parametrize(
    ("qty", "price", "total"),
    [
        (3000, 350, 1050),
        (1250, 980, 1225),
        (1, 5, 0),
        (100, 5, 1),
        (333, 150, 50),
        (1500, 333, 500),
        (2500, 1, 3),
    ],
)
def test_line_total_rounds_half_up_once(qty, price, total):
    assert line_total(qty, price) == total


# ---- FEFO allocation ---------------------------------------------------------------

from protocol.allocation import LotLevel, fefo  # noqa: E402


def test_fefo_takes_earliest_expiry_first():
    levels = [
        LotLevel("B", "2027-03-01", 5000),
        LotLevel("A", "2027-01-01", 2000),
        LotLevel("C", None, 9000),
        LotLevel(None, None, 1000),
    ]
    assert fefo(levels, 8000) == [("A", 2000), ("B", 5000), ("C", 1000)]


def test_fefo_remainder_comes_from_lotless_stock():
    assert fefo([LotLevel("A", "2027-01-01", 1000)], 3000) == [("A", 1000), (None, 2000)]
    assert fefo([LotLevel("A", "2027-01-01", -500)], 1000) == [(None, 1000)]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", None]),
            st.sampled_from(["2027-01-01", "2026-12-31", None]),
            st.integers(-5000, 5000),
        ),
        max_size=6,
    ),
    st.integers(1, 20_000),
)
def test_fefo_parts_sum_to_wanted_and_never_overdraw_a_lot(raw_levels, wanted):
    levels = [LotLevel(*lv) for lv in raw_levels]
    parts = fefo(levels, wanted)
    assert sum(q for _, q in parts) == wanted
    assert all(q > 0 for _, q in parts)
    for lot, qty in parts:
        if lot is not None:
            assert qty <= max(lv.qty for lv in levels if lv.lot == lot)


@given(st.integers(-(10**12), 10**12), st.integers(0, 10**7))
def test_line_total_equals_decimal_half_up(qty, price):
    from decimal import ROUND_HALF_UP, Decimal

    exact = Decimal(qty) * Decimal(price) / 1000
    assert line_total(qty, price) == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
