"""A scale session: one port, one request in flight, timeouts, stability and reconnects.

Thread-based (see `devices.port` for why). Every public method returns a value — a
`Reading`, an `Ack` or a `ScaleError` — and never raises for device problems, so the till
can show the error and carry on. Asyncio callers use the `a*` twins, which run the
blocking call in a worker thread.

States: connecting -> ready; ready -> error when the port is open but the scale stops
answering (back to ready on the next good reply); any -> disconnected when the port
vanishes, then connecting again after an exponential backoff.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from devices.port import Backoff, PortState, PortWorker
from devices.scales import make_protocol
from devices.scales.base import ScaleProtocol
from devices.scales.events import Ack, Command, ErrorKind, Reading, ScaleError, ScaleEvent
from devices.transport import PortGone, SerialSettings

_BUFFERED_EVENTS = 256


@dataclass(frozen=True, slots=True)
class _Gone:
    detail: str


class ScaleSession:
    """Talk to one scale at `url` (any pyserial URL) using `protocol`.

    `protocol` is a name from `devices.scales.PROTOCOLS` or a fresh protocol instance (it is
    copied on every reconnect so half-received frames never survive a reconnect).
    """

    def __init__(
        self,
        url: str,
        protocol: str | ScaleProtocol,
        *,
        unit: str = "kg",
        settings: SerialSettings | None = None,
        command_timeout: float = 2.0,
        poll_interval: float = 0.1,
        backoff: Backoff | None = None,
        on_state: Callable[[PortState, str], None] | None = None,
    ) -> None:
        self._template = (
            make_protocol(protocol, unit=unit) if isinstance(protocol, str) else protocol
        )
        self.protocol = copy.deepcopy(self._template)
        self.url = url
        self.command_timeout = command_timeout
        self.poll_interval = poll_interval
        self._on_state = on_state
        self._cond = threading.Condition()
        self._events: deque[ScaleEvent | _Gone] = deque(maxlen=_BUFFERED_EVENTS)
        self._request_lock = threading.Lock()
        self._state = PortState.CONNECTING
        self._ever_ready = False
        self._worker = PortWorker(
            url,
            settings or self._template.default_settings,
            self._on_data,
            on_state=self._port_state,
            backoff=backoff,
            name="scale",
        )

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> ScaleSession:
        self._worker.start()
        return self

    def close(self) -> None:
        self._worker.stop()

    def __enter__(self) -> ScaleSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def state(self) -> PortState:
        return self._state

    @property
    def last_error(self) -> str:
        return self._worker.last_error

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._worker.wait_ready(timeout)

    # -- worker-thread callbacks ---------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        events = self.protocol.feed(data)
        if events:
            with self._cond:
                self._events.extend(events)
                self._cond.notify_all()

    def _port_state(self, state: PortState, detail: str) -> None:
        if state is PortState.CONNECTING:
            self.protocol = copy.deepcopy(self._template)
        if state is PortState.READY:
            self._ever_ready = True
        changed = state is not self._state
        self._state = state  # before waking waiters, so they see the new state
        if state in (PortState.DISCONNECTED, PortState.ERROR, PortState.CLOSED):
            with self._cond:
                self._events.append(_Gone(detail))
                self._cond.notify_all()
        if changed and self._on_state is not None:
            self._on_state(state, detail)

    def _set_state(self, state: PortState, detail: str) -> None:
        if state is self._state:
            return
        self._state = state
        if self._on_state is not None:
            self._on_state(state, detail)

    # -- events ------------------------------------------------------------------------

    def _clear_events(self) -> None:
        with self._cond:
            self._events.clear()

    def _next_event(self, deadline: float) -> ScaleEvent | _Gone | None:
        with self._cond:
            while not self._events:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._events.popleft()

    def _port_error(self, timeout: float) -> ScaleError | None:
        """None when the port is usable; waits for the first connection only."""
        if self._worker.state is PortState.READY:
            return None
        if not self._ever_ready and self._worker.wait_ready(timeout):
            return None
        detail = self._worker.last_error or f"{self.url} is {self._worker.state}"
        return ScaleError(ErrorKind.DISCONNECTED, detail)

    # -- requests ----------------------------------------------------------------------

    def request(self, command: Command, timeout: float | None = None) -> ScaleEvent:
        """Send one command and return its answer (or a TIMEOUT / DISCONNECTED error)."""
        timeout = self.command_timeout if timeout is None else timeout
        with self._request_lock:
            data = self.protocol.encode(command)
            if data is None:
                return ScaleError(ErrorKind.UNSUPPORTED, f"{self.protocol.name} cannot {command}")
            deadline = time.monotonic() + timeout
            err = self._port_error(timeout)
            if err is not None:
                return err
            self._clear_events()
            try:
                self._worker.write(data)
            except PortGone as exc:
                return ScaleError(ErrorKind.DISCONNECTED, str(exc))
            while True:
                event = self._next_event(deadline)
                if event is None:
                    self._set_state(PortState.ERROR, f"no reply to {command}")
                    return ScaleError(
                        ErrorKind.TIMEOUT, f"no reply to {command} within {timeout:g}s"
                    )
                if isinstance(event, _Gone):
                    return ScaleError(ErrorKind.DISCONNECTED, event.detail)
                answer = self.protocol.reply(command, event)
                if answer is not None:
                    if self._state is PortState.ERROR:
                        self._set_state(PortState.READY, "scale answers again")
                    return answer

    def zero(self, timeout: float | None = None) -> ScaleEvent:
        return self.request(Command.ZERO, timeout)

    def tare(self, timeout: float | None = None) -> ScaleEvent:
        return self.request(Command.TARE, timeout)

    def clear_tare(self, timeout: float | None = None) -> ScaleEvent:
        return self.request(Command.CLEAR_TARE, timeout)

    def probe(self, timeout: float | None = None) -> ScaleEvent:
        """Is a scale of this protocol there? 8217: echo handshake; MT-SICS: I4; else a frame."""
        if self.protocol.encode(Command.PROBE) is not None:
            answer = self.request(Command.PROBE, timeout)
            if isinstance(answer, Ack):
                done = self.request(Command.END_PROBE, timeout)
                if not isinstance(done, Ack):
                    return done
            return answer
        if self.protocol.encode(Command.IDENTIFY) is not None:
            return self.request(Command.IDENTIFY, timeout)
        return self.read_weight(timeout=timeout or self.command_timeout, require_stable=False)

    def read_weight(
        self, *, timeout: float = 3.0, require_stable: bool = True, consecutive: int = 1
    ) -> Reading | ScaleError:
        """One weight. "Stable" is the scale's own flag, optionally confirmed by
        `consecutive` equal stable readings in a row. Unstable readings are re-polled
        until `timeout`, then reported as a MOTION error; hard errors return at once."""
        deadline = time.monotonic() + timeout
        streak: list[Reading] = []
        last: Reading | ScaleError | None = None
        if self.protocol.continuous:
            err = self._port_error(timeout)
            if err is not None:
                return err
            self._clear_events()
        while (remaining := deadline - time.monotonic()) > 0:
            cut_short = remaining < self.command_timeout
            result = (
                self._continuous_next(deadline)
                if self.protocol.continuous
                else self._poll_once(remaining)
            )
            if result is None:
                break
            if isinstance(result, ScaleError):
                if result.kind not in (
                    ErrorKind.MOTION,
                    ErrorKind.NOT_EXECUTABLE,
                    ErrorKind.TIMEOUT,
                    ErrorKind.GARBLED,
                ):
                    return result
                streak.clear()
                # a poll cut short by the deadline says nothing about a scale that has
                # been answering: the weight still did not settle (MOTION), not "no reply";
                # a full command timeout does mean the scale went quiet
                if not (result.kind is ErrorKind.TIMEOUT and cut_short and last is not None):
                    last = result
            else:
                last = result
                if not require_stable:
                    return result
                if not result.stable:
                    streak.clear()
                else:
                    if streak and (streak[-1].weight, streak[-1].unit) != (
                        result.weight,
                        result.unit,
                    ):
                        streak.clear()
                    streak.append(result)
                    if len(streak) >= max(1, consecutive):
                        return result
            if not self.protocol.continuous:
                time.sleep(max(0.0, min(self.poll_interval, deadline - time.monotonic())))
        if isinstance(last, ScaleError):
            return last
        if isinstance(last, Reading):
            return ScaleError(
                ErrorKind.MOTION,
                f"weight did not settle within {timeout:g}s (last {last.weight} {last.unit})",
            )
        return ScaleError(ErrorKind.TIMEOUT, f"no weight within {timeout:g}s")

    def _poll_once(self, remaining: float) -> Reading | ScaleError | None:
        answer = self.request(Command.WEIGH, min(self.command_timeout, remaining))
        if isinstance(answer, (Reading, ScaleError)):
            return answer
        return ScaleError(ErrorKind.GARBLED, f"unexpected answer {answer!r}")

    def _continuous_next(self, deadline: float) -> Reading | ScaleError | None:
        while True:
            event = self._next_event(deadline)
            if event is None:
                return None
            if isinstance(event, _Gone):
                return ScaleError(ErrorKind.DISCONNECTED, event.detail)
            if isinstance(event, Reading):
                return event
            if isinstance(event, ScaleError) and event.kind is not ErrorKind.GARBLED:
                return event

    def follow(self, stop: threading.Event | None = None) -> Iterator[Reading | ScaleError]:
        """Every reading as it comes (continuous) or polled every `poll_interval`.

        A disconnect yields one DISCONNECTED error, then waits for the reconnect.
        """
        stop = stop or threading.Event()
        self._port_error(self.command_timeout)
        self._clear_events()
        while not stop.is_set():
            if self._ever_ready and self._worker.state is not PortState.READY:
                yield ScaleError(ErrorKind.DISCONNECTED, self.last_error or "port closed")
                while not stop.is_set() and not self._worker.wait_ready(0.1):
                    pass
                self._clear_events()
                continue
            if self.protocol.continuous:
                result = self._continuous_next(time.monotonic() + self.command_timeout)
                if result is None:
                    self._set_state(PortState.ERROR, "no frames from the scale")
                    result = ScaleError(ErrorKind.TIMEOUT, "no frames from the scale")
                elif self._state is PortState.ERROR:
                    self._set_state(PortState.READY, "frames again")
            else:
                result = self._poll_once(self.command_timeout) or ScaleError(
                    ErrorKind.TIMEOUT, "no reply"
                )
            if (
                isinstance(result, ScaleError)
                and result.kind is ErrorKind.DISCONNECTED
                and self._ever_ready
            ):
                continue  # reported once, at the top of the loop
            yield result
            if not self.protocol.continuous:
                stop.wait(self.poll_interval)

    # -- asyncio twins -------------------------------------------------------------------

    async def aread_weight(
        self, *, timeout: float = 3.0, require_stable: bool = True, consecutive: int = 1
    ) -> Reading | ScaleError:
        return await asyncio.to_thread(
            self.read_weight,
            timeout=timeout,
            require_stable=require_stable,
            consecutive=consecutive,
        )

    async def azero(self, timeout: float | None = None) -> ScaleEvent:
        return await asyncio.to_thread(self.zero, timeout)

    async def atare(self, timeout: float | None = None) -> ScaleEvent:
        return await asyncio.to_thread(self.tare, timeout)

    async def aclear_tare(self, timeout: float | None = None) -> ScaleEvent:
        return await asyncio.to_thread(self.clear_tare, timeout)
