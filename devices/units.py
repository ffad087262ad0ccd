"""Exact unit conversion from a scale reading to a product's base unit in milli-units.

Stock is kept as integers of milli-units (1 kg = 1000 milli-kg), so a conversion either
lands exactly on an integer or is refused: silently rounding money-bearing weights is not
ours to decide. Callers that want rounding ask for it explicitly.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

# Exact definitions: 1 lb = 0.45359237 kg (international pound, 1959); 1 oz = 1/16 lb.
_MASS_IN_KG: dict[str, Decimal] = {
    "kg": Decimal(1),
    "g": Decimal("0.001"),
    "mg": Decimal("0.000001"),
    "t": Decimal(1000),
    "lb": Decimal("0.45359237"),
    "oz": Decimal("0.028349523125"),
    "jin": Decimal("0.5"),  # 市斤, common on Chinese market scales
}
_COUNT_UNITS = {"pcs"}

_ALIASES = {
    "kgs": "kg",
    "kilogram": "kg",
    "gram": "g",
    "grams": "g",
    "lbs": "lb",
    "pc": "pcs",
    "pce": "pcs",
    "pcs": "pcs",
    "斤": "jin",
    "公斤": "kg",
    "克": "g",
}


class UnitError(ValueError):
    """A reading cannot be expressed exactly in the requested base unit."""


def normalize_unit(unit: str) -> str:
    """Canonical lower-case unit name ('KG' -> 'kg', 'PC' -> 'pcs'); unknown units pass through."""
    u = unit.strip().lower()
    return _ALIASES.get(u, u)


def convert(value: Decimal, unit: str, to: str) -> Decimal:
    """Convert exactly between two mass units (or count to count)."""
    src, dst = normalize_unit(unit), normalize_unit(to)
    if src == dst:
        return value
    if src in _MASS_IN_KG and dst in _MASS_IN_KG:
        return value * _MASS_IN_KG[src] / _MASS_IN_KG[dst]
    if src in _COUNT_UNITS or dst in _COUNT_UNITS:
        raise UnitError(f"cannot convert {src!r} to {dst!r}: one is a count, the other a mass")
    known = ", ".join(sorted([*_MASS_IN_KG, *_COUNT_UNITS]))
    raise UnitError(f"unknown unit {unit!r} or {to!r}; known units: {known}")


def to_milli(value: Decimal, unit: str, base_unit: str, *, rounding: str | None = None) -> int:
    """`value unit` as an integer number of milli-`base_unit`.

    Without `rounding` an inexact result raises `UnitError` naming the exact value, so the
    caller can decide; pass e.g. `decimal.ROUND_HALF_EVEN` to round instead.
    """
    milli = convert(value, unit, base_unit) * 1000
    if milli == milli.to_integral_value():
        return int(milli)
    if rounding is None:
        base = normalize_unit(base_unit)
        raise UnitError(
            f"{value} {normalize_unit(unit)} is {milli.normalize()} milli-{base}, not a whole "
            "number; pass rounding=ROUND_HALF_EVEN to round it"
        )
    return int(milli.to_integral_value(rounding=rounding))


__all__ = ["ROUND_HALF_EVEN", "UnitError", "convert", "normalize_unit", "to_milli"]
