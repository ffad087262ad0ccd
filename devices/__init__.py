"""Serial barcode scanners and weighing scales for the till. Standalone: imports nothing from
node, hub, kucun or protocol.

The names below are loaded on first use, so `import devices` (and the `kucun` CLI, which
registers `devices.cli`) stays fast; see docs/devices.md for the full guide.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: The scale protocols, by the names every command line offers (`--protocol`,
#: `--scale-protocol`): the one list, here so that listing them imports no parser.
#: `devices.scales.PROTOCOLS` maps the same names to the parsers.
PROTOCOL_NAMES = ("mt-sics", "toledo8217", "ad", "cas")

_EXPORTS = {
    # scales
    "ScaleSession": "devices.scales.session",
    "Reading": "devices.scales.events",
    "ScaleError": "devices.scales.events",
    "ErrorKind": "devices.scales.events",
    "Ack": "devices.scales.events",
    "Command": "devices.scales.events",
    "PROTOCOLS": "devices.scales",
    "make_protocol": "devices.scales",
    # scanners
    "ScannerReader": "devices.scanner.reader",
    "ScanDecoder": "devices.scanner.framing",
    "Scan": "devices.scanner.framing",
    "ScanError": "devices.scanner.framing",
    "WedgeDetector": "devices.scanner.wedge",
    "WedgeResult": "devices.scanner.wedge",
    # barcodes
    "interpret": "devices.barcodes.interpret",
    "BarcodeResult": "devices.barcodes.interpret",
    "BarcodeKind": "devices.barcodes.interpret",
    "VariableMeasurePattern": "devices.barcodes.patterns",
    "DEFAULT_PATTERNS": "devices.barcodes.patterns",
    "parse_patterns": "devices.barcodes.patterns",
    # plumbing
    "PortState": "devices.port",
    "Backoff": "devices.port",
    "SerialSettings": "devices.transport",
    "UnitError": "devices.units",
}

__all__ = [
    "DEFAULT_PATTERNS",
    "PROTOCOLS",
    "PROTOCOL_NAMES",
    "Ack",
    "Backoff",
    "BarcodeKind",
    "BarcodeResult",
    "Command",
    "ErrorKind",
    "PortState",
    "Reading",
    "ScaleError",
    "ScaleSession",
    "Scan",
    "ScanDecoder",
    "ScanError",
    "ScannerReader",
    "SerialSettings",
    "UnitError",
    "VariableMeasurePattern",
    "WedgeDetector",
    "WedgeResult",
    "interpret",
    "make_protocol",
    "parse_patterns",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'devices' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from devices.barcodes.interpret import BarcodeKind, BarcodeResult, interpret
    from devices.barcodes.patterns import DEFAULT_PATTERNS, VariableMeasurePattern, parse_patterns
    from devices.port import Backoff, PortState
    from devices.scales import PROTOCOLS, make_protocol
    from devices.scales.events import Ack, Command, ErrorKind, Reading, ScaleError
    from devices.scales.session import ScaleSession
    from devices.scanner.framing import Scan, ScanDecoder, ScanError
    from devices.scanner.reader import ScannerReader
    from devices.scanner.wedge import WedgeDetector, WedgeResult
    from devices.transport import SerialSettings
    from devices.units import UnitError
