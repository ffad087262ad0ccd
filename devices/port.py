"""A reader thread that owns one transport, reconnecting with backoff when the port vanishes.

Why a thread and not asyncio: pyserial is blocking, `loop://` and some USB adapters have no
selectable file descriptor, and the same device code must serve a plain CLI, a Textual TUI
and the asyncio node. A dedicated thread works everywhere; asyncio callers bridge with
`asyncio.to_thread` (see `ScaleSession.aread_weight`) or `loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from devices.transport import PortGone, SerialSettings, SerialTransport

log = logging.getLogger(__name__)


class PortState(enum.StrEnum):
    """What a device looks like from the till: shown in the status bar."""

    CONNECTING = "connecting"
    READY = "ready"
    ERROR = "error"
    DISCONNECTED = "disconnected"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential reconnect delays: initial, initial*factor, ... capped at `maximum`."""

    initial: float = 0.1
    factor: float = 2.0
    maximum: float = 5.0

    def delay(self, attempt: int) -> float:
        return min(self.maximum, self.initial * self.factor ** max(0, attempt))


StateCallback = Callable[[PortState, str], None]


class PortWorker:
    """Opens the port, feeds every received chunk to `on_data`, reopens after failures.

    `on_data` and `on_state` run on the worker thread; keep them quick and thread-safe.
    """

    def __init__(
        self,
        url: str,
        settings: SerialSettings,
        on_data: Callable[[bytes], None],
        *,
        on_state: StateCallback | None = None,
        backoff: Backoff | None = None,
        name: str = "device",
    ) -> None:
        self.url = url
        self.transport = SerialTransport(url, settings)
        self._on_data = on_data
        self._on_state = on_state
        self.backoff = backoff or Backoff()
        self._name = name
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._state_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._state = PortState.CONNECTING
        self.last_error = ""
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> PortState:
        return self._state

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"{self._name}:{self.url}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self.transport.cancel_read()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.transport.close()
        self._set_state(PortState.CLOSED, "closed")

    def wait_ready(self, timeout: float | None) -> bool:
        return self._ready.wait(timeout)

    def write(self, data: bytes) -> None:
        """Send bytes; raises `PortGone` when the port is not usable right now."""
        with self._write_lock:
            self.transport.write(data)

    def _set_state(self, state: PortState, detail: str) -> None:
        with self._state_lock:
            if state is self._state and state is not PortState.DISCONNECTED:
                return
            self._state = state
            if state is PortState.READY:
                self._ready.set()
            else:
                self._ready.clear()
        log.debug("%s %s: %s (%s)", self._name, self.url, state, detail)
        if self._on_state is not None:
            self._on_state(state, detail)

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            self._set_state(PortState.CONNECTING, f"opening {self.url}")
            try:
                self.transport.open()
            except PortGone as exc:
                self.last_error = str(exc)
                self._set_state(PortState.DISCONNECTED, self.last_error)
                self._stop.wait(self.backoff.delay(attempt))
                attempt += 1
                continue
            attempt = 0
            self._set_state(PortState.READY, f"{self.url} open")
            try:
                while not self._stop.is_set():
                    data = self.transport.read()
                    if data:
                        self._on_data(data)
            except PortGone as exc:
                self.last_error = str(exc)
                self.transport.close()
                if not self._stop.is_set():
                    self._set_state(PortState.DISCONNECTED, self.last_error)
                    self._stop.wait(self.backoff.delay(0))
            except Exception as exc:  # a bug in a parser must not kill the till silently
                log.exception("%s reader crashed", self._name)
                self.last_error = f"internal error: {exc}"
                self.transport.close()
                self._set_state(PortState.ERROR, self.last_error)
                self._stop.wait(self.backoff.delay(attempt))
                attempt += 1
