"""A simulated ESC/POS receipt printer on a real pty, and the decoder that reads its paper.

The simulator records every byte it receives to a file (`--record FILE`, appended as it
arrives), answers the paper-status request `DLE EOT n` like a real printer, and can run out
of paper on command. `read_jobs` turns recorded bytes back into what would be on the paper:
the text lines of each job (GB18030 in Chinese mode, code page 437 outside it, as a printer
would show them), whether it was cut and how often the drawer was kicked, so tests check a
receipt as a person would read it.

Control commands on stdin, one a line, each answered `ok …` on stdout: `paper out`,
`paper in`, `silent` (stop answering status requests), `talk`, `jobs`, `quit`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TextIO

from devices.sim.pty import PtyPort
from devices.sim.serve import _say, _serve  # pyright: ignore[reportPrivateUsage]

ESC, FS, GS, DLE = 0x1B, 0x1C, 0x1D, 0x10

#: ESC commands by their second byte → how many argument bytes follow
_ESC_ARGS = {
    ord("@"): 0,
    ord("2"): 0,
    ord("!"): 1,
    ord("E"): 1,
    ord("G"): 1,
    ord("-"): 1,
    ord("a"): 1,
    ord("t"): 1,
    ord("3"): 1,
    ord("J"): 1,
    ord("d"): 1,
    ord("e"): 1,
    ord("M"): 1,
    ord("R"): 1,
    ord("V"): 1,
    ord("{"): 1,
    ord(" "): 1,
    ord("c"): 2,
    ord("$"): 2,
    ord("\\"): 2,
    ord("p"): 3,
}
_GS_ARGS = {
    ord("!"): 1,
    ord("B"): 1,
    ord("H"): 1,
    ord("f"): 1,
    ord("h"): 1,
    ord("w"): 1,
    ord("a"): 1,
    ord("r"): 1,
    ord("L"): 2,
    ord("W"): 2,
}
_FS_ARGS = {
    ord("&"): 0,
    ord("."): 0,
    ord("!"): 1,
    ord("C"): 1,
    ord("-"): 1,
    ord("W"): 1,
    ord("S"): 2,
}


@dataclass(frozen=True)
class PrintJob:
    """One receipt as it came out of the printer: up to and including a cut."""

    lines: list[str]
    cut: bool
    drawer_kicks: int
    #: indices into `lines` printed double size / bold (a receipt's title)
    big: list[int] = field(default_factory=list)
    bold: list[int] = field(default_factory=list)
    #: blank lines fed by `ESC d n` (not part of `lines`)
    fed: int = 0
    #: commands the decoder did not know (their first two bytes), skipped
    unknown: list[bytes] = field(default_factory=list)


@dataclass
class _Job:
    lines: list[str] = field(default_factory=list)
    big: list[int] = field(default_factory=list)
    bold: list[int] = field(default_factory=list)
    drawer_kicks: int = 0
    fed: int = 0
    unknown: list[bytes] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.lines or self.drawer_kicks or self.fed or self.unknown)

    def done(self, cut: bool) -> PrintJob:
        return PrintJob(
            self.lines, cut, self.drawer_kicks, self.big, self.bold, self.fed, self.unknown
        )


class JobDecoder:
    """Streaming ESC/POS reader: `feed` chunks as they arrive (a command may be split across
    reads); finished jobs come back from `feed`, status requests collect in `requests`."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._job = _Job()
        self._line = bytearray()
        self._text = ""
        self.requests: list[int] = []
        self._reset()

    def _reset(self) -> None:
        self._chinese = False
        self._bold = False
        self._big = False
        self._line.clear()
        self._text = ""

    def _decode_pending(self) -> None:
        if self._line:
            codec = "gb18030" if self._chinese else "cp437"
            self._text += bytes(self._line).decode(codec, errors="replace")
            self._line.clear()

    def _end_line(self) -> None:
        self._decode_pending()
        index = len(self._job.lines)
        self._job.lines.append(self._text)
        if self._big:
            self._job.big.append(index)
        if self._bold:
            self._job.bold.append(index)
        self._text = ""

    def _flush_partial(self) -> None:
        if self._line or self._text:
            self._end_line()

    def _cut(self, jobs: list[PrintJob]) -> None:
        self._flush_partial()
        jobs.append(self._job.done(cut=True))
        self._job = _Job()

    def feed(self, data: bytes) -> list[PrintJob]:
        self._buf += data
        jobs: list[PrintJob] = []
        i, buf = 0, self._buf
        while i < len(buf):
            used = self._command(buf, i, jobs)
            if used == 0:  # an incomplete command: wait for the rest
                break
            i += used
        del buf[:i]
        return jobs

    def finish(self) -> list[PrintJob]:
        """What is left after the last cut, as a job that was not cut (if anything)."""
        self._flush_partial()
        job, self._job = self._job, _Job()
        return [] if job.empty() else [job.done(cut=False)]

    def _command(self, buf: bytearray, i: int, jobs: list[PrintJob]) -> int:
        """Consume one byte or command at `i`; return its length, 0 if it is incomplete."""
        b = buf[i]
        if b >= 0x20:
            self._line.append(b)
            return 1
        if b == 0x0A:
            self._end_line()
            return 1
        if b == 0x09:
            self._line.append(0x20)
            return 1
        if b not in (ESC, GS, FS, DLE):
            return 1  # CR and other single control bytes: nothing on paper
        if i + 1 >= len(buf):
            return 0
        op = buf[i + 1]
        if b == DLE:
            return self._dle(buf, i, op)
        if b == GS and op == ord("V"):
            return self._gs_cut(buf, i, jobs)
        if b == GS and op == ord("("):
            return self._gs_extended(buf, i)
        table = {ESC: _ESC_ARGS, GS: _GS_ARGS, FS: _FS_ARGS}[b]
        nargs = table.get(op)
        if nargs is None:
            self._job.unknown.append(bytes(buf[i : i + 2]))
            return 2
        if i + 2 + nargs > len(buf):
            return 0
        self._apply(b, op, bytes(buf[i + 2 : i + 2 + nargs]))
        return 2 + nargs

    def _dle(self, buf: bytearray, i: int, op: int) -> int:
        if op == 0x04:  # DLE EOT n: real-time status request
            if i + 2 >= len(buf):
                return 0
            self.requests.append(buf[i + 2])
            return 3
        if op == 0x14:  # DLE DC4 fn m t: real-time request, fn 1 = drawer pulse
            if i + 4 >= len(buf):
                return 0
            if buf[i + 2] == 1:
                self._job.drawer_kicks += 1
            return 5
        self._job.unknown.append(bytes(buf[i : i + 2]))
        return 2

    def _gs_cut(self, buf: bytearray, i: int, jobs: list[PrintJob]) -> int:
        if i + 2 >= len(buf):
            return 0
        m = buf[i + 2]
        length = 4 if m in (65, 66, 97, 98, 103, 104) else 3
        if i + length > len(buf):
            return 0
        self._cut(jobs)
        return length

    def _gs_extended(self, buf: bytearray, i: int) -> int:
        """GS ( fn pL pH data…: length-prefixed; skipped whole."""
        if i + 5 > len(buf):
            return 0
        length = 5 + buf[i + 3] + 256 * buf[i + 4]
        return length if i + length <= len(buf) else 0

    def _apply(self, prefix: int, op: int, args: bytes) -> None:
        c = chr(op)
        if prefix == ESC:
            if c == "@":
                self._reset()
            elif c == "!":
                self._decode_pending()
                self._bold = bool(args[0] & 0x08)
                self._big = bool(args[0] & 0x30)
            elif c in "EG":
                self._bold = bool(args[0] & 1)
            elif c == "d":
                self._flush_partial()
                self._job.fed += args[0]
            elif c == "p":
                self._job.drawer_kicks += 1
        elif prefix == GS and c == "!":
            self._big = bool(args[0] & 0x77)
        elif prefix == FS:
            if c in "&.":
                self._decode_pending()
                self._chinese = c == "&"
            elif c == "!":
                self._big = bool(args[0] & 0x0C)


