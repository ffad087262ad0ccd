"""A&D standard format (balances FX/GX/GF/EK, indicators AD-43xx), stream or command mode.

Typical line settings: 2400 baud, 7 data bits, even parity, 1 stop bit (7E1). Frames are
ASCII lines ending CR LF; the balance form is 17 bytes::

    ST,+0001.234  kg<CR><LF>     header, comma, sign + 8 chars (digits, decimal point),
                                 3-char unit (right aligned), terminator

Headers: ST stable, US unstable, QT stable count ("PC" unit), OL out of range (the sign of
the data says over or under). Indicators add a second header — `ST,GS,+001.234 kg`
with GS gross / NT net / TR tare — and balances with a comparator add LO/OK/HI/--; both
are accepted. Commands (CR LF terminated): Q weight now, S next stable weight, Z zero,
T tare. The balance acknowledges Z/T with a lone ACK byte (06h) and reports errors as
`EC,Exx`: E0 communication, E1 undefined command, E2 not ready, E3 timeout, E4 excess
characters, E6 format, E7 parameter out of range.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from devices.lines import LineSplitter
from devices.scales.base import ScaleProtocol, parse_text_lines
from devices.scales.events import Ack, Command, ErrorKind, Reading, ScaleError, ScaleEvent
from devices.transport import SerialSettings
from devices.units import normalize_unit

ACK = 0x06
_MAX_LINE = 64
_FRAME = re.compile(r"(ST|US|OL|QT)(?:,(GS|NT|TR|LO|OK|HI|--))?,(.*)")
_VALUE = re.compile(r"\s*([+-]?)\s*([0-9]+\.?[0-9]*|\.[0-9]+)\s*([A-Za-z%]{0,3})\s*")
_EC: dict[str, tuple[ErrorKind, str]] = {
    "E0": (ErrorKind.TRANSMISSION, "EC,E0: communication error (parity/framing)"),
    "E1": (ErrorKind.SYNTAX, "EC,E1: undefined command"),
    "E2": (ErrorKind.NOT_EXECUTABLE, "EC,E2: not ready"),
    "E3": (ErrorKind.TIMEOUT, "EC,E3: timeout inside the balance"),
    "E4": (ErrorKind.SYNTAX, "EC,E4: excess characters"),
    "E6": (ErrorKind.SYNTAX, "EC,E6: format error"),
    "E7": (ErrorKind.LOGICAL, "EC,E7: parameter out of range"),
}
_COMMANDS: dict[Command, bytes] = {
    Command.WEIGH: b"Q\r\n",
    Command.WEIGH_STABLE: b"S\r\n",
    Command.ZERO: b"Z\r\n",
    Command.TARE: b"T\r\n",
}


class AndStandard(ScaleProtocol):
    name: ClassVar[str] = "ad"
    default_settings: ClassVar[SerialSettings] = SerialSettings(2400, 7, "E", 1)

    def __init__(self) -> None:
        self._lines = LineSplitter(b"\n", _MAX_LINE)

    def encode(self, command: Command) -> bytes | None:
        return _COMMANDS.get(command)

    def feed(self, data: bytes) -> list[ScaleEvent]:
        events: list[ScaleEvent] = []
        parts = data.split(bytes([ACK]))
        for i, part in enumerate(parts):
            if i:
                events.append(Ack("ACK", raw=bytes([ACK])))
            events += parse_text_lines(self._lines, part, parse_line)
        return events

    def reply(self, command: Command, event: ScaleEvent) -> ScaleEvent | None:
        if isinstance(event, ScaleError):
            return event  # including a corrupted line: most likely our reply
        if isinstance(event, Reading):
            return event if command in (Command.WEIGH, Command.WEIGH_STABLE) else None
        if isinstance(event, Ack) and event.source == "ACK":
            return event if command in (Command.ZERO, Command.TARE) else None
        return None


def parse_line(line: bytes) -> ScaleEvent:
    """Parse one A&D line (without CR LF)."""
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        return ScaleError(ErrorKind.GARBLED, "non-ASCII bytes in A&D frame", line)
    if text.startswith("EC,"):
        code = text[3:].strip()
        kind, detail = _EC.get(code, (ErrorKind.LOGICAL, f"EC,{code}: unknown error code"))
        return ScaleError(kind, detail, line, source="EC")
    m = _FRAME.fullmatch(text)
    if m is None:
        return ScaleError(ErrorKind.GARBLED, f"unrecognised A&D frame {text!r}", line)
    header, header2, rest = m.groups()
    if header == "OL":
        under = rest.strip().startswith("-")
        kind = ErrorKind.UNDERLOAD if under else ErrorKind.OVERLOAD
        return ScaleError(kind, f"OL: out of range ({'-' if under else '+'})", line, source="OL")
    v = _VALUE.fullmatch(rest)
    if v is None:
        return ScaleError(ErrorKind.GARBLED, f"unreadable A&D weight {rest!r}", line)
    sign, digits, unit = v.groups()
    try:
        value = Decimal(sign + digits)
    except InvalidOperation:
        return ScaleError(ErrorKind.GARBLED, f"unreadable A&D weight {rest!r}", line)
    if header2 == "TR":
        return Ack("TR", value, normalize_unit(unit), detail="tare value", raw=line)
    if header == "QT" or unit.upper() == "PC":
        unit = "pcs"
    return Reading(
        value, normalize_unit(unit), stable=header in ("ST", "QT"), net=header2 == "NT", raw=line
    )
