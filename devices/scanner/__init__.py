"""Barcode scanners: serial framing (sans-IO), a serial reader, and keyboard-wedge detection."""

from devices.scanner.aim import GS1_IDENTIFIERS, split_aim, symbology_name
from devices.scanner.dedup import RepeatFilter
from devices.scanner.framing import (
    GS,
    Scan,
    ScanDecoder,
    ScanError,
    ScanEvent,
    decode_text,
    escape,
    unescape,
)
from devices.scanner.wedge import WedgeDetector, WedgeResult, is_scanner_burst

__all__ = [
    "GS",
    "GS1_IDENTIFIERS",
    "RepeatFilter",
    "Scan",
    "ScanDecoder",
    "ScanError",
    "ScanEvent",
    "WedgeDetector",
    "WedgeResult",
    "decode_text",
    "escape",
    "is_scanner_burst",
    "split_aim",
    "symbology_name",
    "unescape",
]
