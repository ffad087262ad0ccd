"""The one serial transport: any pyserial URL, blocking reads with a short timeout.

Everything above this module is sans-IO; this is the only place that touches pyserial, so
real ports (`/dev/ttyUSB0`), ptys (`/dev/pts/N`), TCP bridges (`socket://host:port`) and
`loop://` all behave the same way to the rest of the package.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

import serial

Parity = Literal["N", "E", "O", "M", "S"]


class PortGone(Exception):
    """The port could not be opened, or vanished while in use (unplugged, pty closed)."""


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """Line settings; ignored by ptys and sockets but essential on real RS-232 ports."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: Parity = "N"
    stopbits: float = 1

    def describe(self) -> str:
        stop = int(self.stopbits) if float(self.stopbits).is_integer() else self.stopbits
        return f"{self.baudrate} {self.bytesize}{self.parity}{stop}"


class SerialTransport:
    """A pyserial port opened with `serial_for_url`; errors surface as `PortGone`.

    Reads block for at most `read_timeout` so the owning thread can notice a stop request.
    """

    def __init__(
        self, url: str, settings: SerialSettings | None = None, *, read_timeout: float = 0.05
    ) -> None:
        self.url = url
        self.settings = settings or SerialSettings()
        self.read_timeout = read_timeout
        self._port: serial.Serial | None = None

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        s = self.settings
        try:
            self._port = serial.serial_for_url(
                self.url,
                baudrate=s.baudrate,
                bytesize=s.bytesize,
                parity=s.parity,
                stopbits=s.stopbits,
                timeout=self.read_timeout,
                write_timeout=1.0,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            self._port = None
            raise PortGone(f"cannot open {self.url}: {_reason(exc)}") from exc

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def cancel_read(self) -> None:
        """Wake a blocked `read` at once (used when stopping the reader thread)."""
        port = self._port
        if port is not None:
            with contextlib.suppress(Exception):
                port.cancel_read()

    def read(self) -> bytes:
        """Return whatever arrived (possibly b"" after the read timeout)."""
        port = self._require()
        try:
            data = port.read(1)
            if data:
                waiting = port.in_waiting
                if waiting:
                    data += port.read(waiting)
            return data
        except (serial.SerialException, OSError) as exc:
            raise PortGone(f"{self.url} disconnected: {_reason(exc)}") from exc

    def write(self, data: bytes) -> None:
        port = self._require()
        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            raise PortGone(f"write to {self.url} failed: {_reason(exc)}") from exc

    def _require(self) -> serial.Serial:
        if self._port is None:
            raise PortGone(f"{self.url} is not open")
        return self._port


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
