"""Fixtures: simulators on real ptys, in-process (threads) or as CLI subprocesses."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from devices.sim.pty import PtyPort
from devices.sim.scale import ScaleModel, make_device
from devices.sim.serve import serve_scale, serve_scanner

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def _split_everywhere(data: bytes) -> Iterator[list[bytes]]:
    """Every way of cutting `data` into two reads, plus one byte per read."""
    for i in range(len(data) + 1):
        yield [data[:i], data[i:]]
    yield [bytes([b]) for b in data]


@pytest.fixture
def split_everywhere() -> Callable[[bytes], Iterator[list[bytes]]]:
    return _split_everywhere


class _Lines:
    """A file-like sink whose lines can be awaited (the simulator's `ok ...` answers)."""

    def __init__(self) -> None:
        self._q: queue.Queue[str] = queue.Queue()
        self._buf = ""

    def write(self, text: str) -> int:
        self._buf += text
        *lines, self._buf = self._buf.split("\n")
        for line in lines:
            self._q.put(line)
        return len(text)

    def flush(self) -> None:
        pass

    def get(self, timeout: float = 5.0) -> str:
        return self._q.get(timeout=timeout)


class ThreadSim:
    """A simulator serving a real pty from a thread of the test process."""

    def __init__(
        self,
        protocol: str,
        *,
        weight: str = "1.234",
        link: str | None = None,
        stable: bool = True,
        unit: str = "kg",
        scanner_codes: list[str] | None = None,
        suffix: bytes = b"\r",
        interval: float = 0.05,
        stream: bool = False,
    ) -> None:
        self.model = ScaleModel(load=Decimal(weight), unit=unit, stable=stable)
        self.port = PtyPort(link)
        self.path = self.port.path
        self.out = _Lines()
        self._ctl_r, self._ctl_w = os.pipe()
        self.stop = threading.Event()
        if protocol == "scanner":
            target: Callable[[], None] = lambda: serve_scanner(  # noqa: E731
                self.port,
                out=self.out,
                codes=scanner_codes or [],
                interval=interval,
                suffix=suffix,
                control_fd=self._ctl_r,
                stop=self.stop,
            )
        else:
            device = make_device(protocol, self.model, stream=stream)
            target = lambda: serve_scale(  # noqa: E731
                device,
                self.port,
                out=self.out,
                control_fd=self._ctl_r,
                interval=interval,
                stop=self.stop,
            )
        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()

    def control(self, line: str) -> str:
        os.write(self._ctl_w, line.encode() + b"\n")
        answer = self.out.get()
        assert answer.startswith("ok"), answer
        return answer

    def close(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        os.write(self._ctl_w, b"quit\n")  # wakes the serve loop at once
        self._thread.join(5)
        self.port.close()
        for fd in (self._ctl_r, self._ctl_w):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def thread_sim() -> Iterator[Callable[..., ThreadSim]]:
    sims: list[ThreadSim] = []

    def start(protocol: str, **kw: object) -> ThreadSim:
        sim = ThreadSim(protocol, **kw)  # type: ignore[arg-type]
        sims.append(sim)
        return sim

    yield start
    for sim in sims:
        sim.close()


class CliSim:
    """`python -m devices sim-...` as a subprocess; the first stdout line is the pty path."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [PY, "-m", "devices", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None
        self.path = self.proc.stdout.readline().strip()
        assert self.path, self.proc.stderr.read() if self.proc.stderr else "no path"

    def control(self, line: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer.startswith("ok"), answer
        return answer

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def cli_sim() -> Iterator[Callable[..., CliSim]]:
    sims: list[CliSim] = []

    def start(*args: str) -> CliSim:
        sim = CliSim(*args)
        sims.append(sim)
        return sim

    yield start
    for sim in sims:
        sim.kill()


def _run_cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "devices", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m devices ARGS...` to completion."""
    return _run_cli
