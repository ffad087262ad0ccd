"""Barcode interpretation: GTIN / UPC-E / GS1 element strings (via biip) and in-store patterns."""

from devices.barcodes.interpret import BarcodeKind, BarcodeResult, interpret
from devices.barcodes.patterns import (
    DEFAULT_PATTERNS,
    PatternError,
    PatternMatch,
    VariableMeasurePattern,
    parse_patterns,
)

__all__ = [
    "DEFAULT_PATTERNS",
    "BarcodeKind",
    "BarcodeResult",
    "PatternError",
    "PatternMatch",
    "VariableMeasurePattern",
    "interpret",
    "parse_patterns",
]
