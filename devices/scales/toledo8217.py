"""Mettler Toledo 8217 ("Toledo" / ECR) protocol, as spoken by checkout scanner-scales.

Line settings: 9600 baud, 7 data bits, even parity, 1 stop bit (7E1). Host commands are
single ASCII characters; replies are framed `STX ... CR`::

    W      -> STX 01.234 CR        weight (kg: WW.WWW; lb: 0WW.WW), "N" appended when net
           -> STX ? <status> CR    instead, when in motion, under zero or over capacity
    Z      -> STX ? <status> CR    zero; center-of-zero bit set if it worked
    T CR   -> STX ? <status> CR    tare; net bit set if it worked
    C      -> STX ? <status> CR    clear tare
    E      -> STX E CR             enter echo mode (used to auto-detect the scale)
    F      -> STX F CR             leave echo mode
    other  -> STX ? <status> CR    unrecognised command

Status byte: bit0 motion, bit1 over capacity, bit2 under zero, bit3 outside zero capture
range, bit4 center of zero, bit5 net weight, bit6 always 1, bit7 even parity. The weight
carries no unit, so the session is told which unit the scale is set to. Every byte is
masked to 7 bits, so a port mistakenly opened as 8N1 still parses.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import ClassVar

from devices.scales.base import ScaleProtocol, is_noise
from devices.scales.events import (
    Ack,
    Command,
    Echo,
    ErrorKind,
    Reading,
    ScaleError,
    ScaleEvent,
    StatusReport,
)
from devices.transport import SerialSettings
from devices.units import normalize_unit

STX = 0x02
CR = 0x0D
_MAX_FRAME = 16
_MAX_NOISE = 64
_WEIGHT = re.compile(rb" *([0-9]{0,4}\.[0-9]{1,4}|[0-9]{1,6})(N?)")

_COMMANDS: dict[Command, bytes] = {
    Command.WEIGH: b"W",
    Command.WEIGH_STABLE: b"W",  # the 8217 only ever sends stable weight
    Command.ZERO: b"Z",
    Command.TARE: b"T\r",
    Command.CLEAR_TARE: b"C",
    Command.PROBE: b"E",
    Command.END_PROBE: b"F",
}


def decode_status(byte: int, raw: bytes = b"") -> StatusReport:
    b = byte & 0x7F
    return StatusReport(
        motion=bool(b & 0x01),
        over_capacity=bool(b & 0x02),
        under_zero=bool(b & 0x04),
        outside_zero_range=bool(b & 0x08),
        center_of_zero=bool(b & 0x10),
        net=bool(b & 0x20),
        byte=b,
        raw=raw,
    )


def encode_status(
    *,
    motion: bool = False,
    over_capacity: bool = False,
    under_zero: bool = False,
    outside_zero_range: bool = False,
    center_of_zero: bool = False,
    net: bool = False,
) -> int:
    """The 7-bit status byte (the UART adds the parity bit on a real 7E1 line)."""
    return (
        0x40
        | motion
        | over_capacity << 1
        | under_zero << 2
        | outside_zero_range << 3
        | center_of_zero << 4
        | net << 5
    )


class Toledo8217(ScaleProtocol):
    name: ClassVar[str] = "toledo8217"
    default_settings: ClassVar[SerialSettings] = SerialSettings(9600, 7, "E", 1)

    def __init__(self, unit: str = "kg") -> None:
        self.unit = normalize_unit(unit)
        self._frame: bytearray | None = None  # None: between frames
        self._noise = bytearray()

    def encode(self, command: Command) -> bytes | None:
        return _COMMANDS.get(command)

    def feed(self, data: bytes) -> list[ScaleEvent]:
        events: list[ScaleEvent] = []
        for raw_byte in data:
            b = raw_byte & 0x7F
            if b == STX:
                self._flush_noise(events)
                if self._frame is not None:
                    events.append(
                        ScaleError(
                            ErrorKind.GARBLED,
                            "frame restarted before CR",
                            bytes([STX]) + bytes(self._frame),
                        )
                    )
                self._frame = bytearray()
            elif self._frame is None:
                self._noise.append(b)
                if len(self._noise) >= _MAX_NOISE:
                    self._flush_noise(events)
            elif b == CR:
                events.append(self._parse(bytes(self._frame)))
                self._frame = None
            else:
                self._frame.append(b)
                if len(self._frame) > _MAX_FRAME:
                    events.append(
                        ScaleError(
                            ErrorKind.GARBLED, "frame too long", bytes([STX]) + bytes(self._frame)
                        )
                    )
                    self._frame = None
        return events

    def _flush_noise(self, events: list[ScaleEvent]) -> None:
        if self._noise:
            events.append(
                ScaleError(
                    ErrorKind.GARBLED, "bytes outside a frame", bytes(self._noise), source="noise"
                )
            )
            self._noise.clear()

    def _parse(self, body: bytes) -> ScaleEvent:
        raw = bytes([STX]) + body + bytes([CR])
        if body in (b"E", b"F"):
            return Echo(body.decode(), raw)
        if body == b"":
            return Ack("STX", detail="command received", raw=raw)
        if body[:1] == b"?":
            if len(body) == 2:
                return decode_status(body[1], raw)
            return ScaleError(ErrorKind.SYNTAX, "unrecognised command ('?' reply)", raw)
        m = _WEIGHT.fullmatch(body)
        if m is None:
            return ScaleError(ErrorKind.GARBLED, f"unreadable 8217 frame {body!r}", raw)
        return Reading(
            Decimal(m.group(1).decode()), self.unit, stable=True, net=m.group(2) == b"N", raw=raw
        )

    def reply(self, command: Command, event: ScaleEvent) -> ScaleEvent | None:
        if isinstance(event, ScaleError):
            return None if is_noise(event) else event
        if isinstance(event, Echo):
            want = {Command.PROBE: "E", Command.END_PROBE: "F"}.get(command)
            return Ack(event.char, raw=event.raw) if event.char == want else None
        if isinstance(event, Reading):
            return event if command in (Command.WEIGH, Command.WEIGH_STABLE) else None
        if isinstance(event, StatusReport):
            return _status_reply(command, event)
        return None


def _status_reply(command: Command, st: StatusReport) -> ScaleEvent | None:
    detail = f"status 0x{st.byte:02X}"
    if command in (Command.WEIGH, Command.WEIGH_STABLE):
        if st.error is not None:
            return st.error
        return ScaleError(
            ErrorKind.NOT_EXECUTABLE,
            f"no weight sent ({_describe(st)}, {detail})",
            st.raw,
            source="?",
        )
    if command is Command.ZERO:
        if st.error is not None:
            return st.error
        if st.center_of_zero:
            return Ack("Z", detail=detail, raw=st.raw)
        return ScaleError(
            ErrorKind.NOT_EXECUTABLE,
            f"zero refused ({_describe(st)}, {detail})",
            st.raw,
            source="?",
        )
    if command is Command.TARE:
        if st.error is not None:
            return st.error
        if st.net:
            return Ack("T", detail=detail, raw=st.raw)
        return ScaleError(
            ErrorKind.NOT_EXECUTABLE,
            f"tare refused (tare needs a stable, non-zero weight, {detail})",
            st.raw,
            source="?",
        )
    if command is Command.CLEAR_TARE:
        if st.motion:
            return st.error
        if not st.net:
            return Ack("C", detail=detail, raw=st.raw)
        return ScaleError(
            ErrorKind.NOT_EXECUTABLE, f"tare not cleared ({detail})", st.raw, source="?"
        )
    return None


def _describe(st: StatusReport) -> str:
    flags = [
        name
        for name, on in (
            ("motion", st.motion),
            ("over capacity", st.over_capacity),
            ("under zero", st.under_zero),
            ("outside zero capture range", st.outside_zero_range),
            ("center of zero", st.center_of_zero),
            ("net", st.net),
        )
        if on
    ]
    return ", ".join(flags) or "no flags"
