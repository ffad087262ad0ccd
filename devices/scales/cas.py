"""CAS indicators' continuous "22 byte" format (CI-series, NT-200, PDI, Caston).

Line settings: 9600 baud, 8N1 by default. The indicator streams, unasked::

    ST,GS,<id><lamp>,<8 bytes weight> kg<CR><LF>       22 bytes

header 1: ST stable, US unstable, OL overload; header 2: GS gross, NT net; `id` is the
device number ('1' = 31h); `lamp` is a status byte (bit7 1, bit6 stable, bit4 hold,
bit3 print, bit2 gross, bit1 tare, bit0 zero) and can be any byte >= 80h; the weight is
8 ASCII bytes such as `0001.234` or `  -0.500`; the unit is 2 bytes (`kg`, ` g`, ` t`,
`lb`). Some manuals print the frame without the comma after the lamp byte (21 bytes):
both are accepted. Framing anchors on the header rather than on CR LF because the lamp
byte is binary.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from devices.scales.base import ScaleProtocol
from devices.scales.events import Command, ErrorKind, Reading, ScaleError, ScaleEvent
from devices.transport import SerialSettings
from devices.units import normalize_unit

_HEADER = re.compile(rb"(ST|US|OL),(GS|NT),")
_LONG, _SHORT = 22, 21
_CRLF = b"\r\n"
_MAX_NOISE = 64


class CasContinuous(ScaleProtocol):
    name: ClassVar[str] = "cas"
    continuous: ClassVar[bool] = True
    default_settings: ClassVar[SerialSettings] = SerialSettings(9600, 8, "N", 1)

    def __init__(self) -> None:
        self._buf = bytearray()
        self._noise = bytearray()  # bytes that can no longer start a frame

    def encode(self, command: Command) -> bytes | None:
        return None  # streaming only; zero and tare are done on the indicator's keys

    def feed(self, data: bytes) -> list[ScaleEvent]:
        self._buf += data
        events: list[ScaleEvent] = []
        while True:
            m = _HEADER.search(self._buf)
            if m is None:
                # a header is 6 bytes, so only the last 5 may still start one
                self._to_noise(len(self._buf) - 5, events)
                return events
            self._to_noise(m.start(), events)
            self._flush_noise(events)
            if len(self._buf) < _SHORT:
                return events
            if self._buf[_SHORT - 2 : _SHORT] == _CRLF:
                size = _SHORT
            elif len(self._buf) < _LONG:
                return events
            elif self._buf[_LONG - 2 : _LONG] == _CRLF:
                size = _LONG
            else:
                # a header without a proper frame: drop the header and resynchronise
                events.append(
                    ScaleError(ErrorKind.GARBLED, "broken CAS frame", bytes(self._buf[:_LONG]))
                )
                del self._buf[:6]
                continue
            frame = bytes(self._buf[:size])
            del self._buf[:size]
            events.append(parse_frame(frame))

    def _to_noise(self, count: int, events: list[ScaleEvent]) -> None:
        if count <= 0:
            return
        self._noise += self._buf[:count]
        del self._buf[:count]
        while len(self._noise) >= _MAX_NOISE:
            chunk = bytes(self._noise[:_MAX_NOISE])
            del self._noise[:_MAX_NOISE]
            self._emit_noise(chunk, events)

    def _flush_noise(self, events: list[ScaleEvent]) -> None:
        chunk = bytes(self._noise)
        self._noise.clear()
        self._emit_noise(chunk, events)

    @staticmethod
    def _emit_noise(chunk: bytes, events: list[ScaleEvent]) -> None:
        if chunk.strip(b"\r\n \x00"):
            events.append(
                ScaleError(ErrorKind.GARBLED, "bytes outside a frame", chunk, source="noise")
            )


def parse_frame(frame: bytes) -> ScaleEvent:
    """Parse one complete 21- or 22-byte frame including CR LF."""
    header, mode = frame[0:2], frame[3:5]
    body = frame[9:-2] if len(frame) == _LONG else frame[8:-2]
    weight, unit = body[:8], body[8:]
    if header == b"OL":
        under = weight.strip().startswith(b"-")
        kind = ErrorKind.UNDERLOAD if under else ErrorKind.OVERLOAD
        return ScaleError(kind, "OL: out of range", frame, source="OL")
    try:
        value = Decimal(weight.replace(b" ", b"").decode("ascii"))
        unit_text = unit.decode("ascii").strip()
    except (InvalidOperation, UnicodeDecodeError):
        return ScaleError(ErrorKind.GARBLED, f"unreadable CAS weight {weight!r}", frame)
    if not value.is_finite() or not unit_text:
        return ScaleError(ErrorKind.GARBLED, f"unreadable CAS weight {weight!r}", frame)
    return Reading(
        value, normalize_unit(unit_text), stable=header == b"ST", net=mode == b"NT", raw=frame
    )


def lamp_byte(*, stable: bool, net: bool, zero: bool) -> int:
    """The lamp/status byte as an indicator would send it."""
    return 0x80 | stable << 6 | (not net) << 2 | net << 1 | zero
