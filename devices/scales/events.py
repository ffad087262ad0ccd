"""What scale parsers emit and sessions return: readings, acknowledgements and error values.

Errors are values (`ScaleError`), never exceptions: a till must keep running when a scale
reports overload or a cable picks up noise.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from devices.units import to_milli


class Command(enum.StrEnum):
    """Protocol-neutral commands; each protocol encodes the ones it supports."""

    WEIGH = "weigh"  # current weight now, stable or not (MT-SICS SI, 8217 W, A&D Q)
    WEIGH_STABLE = "weigh_stable"  # next stable weight (MT-SICS S, A&D S)
    ZERO = "zero"
    ZERO_NOW = "zero_now"
    TARE = "tare"
    CLEAR_TARE = "clear_tare"
    QUERY_TARE = "query_tare"
    IDENTIFY = "identify"  # MT-SICS I4 serial number
    RESET = "reset"  # MT-SICS @
    PROBE = "probe"  # 8217: enter echo mode (auto-detection)
    END_PROBE = "end_probe"  # 8217: leave echo mode


class ErrorKind(enum.StrEnum):
    OVERLOAD = "overload"
    UNDERLOAD = "underload"
    MOTION = "motion"
    TIMEOUT = "timeout"
    SYNTAX = "syntax"
    TRANSMISSION = "transmission"
    LOGICAL = "logical"
    NOT_EXECUTABLE = "not_executable"  # MT-SICS "I": busy or not possible right now
    GARBLED = "garbled"  # our parser could not make sense of the bytes
    DISCONNECTED = "disconnected"
    UNSUPPORTED = "unsupported"  # this protocol has no such command


_ERROR_TEXT = {
    ErrorKind.OVERLOAD: "scale overloaded: remove weight",
    ErrorKind.UNDERLOAD: "scale under zero: clear the platter and zero it",
    ErrorKind.MOTION: "weight not stable: wait until the item stops moving",
    ErrorKind.TIMEOUT: "no answer from the scale in time: check cable, power and settings",
    ErrorKind.SYNTAX: "scale did not understand the command: check the protocol setting",
    ErrorKind.TRANSMISSION: "scale saw a transmission error: check baud rate and parity",
    ErrorKind.LOGICAL: "scale refused the command or its parameter",
    ErrorKind.NOT_EXECUTABLE: "scale cannot do that right now (busy or not stable)",
    ErrorKind.GARBLED: "unreadable data from the scale: check baud rate, parity and protocol",
    ErrorKind.DISCONNECTED: "scale disconnected: check the cable; reconnecting",
    ErrorKind.UNSUPPORTED: "this scale protocol has no such command",
}


@dataclass(frozen=True, slots=True)
class Reading:
    """One weight as the scale reported it; `stable` is the scale's own flag."""

    weight: Decimal
    unit: str
    stable: bool
    net: bool = False
    raw: bytes = field(default=b"", compare=False, repr=False)

    def to_milli(self, base_unit: str = "kg", *, rounding: str | None = None) -> int:
        """Weight as integer milli-units of the product's base unit; see `devices.units`."""
        return to_milli(self.weight, self.unit, base_unit, rounding=rounding)

    def as_dict(self) -> dict[str, Any]:
        return {
            "weight": str(self.weight),
            "unit": self.unit,
            "stable": self.stable,
            "net": self.net,
        }


@dataclass(frozen=True, slots=True)
class ScaleError:
    """An error as a value. `detail` says what the scale sent; `message` what to do."""

    kind: ErrorKind
    detail: str = ""
    raw: bytes = field(default=b"", compare=False, repr=False)
    #: reply id the error came with ("S", "Z", "ES", ...), so sessions can match it
    source: str = field(default="", kw_only=True)

    @property
    def message(self) -> str:
        base = _ERROR_TEXT[self.kind]
        return f"{base} ({self.detail})" if self.detail else base

    def as_dict(self) -> dict[str, Any]:
        return {"error": str(self.kind), "detail": self.detail, "message": self.message}


@dataclass(frozen=True, slots=True)
class Ack:
    """A command was accepted. `source` is the reply id (e.g. "Z", "T", "ACK")."""

    source: str
    value: Decimal | None = None
    unit: str | None = None
    detail: str = ""
    raw: bytes = field(default=b"", compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"ok": True, "reply": self.source}
        if self.value is not None:
            d["value"], d["unit"] = str(self.value), self.unit
        if self.detail:
            d["detail"] = self.detail
        return d


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A Toledo-style status byte, decoded (bit 7 is parity and is ignored)."""

    motion: bool
    over_capacity: bool
    under_zero: bool
    outside_zero_range: bool
    center_of_zero: bool
    net: bool
    byte: int
    raw: bytes = field(default=b"", compare=False, repr=False)

    @property
    def error(self) -> ScaleError | None:
        """The most important problem this status reports, if any."""
        if self.over_capacity:
            return ScaleError(ErrorKind.OVERLOAD, f"status 0x{self.byte:02X}", self.raw)
        if self.under_zero:
            return ScaleError(ErrorKind.UNDERLOAD, f"status 0x{self.byte:02X}", self.raw)
        if self.motion:
            return ScaleError(ErrorKind.MOTION, f"status 0x{self.byte:02X}", self.raw)
        return None


@dataclass(frozen=True, slots=True)
class Echo:
    """Toledo echo-mode handshake reply (`STX E CR` / `STX F CR`)."""

    char: str
    raw: bytes = field(default=b"", compare=False, repr=False)


ScaleEvent = Reading | ScaleError | Ack | StatusReport | Echo