def read_jobs(data: bytes) -> list[PrintJob]:
    """Every job in `data` (a recording): each ends at a cut; a last job without a cut is
    returned with `cut=False`."""
    decoder = JobDecoder()
    jobs = decoder.feed(data)
    return jobs + decoder.finish()


# -- the simulator ------------------------------------------------------------------------

#: DLE EOT n answers: fixed bits only (all well), and with "paper end" set
_STATUS_OK = {1: 0x16, 2: 0x12, 3: 0x12, 4: 0x12}
_STATUS_PAPER_OUT = {1: 0x1E, 2: 0x32, 3: 0x12, 4: 0x72}


class PrinterModel:
    """What the simulated printer is doing; changed by control commands."""

    def __init__(self) -> None:
        self.paper = True
        self.answers = True
        self.jobs = 0

    def status(self, n: int) -> bytes:
        if not self.answers:
            return b""
        table = _STATUS_OK if self.paper else _STATUS_PAPER_OUT
        return bytes([table.get(n, 0x12)])

    def control(self, line: str) -> str:
        words = line.split()
        if words == ["paper", "out"]:
            self.paper = False
        elif words == ["paper", "in"]:
            self.paper = True
        elif words == ["silent"]:
            self.answers = False
        elif words == ["talk"]:
            self.answers = True
        elif words == ["jobs"]:
            return f"ok {self.jobs} jobs"
        else:
            return (
                f"error unknown command {line.strip()!r}; try: paper out, paper in, "
                "silent, talk, jobs, quit"
            )
        return f"ok {line.strip()}"


def serve_printer(
    port: PtyPort,
    record: IO[bytes],
    *,
    out: TextIO,
    log: Callable[[str], None] = lambda _line: None,
    model: PrinterModel | None = None,
    control_fd: int | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Record and decode what arrives on `port` until `quit` or `stop` (with stdin closed
    or not a terminal it serves until killed, like the other simulators)."""
    stop = stop or threading.Event()
    printer = model or PrinterModel()
    decoder = JobDecoder()

    def on_data(data: bytes) -> None:
        record.write(data)
        record.flush()
        for job in decoder.feed(data):
            printer.jobs += 1
            log(
                f"job {printer.jobs}: {len(job.lines)} lines, "
                f"cut={job.cut}, drawer_kicks={job.drawer_kicks}"
            )
        for n in decoder.requests:
            port.write(printer.status(n))
        decoder.requests.clear()

    def on_control(line: str) -> bool:
        if line == "quit":
            _say(out, "ok quit")
            return False
        _say(out, printer.control(line))
        return True

    _serve(
        port,
        on_port_data=on_data,
        on_control=on_control,
        on_tick=lambda: None,
        interval=0.5,
        control_fd=control_fd,
        stop=stop,
    )
