"""Run simulators on a pty, steered by a line-based control channel (usually stdin).

Scale control commands (one per line; each is answered with one `ok ...` or `error ...`
line on the output, so a test can wait for it):

    weight 1.234    put 1.234 (in the scale's unit) on the platter
    stable | unstable | toggle      the scale's motion flag (SIGUSR1 also toggles)
    overload | underload | normal   force an out-of-range condition, or clear it
    silent | talk   stop answering / answer again (a dead or unplugged scale)
    garble          send a burst of line noise now
    state           print the current state
    quit            stop the simulator

Scanner control: `scan CODE` sends CODE (GS may be written `\\x1d` or `<GS>`),
`garble`, `quit`.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import TextIO

from devices.scanner.framing import unescape
from devices.sim.pty import PtyPort
from devices.sim.scale import Device, ScaleModel

NOISE = b"\x00\xff#noise~\x7f"


class _ControlReader:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = b""

    def read_lines(self) -> list[str] | None:
        """Complete lines, or None at end of input."""
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return []
        if not data:
            return None
        self._buf += data
        *lines, self._buf = self._buf.split(b"\n")
        return [line.decode("utf-8", "replace").strip() for line in lines]


def _say(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()


def _state(model: ScaleModel, silent: bool) -> str:
    return (
        f"weight={model.fmt(model.displayed)} unit={model.unit} "
        f"stable={str(model.stable).lower()} tare={model.fmt(model.tare)} "
        f"forced={model.forced or 'none'} silent={str(silent).lower()}"
    )


def _serve(
    port: PtyPort,
    *,
    on_port_data: Callable[[bytes], None],
    on_control: Callable[[str], bool],
    on_tick: Callable[[], None],
    interval: float,
    control_fd: int | None,
    stop: threading.Event,
) -> None:
    sel = selectors.DefaultSelector()
    sel.register(port.master, selectors.EVENT_READ, "port")
    control = None
    if control_fd is not None:
        try:
            sel.register(control_fd, selectors.EVENT_READ, "control")
        except (PermissionError, ValueError, OSError):
            # stdin is /dev/null or a plain file (run in the background): no control channel.
            control_fd = None
        else:
            control = _ControlReader(control_fd)
    next_tick = time.monotonic() + interval
    try:
        while not stop.is_set():
            for key, _ in sel.select(max(0.0, next_tick - time.monotonic())):
                if key.data == "port":
                    data = port.read()
                    if data:
                        on_port_data(data)
                elif control is not None:
                    lines = control.read_lines()
                    if lines is None:  # control closed: keep serving until killed
                        sel.unregister(control.fd)
                        control = None
                        continue
                    for line in lines:
                        if line and not on_control(line):
                            return
            if time.monotonic() >= next_tick:
                on_tick()
                next_tick = time.monotonic() + interval
    finally:
        sel.close()


def serve_scale(
    device: Device,
    port: PtyPort,
    *,
    out: TextIO,
    control_fd: int | None = None,
    interval: float = 0.1,
    stop: threading.Event | None = None,
) -> None:
    """Answer commands on `port` and stream frames (continuous protocols) until stopped."""
    stop = stop or threading.Event()
    model = device.model
    silent = False

    def send(data: bytes) -> None:
        if data and not silent:
            port.write(data)

    def on_control(line: str) -> bool:
        nonlocal silent
        cmd, _, arg = line.partition(" ")
        if cmd == "quit":
            _say(out, "ok quit")
            return False
        if cmd == "weight":
            try:
                model.load = Decimal(arg.strip())
            except InvalidOperation:
                _say(out, f"error not a number: {arg!r}")
                return True
        elif cmd in ("stable", "unstable", "toggle"):
            model.stable = {"stable": True, "unstable": False}.get(cmd, not model.stable)
        elif cmd in ("overload", "underload"):
            model.forced = cmd
        elif cmd == "normal":
            model.forced = None
        elif cmd in ("silent", "talk"):
            silent = cmd == "silent"
        elif cmd == "garble":
            port.write(NOISE)
        elif cmd == "unit" and arg.strip():
            model.unit = arg.strip()
        elif cmd != "state":
            _say(
                out,
                f"error unknown command {cmd!r}; try: weight N, stable, unstable, "
                "toggle, overload, underload, normal, silent, talk, garble, state, quit",
            )
            return True
        _say(out, f"ok {_state(model, silent)}")
        return True

    def toggle(_signum: int, _frame: object) -> None:
        model.stable = not model.stable

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGUSR1, toggle)
    try:
        send(device.greeting())
        _serve(
            port,
            on_port_data=lambda data: send(device.handle(data)),
            on_control=on_control,
            on_tick=lambda: send(device.tick()),
            interval=interval,
            control_fd=control_fd,
            stop=stop,
        )
    finally:
        if previous is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGUSR1, previous)


def serve_scanner(
    port: PtyPort,
    *,
    out: TextIO,
    codes: Sequence[str] = (),
    interval: float = 1.0,
    suffix: bytes = b"\r",
    prefix: bytes = b"",
    control_fd: int | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Send `codes` round-robin every `interval` seconds, plus any `scan CODE` from control."""
    stop = stop or threading.Event()
    position = 0

    def emit(code: str) -> None:
        port.write(prefix + code.encode("utf-8") + suffix)

    def on_tick() -> None:
        nonlocal position
        if codes:
            emit(codes[position % len(codes)])
            position += 1

    def on_control(line: str) -> bool:
        cmd, _, arg = line.partition(" ")
        if cmd == "quit":
            _say(out, "ok quit")
            return False
        if cmd == "scan" and arg:
            emit(unescape(arg))
            _say(out, f"ok sent {len(unescape(arg))}")
        elif cmd == "garble":
            port.write(NOISE + suffix)
            _say(out, "ok garbled")
        else:
            _say(out, f"error unknown command {cmd!r}; try: scan CODE, garble, quit")
        return True

    _serve(
        port,
        on_port_data=lambda _data: None,
        on_control=on_control,
        on_tick=on_tick,
        interval=interval,
        control_fd=control_fd,
        stop=stop,
    )
