"""AIM symbology identifiers (ISO/IEC 15424): the `]Cm` prefix a scanner can add to a code.

The prefix says which symbology was read (`]E0` EAN-13, `]C1` GS1-128, `]d2` GS1
DataMatrix, `]Q3` GS1 QR ...). We record it — it tells GS1 element strings from plain
codes — and strip it from the data.
"""

from __future__ import annotations

_FAMILIES = {
    "A": "Code 39",
    "C": "Code 128",
    "d": "Data Matrix",
    "E": "EAN/UPC",
    "e": "GS1 DataBar",
    "F": "Codabar",
    "G": "Code 93",
    "H": "Code 11",
    "I": "Interleaved 2 of 5",
    "L": "PDF417",
    "M": "MSI",
    "Q": "QR Code",
    "R": "Straight 2 of 5",
    "S": "Straight 2 of 5",
    "X": "other",
    "z": "Aztec",
}
_SPECIFIC = {
    "]C1": "GS1-128",
    "]E0": "EAN-13 / UPC-A / UPC-E",
    "]E1": "EAN-13 + 2-digit add-on",
    "]E2": "EAN-13 + 5-digit add-on",
    "]E3": "EAN-13 / UPC with add-on",
    "]E4": "EAN-8",
    "]d2": "GS1 DataMatrix",
    "]Q3": "GS1 QR Code",
    "]e0": "GS1 DataBar",
    "]J1": "GS1 DotCode",
}
#: identifiers whose data is a GS1 element string
GS1_IDENTIFIERS = frozenset({"]C1", "]d2", "]Q3", "]e0", "]J1"})


def split_aim(code: str) -> tuple[str | None, str]:
    """(`]Cm` or None, the data without it)."""
    if len(code) >= 3 and code[0] == "]" and code[1] in _FAMILIES and code[2].isalnum():
        return code[:3], code[3:]
    return None, code


def symbology_name(identifier: str | None) -> str | None:
    if identifier is None:
        return None
    return _SPECIFIC.get(identifier) or _FAMILIES.get(identifier[1:2])
