"""Simulated scales: a weighing model plus the device side of each protocol (sans-IO).

`ScaleModel` is the physics (load, zero, tare, stability, capacity). Each `*Device` turns
received bytes into the reply bytes a real scale of that kind would send, and continuous
devices produce a frame on every `tick()`. The pty plumbing lives in `devices.sim.serve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from devices.lines import LineSplitter, Overflow
from devices.scales.cas import lamp_byte
from devices.scales.toledo8217 import CR, STX, encode_status

Outcome = Literal["ok", "motion", "overload", "underload", "range", "tared", "empty"]


@dataclass
class ScaleModel:
    load: Decimal = Decimal(0)  # what lies on the platter
    unit: str = "kg"
    stable: bool = True
    capacity: Decimal = Decimal(30)
    decimals: int = 3
    forced: str | None = None  # "overload" / "underload" set from the control channel
    zero_offset: Decimal = Decimal(0)
    tare: Decimal = Decimal(0)
    serial_number: str = "SIM0001"
    weigh_requests: int = 0  # weight commands received: lets tests count polls

    @property
    def gross(self) -> Decimal:
        return self.load - self.zero_offset

    @property
    def net(self) -> bool:
        return self.tare != 0

    @property
    def displayed(self) -> Decimal:
        return self.gross - self.tare

    @property
    def overload(self) -> bool:
        return self.forced == "overload" or self.gross > self.capacity

    @property
    def underload(self) -> bool:
        return self.forced == "underload" or self.gross < -self.zero_range

    @property
    def zero_range(self) -> Decimal:
        return self.capacity * Decimal("0.02")

    @property
    def center_of_zero(self) -> bool:
        return abs(self.displayed) < Decimal(1).scaleb(-self.decimals) / 4

    def fmt(self, value: Decimal) -> str:
        return f"{value:.{self.decimals}f}"

    def limit(self) -> Outcome | None:
        """'overload' / 'underload' when out of range, else None."""
        if self.overload:
            return "overload"
        if self.underload:
            return "underload"
        return None

    def zero(self, *, wait_stable: bool = True) -> Outcome:
        if (bad := self.limit()) is not None:
            return bad
        if wait_stable and not self.stable:
            return "motion"
        if self.net:
            return "tared"
        if abs(self.gross) > self.zero_range:
            return "range"
        self.zero_offset += self.gross
        return "ok"

    def do_tare(self) -> Outcome:
        if (bad := self.limit()) is not None:
            return bad
        if not self.stable:
            return "motion"
        if self.gross <= 0:
            return "empty"
        self.tare = self.gross
        return "ok"

    def clear_tare(self) -> Outcome:
        if not self.stable:
            return "motion"
        self.tare = Decimal(0)
        return "ok"


class MtSicsDevice:
    """Answers MT-SICS commands; says `I4 A "<serial>"` at power-on like a real balance."""

    continuous = False

    def __init__(self, model: ScaleModel) -> None:
        self.model = model
        self._lines = LineSplitter(b"\n", 128)

    def greeting(self) -> bytes:
        return self._line(f'I4 A "{self.model.serial_number}"')

    def tick(self) -> bytes:
        return b""

    @staticmethod
    def _line(text: str) -> bytes:
        return text.encode("ascii") + b"\r\n"

    def _weight(self, status: str) -> str:
        m = self.model
        return f"S {status} {m.fmt(m.displayed):>10} {m.unit}"

    def handle(self, data: bytes) -> bytes:
        out = bytearray()
        for item in self._lines.feed(data):
            if isinstance(item, Overflow):
                out += self._line("ES")
                continue
            text = item.decode("ascii", "replace").strip()
            if text:
                out += self._line(self._answer(text))
        return bytes(out)

    def _answer(self, text: str) -> str:
        m = self.model
        cmd, _, arg = text.partition(" ")
        limit = {"overload": "+", "underload": "-"}.get(m.limit() or "")
        if cmd in ("S", "SI"):
            m.weigh_requests += 1
            if limit:
                return f"S {limit}"
            if m.stable:
                return self._weight("S")
            return self._weight("D") if cmd == "SI" else "S I"
        if cmd in ("Z", "ZI"):
            outcome = m.zero(wait_stable=cmd == "Z")
            if outcome == "ok":
                return "Z A" if cmd == "Z" else f"ZI {'S' if m.stable else 'D'}"
            sign = {"overload": "+", "underload": "-"}.get(outcome)
            if outcome == "range":
                sign = "+" if m.gross > 0 else "-"
            return f"{cmd} {sign or 'I'}"
        if cmd == "T":
            outcome = m.do_tare()
            if outcome == "ok":
                return f"T S {m.fmt(m.tare):>10} {m.unit}"
            return {"overload": "T +", "underload": "T -", "empty": "T -"}.get(outcome, "T I")
        if cmd == "TA":
            if arg:
                try:
                    value, unit = arg.split()
                    m.tare = Decimal(value)
                except (ValueError, InvalidOperation):
                    return "TA L"
                if unit != m.unit:
                    return "TA L"
            return f"TA A {m.fmt(m.tare):>10} {m.unit}"
        if cmd == "TAC":
            m.tare = Decimal(0)
            return "TAC A"
        if cmd == "@":
            m.tare = Decimal(0)
            return f'I4 A "{m.serial_number}"'
        if cmd == "I4":
            return f'I4 A "{m.serial_number}"'
        return "ES"


class Toledo8217Device:
    """Single-character commands, `STX ... CR` replies, echo mode after `E`."""

    continuous = False

    def __init__(self, model: ScaleModel) -> None:
        self.model = model
        self._echo = False
        self._tare_buf: bytearray | None = None

    def greeting(self) -> bytes:
        return b""

    def tick(self) -> bytes:
        return b""

    @staticmethod
    def _frame(body: bytes) -> bytes:
        return bytes([STX]) + body + bytes([CR])

    def status(self) -> bytes:
        m = self.model
        byte = encode_status(
            motion=not m.stable,
            over_capacity=m.overload,
            under_zero=m.underload,
            outside_zero_range=abs(m.gross) > m.zero_range,
            center_of_zero=m.center_of_zero,
            net=m.net,
        )
        return self._frame(b"?" + bytes([byte]))

    def weight(self) -> bytes:
        m = self.model
        if not m.stable or m.overload or m.underload or m.displayed < 0:
            return self.status()
        text = f"{m.displayed:06.3f}" if m.unit != "lb" else f"{m.displayed:06.2f}"
        return self._frame(text.encode("ascii") + (b"N" if m.net else b""))

    def handle(self, data: bytes) -> bytes:
        out = bytearray()
        for b in data:
            ch = chr(b & 0x7F)
            if self._echo:
                if ch == "F":
                    self._echo = False
                    out += self._frame(b"F")
                else:
                    out.append(b)
                continue
            if self._tare_buf is not None:
                if ch == "\r":
                    out += self._tare(bytes(self._tare_buf))
                    self._tare_buf = None
                elif ch.isdigit() and len(self._tare_buf) < 5:
                    self._tare_buf.append(b)
                else:
                    self._tare_buf = None
                    out += self.status()
                continue
            out += self._command(ch)
        return bytes(out)

    def _command(self, ch: str) -> bytes:
        m = self.model
        if ch in "\r\n":
            return b""
        if ch == "W":
            m.weigh_requests += 1
            return self.weight()
        if ch == "Z":
            m.zero()
            return self.status()
        if ch == "T":
            self._tare_buf = bytearray()
            return b""
        if ch == "C":
            m.clear_tare()
            return self.status()
        if ch == "E":
            self._echo = True
            return self._frame(b"E")
        if ch == "F":
            return self._frame(b"F")
        if ch == "A":
            return self._frame(b"")
        if ch == "B":
            return self._frame(b"?@")  # confidence test: all passed
        return self.status()

    def _tare(self, digits: bytes) -> bytes:
        m = self.model
        if digits:  # digital tare, WW.WWW kg / WWW.WW lb
            if len(digits) != 5:
                return self.status()
            m.tare = Decimal(int(digits)).scaleb(-3 if m.unit != "lb" else -2)
        else:
            m.do_tare()
        return self.status()


class AndDevice:
    """A&D balance: Q/S/SI weight, Z/R zero and T tare (ACK), EC,Exx errors; optional stream."""

    def __init__(self, model: ScaleModel, *, stream: bool = False) -> None:
        self.model = model
        self.continuous = stream
        self._lines = LineSplitter(b"\n", 64)
        self._pending_stable = False

    def greeting(self) -> bytes:
        return b""

    def frame(self) -> bytes:
        m = self.model
        if m.overload or m.underload:
            sign = "-" if m.underload else "+"
            data = (
                f"{sign}{'9' * (7 - m.decimals)}.{'9' * m.decimals}"
                if m.decimals
                else f"{sign}{'9' * 8}"
            )
            return f"OL,{data}{m.unit:>3}\r\n".encode("ascii")
        header = "ST" if m.stable else "US"
        v = m.displayed
        sign = "-" if v < 0 else "+"
        data = f"{abs(v):0{8}.{m.decimals}f}"
        return f"{header},{sign}{data}{m.unit:>3}\r\n".encode("ascii")

    def tick(self) -> bytes:
        if self._pending_stable and self.model.stable:
            self._pending_stable = False
            return self.frame()
        return self.frame() if self.continuous else b""

    def handle(self, data: bytes) -> bytes:
        out = bytearray()
        for item in self._lines.feed(data):
            if isinstance(item, Overflow):
                out += b"EC,E4\r\n"
                continue
            text = item.decode("ascii", "replace").strip()
            if text:
                out += self._answer(text)
        return bytes(out)

    def _answer(self, cmd: str) -> bytes:
        m = self.model
        if cmd in ("Q", "SI", "S"):
            m.weigh_requests += 1
        if cmd in ("Q", "SI"):
            return self.frame()
        if cmd == "S":
            if m.stable or m.overload or m.underload:
                return self.frame()
            self._pending_stable = True
            return b""
        if cmd in ("Z", "R"):
            return b"\x06" if m.zero(wait_stable=False) == "ok" else b"EC,E2\r\n"
        if cmd == "T":
            return b"\x06" if m.do_tare() == "ok" else b"EC,E2\r\n"
        return b"EC,E1\r\n"


class CasDevice:
    """CAS indicator streaming 22-byte frames; it takes no commands."""

    continuous = True

    def __init__(self, model: ScaleModel, *, device_id: int = 1) -> None:
        self.model = model
        self.device_id = device_id

    def greeting(self) -> bytes:
        return b""

    def handle(self, data: bytes) -> bytes:
        return b""

    def tick(self) -> bytes:
        m = self.model
        header = b"OL" if (m.overload or m.underload) else (b"ST" if m.stable else b"US")
        mode = b"NT" if m.net else b"GS"
        lamp = lamp_byte(stable=m.stable, net=m.net, zero=m.center_of_zero)
        if header == b"OL":
            data = (b"-" if m.underload else b" ") + b"   OL  "
        else:
            data = f"{m.displayed:8.{m.decimals}f}".encode("ascii")[:8]
        unit = f"{m.unit:>2}".encode("ascii")[:2]
        return (
            header
            + b","
            + mode
            + b","
            + bytes([0x30 + self.device_id, lamp])
            + b","
            + data
            + b" "
            + unit
            + b"\r\n"
        )


Device = MtSicsDevice | Toledo8217Device | AndDevice | CasDevice


def make_device(protocol: str, model: ScaleModel, *, stream: bool = False) -> Device:
    if protocol == "mt-sics":
        return MtSicsDevice(model)
    if protocol == "toledo8217":
        return Toledo8217Device(model)
    if protocol == "ad":
        return AndDevice(model, stream=stream)
    if protocol == "cas":
        return CasDevice(model)
    raise ValueError(f"unknown protocol {protocol!r}; choose mt-sics, toledo8217, ad or cas")
