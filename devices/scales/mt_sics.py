"""MT-SICS (Mettler Toledo Standard Interface Command Set, level 0/1; also KERN KCP).

Framing: ASCII lines terminated by CR LF, in both directions. A reply starts with the
command's id and a status letter::

    S S     100.00 g      stable weight          S D ... dynamic (unstable) weight
    S I                   not executable         S + / S -  overload / underload
    Z A / ZI D / ZI S     zeroed                 Z I, Z +, Z -  refused / range exceeded
    T S 0.100 kg          tared (tare value)     TA A 0.100 kg  tare value, TAC A cleared
    I4 A "0123456789"     serial number (also sent unsolicited at power-on, after @)
    ES / ET / EL          syntax / transmission / logical error

A lone CR or LF is tolerated. Lines longer than 128 bytes are dropped as garbled.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import ClassVar

from devices.lines import LineSplitter
from devices.scales.base import ScaleProtocol, parse_text_lines
from devices.scales.events import Ack, Command, ErrorKind, Reading, ScaleError, ScaleEvent
from devices.transport import SerialSettings
from devices.units import normalize_unit

_COMMANDS: dict[Command, str] = {
    Command.WEIGH: "SI",
    Command.WEIGH_STABLE: "S",
    Command.ZERO: "Z",
    Command.ZERO_NOW: "ZI",
    Command.TARE: "T",
    Command.QUERY_TARE: "TA",
    Command.CLEAR_TARE: "TAC",
    Command.IDENTIFY: "I4",
    Command.RESET: "@",
}
# Which reply id answers which command ("SI" and "S" both answer with "S").
_REPLY_ID: dict[Command, str] = {
    Command.WEIGH: "S",
    Command.WEIGH_STABLE: "S",
    Command.ZERO: "Z",
    Command.ZERO_NOW: "ZI",
    Command.TARE: "T",
    Command.QUERY_TARE: "TA",
    Command.CLEAR_TARE: "TAC",
    Command.IDENTIFY: "I4",
    Command.RESET: "I4",
}
_GENERIC = {
    "ES": (ErrorKind.SYNTAX, "ES: command not understood"),
    "ET": (ErrorKind.TRANSMISSION, "ET: transmission error (parity or break)"),
    "EL": (ErrorKind.LOGICAL, "EL: logical error, command cannot be executed"),
}
_MAX_LINE = 128


class MtSics(ScaleProtocol):
    name: ClassVar[str] = "mt-sics"
    default_settings: ClassVar[SerialSettings] = SerialSettings(9600, 8, "N", 1)

    def __init__(self) -> None:
        self._lines = LineSplitter(b"\n", _MAX_LINE)

    def encode(self, command: Command) -> bytes | None:
        text = _COMMANDS.get(command)
        return None if text is None else text.encode("ascii") + b"\r\n"

    def feed(self, data: bytes) -> list[ScaleEvent]:
        return parse_text_lines(self._lines, data, parse_line)

    def reply(self, command: Command, event: ScaleEvent) -> ScaleEvent | None:
        source = getattr(event, "source", None)
        if isinstance(event, ScaleError):
            if event.kind is ErrorKind.GARBLED:
                return event  # a corrupted line: most likely our reply
            # generic ES/ET/EL answer any command; others must carry the right id
            if event.source in _GENERIC or event.source == _REPLY_ID.get(command):
                return event
            return None
        if isinstance(event, Reading):
            return event if _REPLY_ID.get(command) == "S" else None
        if source == _REPLY_ID.get(command):
            return event
        return None  # e.g. the unsolicited I4 at power-on


def parse_line(line: bytes) -> ScaleEvent:
    """Parse one MT-SICS line (without CR LF)."""
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        return ScaleError(ErrorKind.GARBLED, "non-ASCII bytes in MT-SICS reply", line)
    if text in _GENERIC:
        kind, detail = _GENERIC[text]
        return ScaleError(kind, detail, line, source=text)
    parts = text.split(None, 2)
    if len(parts) < 2:
        return ScaleError(ErrorKind.GARBLED, f"unrecognised MT-SICS reply {text!r}", line)
    rid, status, rest = parts[0], parts[1], (parts[2] if len(parts) > 2 else "")
    if rid == "S":
        return _weight_reply(status, rest, line)
    if rid in ("Z", "ZI", "T", "TA", "TAC", "I4"):
        return _ack_reply(rid, status, rest, line)
    return ScaleError(ErrorKind.GARBLED, f"unrecognised MT-SICS reply {text!r}", line)


def _status_error(rid: str, status: str, line: bytes) -> ScaleError | None:
    what = {
        "I": (ErrorKind.NOT_EXECUTABLE, "command not executable"),
        "+": (ErrorKind.OVERLOAD, "upper limit exceeded"),
        "-": (ErrorKind.UNDERLOAD, "lower limit exceeded"),
        "L": (ErrorKind.LOGICAL, "parameter not allowed"),
    }.get(status)
    if what is None:
        return None
    return ScaleError(what[0], f"{rid} {status}: {what[1]}", line, source=rid)


def _weight_reply(status: str, rest: str, line: bytes) -> ScaleEvent:
    err = _status_error("S", status, line)
    if err is not None:
        return err
    if status not in ("S", "D"):
        return ScaleError(ErrorKind.GARBLED, f"S with unknown status {status!r}", line)
    value = _value_unit(rest)
    if value is None:
        return ScaleError(ErrorKind.GARBLED, f"S {status}: unreadable weight {rest!r}", line)
    weight, unit = value
    return Reading(weight, unit, stable=status == "S", net=False, raw=line)


def _ack_reply(rid: str, status: str, rest: str, line: bytes) -> ScaleEvent:
    err = _status_error(rid, status, line)
    if err is not None:
        return err
    ok = {"Z": {"A"}, "ZI": {"S", "D"}, "T": {"S"}, "TA": {"A"}, "TAC": {"A"}, "I4": {"A"}}[rid]
    if status not in ok:
        return ScaleError(ErrorKind.GARBLED, f"{rid} with unknown status {status!r}", line)
    if rid == "I4":
        return Ack("I4", detail=rest.strip().strip('"'), raw=line)
    if rid in ("T", "TA"):
        value = _value_unit(rest)
        if value is None:
            return ScaleError(ErrorKind.GARBLED, f"{rid}: unreadable tare {rest!r}", line)
        return Ack(rid, value[0], value[1], raw=line)
    detail = "zeroed while unstable" if (rid, status) == ("ZI", "D") else ""
    return Ack(rid, detail=detail, raw=line)


def _value_unit(rest: str) -> tuple[Decimal, str] | None:
    parts = rest.split()
    if len(parts) != 2:
        return None
    try:
        value = Decimal(parts[0])
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return value, normalize_unit(parts[1])
