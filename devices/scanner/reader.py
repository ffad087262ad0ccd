"""A serial barcode scanner on any pyserial URL: framed, de-duplicated scans, reconnecting.

Scans are delivered to an optional `on_event` callback (runs on the reader thread; a TUI
hands them over with `call_soon_threadsafe`) and to a bounded queue read with `get()`,
`events()` or, from asyncio, `aevents()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

from devices.port import Backoff, PortState, PortWorker
from devices.scanner.framing import ScanDecoder, ScanEvent, Suffix
from devices.transport import SerialSettings

_QUEUE = 1024


class ScannerReader:
    def __init__(
        self,
        url: str,
        *,
        suffix: Suffix = "cr",
        prefix: bytes = b"",
        repeat_window: float = 0.6,
        settings: SerialSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_event: Callable[[ScanEvent], None] | None = None,
        on_state: Callable[[PortState, str], None] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.url = url
        self._decoder_args = {"prefix": prefix, "repeat_window": repeat_window, "clock": clock}
        self._suffix: Suffix = suffix
        self._decoder = ScanDecoder(suffix, prefix=prefix, repeat_window=repeat_window, clock=clock)
        self._on_event = on_event
        self._on_state = on_state
        self._queue: queue.Queue[ScanEvent] = queue.Queue(_QUEUE)
        self._worker = PortWorker(
            url,
            settings or SerialSettings(9600, 8, "N", 1),
            self._on_data,
            on_state=self._state,
            backoff=backoff,
            name="scanner",
        )

    @property
    def state(self) -> PortState:
        return self._worker.state

    @property
    def last_error(self) -> str:
        return self._worker.last_error

    def start(self) -> ScannerReader:
        self._worker.start()
        return self

    def close(self) -> None:
        self._worker.stop()

    def __enter__(self) -> ScannerReader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._worker.wait_ready(timeout)

    def _state(self, state: PortState, detail: str) -> None:
        if state is PortState.CONNECTING:
            # a half-received scan must not be glued to the first scan after a reconnect
            self._decoder = ScanDecoder(self._suffix, **self._decoder_args)  # type: ignore[arg-type]
        if self._on_state is not None:
            self._on_state(state, detail)

    def _on_data(self, data: bytes) -> None:
        for event in self._decoder.feed(data):
            if self._on_event is not None:
                self._on_event(event)
            try:
                self._queue.put_nowait(event)
            except queue.Full:  # nobody reads the queue (callback-only use): drop oldest
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
                self._queue.put_nowait(event)

    def get(self, timeout: float | None = None) -> ScanEvent | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def events(self, stop: threading.Event | None = None) -> Iterator[ScanEvent]:
        while stop is None or not stop.is_set():
            event = self.get(0.1)
            if event is not None:
                yield event

    async def aevents(self) -> AsyncIterator[ScanEvent]:
        while True:
            event = await asyncio.to_thread(self.get, 0.2)
            if event is not None:
                yield event
