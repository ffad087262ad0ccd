"""Decimal strings at the edges, integers inside.

Quantities are integer milli-units of a product's base unit (1 piece = 1000, 1 kg = 1000 g)
and money is integer fen (0.01 CNY), so sums are exact and every replica agrees bit for bit.
People and JSON see decimal strings ("1.250", "12.80"); these helpers are the only place
the two meet.
"""

from __future__ import annotations

import re

QTY_SCALE = 1000
MONEY_SCALE = 100
#: largest quantity on one line, in milli-units: 10,000,000 pieces or kg
MAX_QTY = 10**10
#: largest amount or unit price, in fen: 100,000,000 CNY
MAX_MONEY = 10**10

_DECIMAL = re.compile(r"^\s*([+-]?)(\d+)(?:\.(\d*))?\s*$|^\s*([+-]?)\.(\d+)\s*$")


class AmountError(ValueError):
    """A quantity or money string a person typed that cannot be understood."""


def _parse_scaled(text: str, places: int, what: str) -> int:
    if not isinstance(text, str):
        raise AmountError(f"{what} must be a decimal string like {_example(places)}, got {text!r}")
    m = _DECIMAL.match(text)
    if not m:
        raise AmountError(f"{what} {text!r} is not a number; write it like {_example(places)}")
    if m.group(2) is not None:
        sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    else:
        sign, whole, frac = m.group(4), "0", m.group(5)
    if len(frac) > places and frac[places:].strip("0"):
        raise AmountError(
            f"{what} {text!r} has more than {places} decimal places; "
            f"write it like {_example(places)}"
        )
    frac = (frac + "0" * places)[:places]
    value = int(whole) * 10**places + (int(frac) if frac else 0)
    limit = MAX_QTY if places == 3 else MAX_MONEY
    if value > limit:
        raise AmountError(f"{what} {text!r} is too large (at most {_format_scaled(limit, places)})")
    return -value if sign == "-" else value


def _example(places: int) -> str:
    return '"1.250"' if places == 3 else '"12.80"'


def _format_scaled(value: int, places: int) -> str:
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


def parse_qty(text: str) -> int:
    """ "1.250" -> 1250 milli-units; at most three decimals."""
    return _parse_scaled(text, 3, "quantity")


def format_qty(milli: int) -> str:
    """1250 -> "1.250"."""
    return _format_scaled(milli, 3)


def parse_money(text: str) -> int:
    """ "12.80" -> 1280 fen; at most two decimals."""
    return _parse_scaled(text, 2, "amount")


def format_money(fen: int) -> str:
    """1280 -> "12.80"."""
    return _format_scaled(fen, 2)


def line_total(qty_milli: int, unit_price_fen: int) -> int:
    """Money for `qty` at `unit_price` per base unit, rounded half-up once, at the line."""
    numerator = qty_milli * unit_price_fen
    whole, rest = divmod(abs(numerator), QTY_SCALE)  # integers: exact, and fast
    if 2 * rest >= QTY_SCALE:
        whole += 1
    return whole if numerator >= 0 else -whole
