"""A receipt printer on any pyserial URL: print jobs with a deadline, state, reconnects.

The port is owned by a `devices.port.PortWorker` (the reader thread the scanner and scale
use): it notices an unplugged printer at once (the read fails), reconnects with backoff and
carries the printer's status answers. Jobs are written from one sender thread, and the
caller waits for at most `timeout` seconds: a printer that stops taking bytes (a full
buffer, a hung USB adapter, a blocked `tcdrain`) costs the till an error message, never a
frozen screen.

Before each job the printer is asked for its paper sensor (`DLE EOT 4`); one that never
answers (many cheap models, or a serial line without the return wire) is not asked again
until it reconnects, so it costs one short wait per connection.

States (a `PortState`, as the scale and scanner): connecting → ready; disconnected while the
port is gone (shown as offline); error when the printer says it is out of paper or did not
take a job in time; closed.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Literal

from devices.port import Backoff, PortState, PortWorker
from devices.printer import escpos
from devices.transport import PortGone, SerialSettings

ErrorKind = Literal["offline", "paper_out", "timeout", "closed"]


class PrinterError(Exception):
    """A job that was not printed, for a person to act on.

    devices imports nothing of ours, so the message is an English `str.format` template
    with fields (`template`, `fields`) that the till renders in its reader's language
    (node/receipt.py registers the zh-CN texts); `str()` is the English text."""

    def __init__(self, kind: ErrorKind, template: str, /, **fields: object) -> None:
        self.kind: ErrorKind = kind
        self.template = template
        self.fields = fields
        super().__init__(template.format(**fields))


#: `detail` (why the port failed) is kept in the error's fields for logs, not shown
OFFLINE = "the receipt printer at {url} is offline: check its cable and power"
PAPER_OUT = "the receipt printer at {url} is out of paper: put in a new roll and print again"
TIMEOUT = (
    "the receipt printer at {url} did not take the receipt within {seconds} s: "
    "check that it is on and not jammed, then print again"
)
CLOSED = "the receipt printer at {url} is closed: restart the till to print"

#: every template above, for the till's translations
MESSAGES = (OFFLINE, PAPER_OUT, TIMEOUT, CLOSED)


class ReceiptPrinter:
    """Print receipts on the ESC/POS printer at `url` (e.g. /dev/ttyUSB1, socket://…:9100).

    `width` is the paper's width in columns of the normal font (32 on 58 mm paper, 42 or
    48 on 80 mm); layouts ask for it. `print_receipt` blocks for at most `timeout` s."""

    def __init__(
        self,
        url: str,
        width: int = 32,
        *,
        settings: SerialSettings | None = None,
        timeout: float = 5.0,
        status_timeout: float = 0.5,
        backoff: Backoff | None = None,
        on_state: Callable[[PortState, str], None] | None = None,
    ) -> None:
        self.url = url
        self.width = width
        self.timeout = timeout
        self.status_timeout = status_timeout
        self._on_state = on_state
        self._answers: queue.Queue[int] = queue.Queue(256)
        #: None: not known yet on this connection; False: it does not answer status
        self._answers_status: bool | None = None
        self._fault = ""  # set: the printer is up but cannot print (paper, jam)
        self._state = PortState.CONNECTING
        self._jobs: queue.Queue[tuple[bytes, bool, Future[None]] | None] = queue.Queue()
        self._sender: threading.Thread | None = None
        self._closed = False
        self._last: tuple[tuple[str, ...], str | None] | None = None
        self._worker = PortWorker(
            url,
            settings or SerialSettings(9600, 8, "N", 1),
            self._on_data,
            on_state=self._port_state,
            backoff=backoff,
            name="printer",
        )

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> ReceiptPrinter:
        if self._sender is None:
            self._sender = threading.Thread(
                target=self._send_loop, name=f"printer-jobs:{self.url}", daemon=True
            )
            self._sender.start()
        self._worker.start()
        return self

    def close(self) -> None:
        self._closed = True
        self._jobs.put(None)
        self._worker.stop()
        if self._sender is not None:
            self._sender.join(1.0)

    def __enter__(self) -> ReceiptPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._worker.wait_ready(timeout)

    @property
    def state(self) -> PortState:
        return self._state

    @property
    def last_error(self) -> str:
        return self._fault or self._worker.last_error

    # -- printing ------------------------------------------------------------------------

    def print_receipt(
        self, lines: Sequence[str], *, kick_drawer: bool = False, title: str | None = None
    ) -> None:
        """Print `lines` (already laid out at `width`), cut, and open the drawer first if
        `kick_drawer`. Raises `PrinterError` when nothing (or not all) was printed."""
        self._last = (tuple(lines), title)  # before: a receipt that failed is reprinted
        self._send(escpos.receipt(lines, title=title, kick_drawer=kick_drawer))

    def reprint_last(self, lines: Sequence[str] | None = None) -> bool:
        """Print the last receipt asked for again (printed or not: paper ran out, say),
        without opening the drawer; `lines` replaces its text (a layout marked as a copy).
        False when no receipt was asked for yet."""
        if self._last is None:
            return False
        old, title = self._last
        self._send(escpos.receipt(old if lines is None else lines, title=title))
        return True

    def refresh(self) -> PortState:
        """Ask the printer for its paper without printing, for a status bar's periodic look
        (run it off the UI thread: it may wait `status_timeout`). Never raises: the answer
        is the state (error while the roll is out, ready again once it is in)."""
        if self._closed or self._state not in (PortState.READY, PortState.ERROR):
            return self._state
        with contextlib.suppress(PrinterError):
            self._send(b"")
        return self._state

    def open_drawer(self) -> None:
        """Kick the cash drawer open without printing."""
        self._send(escpos.drawer_kick(), check_paper=False)

    def _send(self, data: bytes, *, check_paper: bool = True) -> None:
        if self._closed:
            raise PrinterError("closed", CLOSED, url=self.url)
        if self._state is not PortState.READY and not self._worker.wait_ready(
            min(self.timeout, 1.0)
        ):
            raise self._offline()
        future: Future[None] = Future()
        self._jobs.put((data, check_paper, future))
        try:
            future.result(self.timeout)
        except FutureTimeout:
            future.cancel()
            seconds = _seconds(self.timeout)
            self._fault = TIMEOUT.format(url=self.url, seconds=seconds)
            self._set_state(PortState.ERROR, self._fault)
            raise PrinterError("timeout", TIMEOUT, url=self.url, seconds=seconds) from None

    def _offline(self) -> PrinterError:
        detail = self._worker.last_error or str(self._state)
        return PrinterError("offline", OFFLINE, url=self.url, detail=detail)

    # -- the sender thread ---------------------------------------------------------------

    def _send_loop(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            data, check_paper, future = item
            if not future.set_running_or_notify_cancel():
                continue  # its caller gave up while it waited in the queue
            try:
                self._write_job(data, check_paper)
            except BaseException as exc:  # handed to the caller, who shows it
                future.set_exception(exc)
            else:
                future.set_result(None)

    def _write_job(self, data: bytes, check_paper: bool) -> None:
        answered = self._check_paper() if check_paper else False
        if not data:  # a status check only
            if self._fault and answered:  # it answers, and has paper: whatever was wrong is over
                self._fault = ""
                self._set_state(self._worker.state, "paper in")
            return
        try:
            self._worker.write(data)
        except PortGone as exc:
            if not _timed_out(exc):
                raise PrinterError("offline", OFFLINE, url=self.url, detail=str(exc)) from exc
            # connected but not taking bytes: part of the receipt may be on the paper
            seconds = _seconds(WRITE_TIMEOUT)
            self._fault = TIMEOUT.format(url=self.url, seconds=seconds)
            self._set_state(PortState.ERROR, self._fault)
            raise PrinterError("timeout", TIMEOUT, url=self.url, seconds=seconds) from exc
        if self._fault:  # it took a whole job: whatever was wrong is over
            self._fault = ""
            self._set_state(self._worker.state, "printed")

    def _check_paper(self) -> bool:
        """Ask the paper sensor; True when the printer answered that it has paper."""
        if self._answers_status is False:
            return False
        while not self._answers.empty():
            self._answers.get_nowait()
        try:
            self._worker.write(escpos.PAPER_STATUS)
        except PortGone as exc:
            raise PrinterError("offline", OFFLINE, url=self.url, detail=str(exc)) from exc
        try:
            status = self._answers.get(timeout=self.status_timeout)
        except queue.Empty:
            self._answers_status = False
            return False
        self._answers_status = True
        if escpos.paper_out(status):
            self._fault = PAPER_OUT.format(url=self.url)
            self._set_state(PortState.ERROR, self._fault)
            raise PrinterError("paper_out", PAPER_OUT, url=self.url)
        return True

    # -- worker-thread callbacks ---------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        for byte in data:
            try:
                self._answers.put_nowait(byte)
            except queue.Full:  # unsolicited chatter nobody asked for: drop it
                return

    def _port_state(self, state: PortState, detail: str) -> None:
        if state is PortState.CONNECTING:  # perhaps another printer, or a new roll
            self._answers_status = None
            self._fault = ""
        if state is PortState.READY and self._fault:
            state, detail = PortState.ERROR, self._fault
        self._set_state(state, detail)

    def _set_state(self, state: PortState, detail: str) -> None:
        changed = state is not self._state
        self._state = state
        if changed and self._on_state is not None:
            self._on_state(state, detail)


#: how long one write may block before pyserial gives up (`devices.transport`)
WRITE_TIMEOUT = 1.0


def _timed_out(exc: PortGone) -> bool:
    """A write that timed out (the port is there, the printer does not read), told from a
    port that is gone by the pyserial error behind it."""
    return type(exc.__cause__).__name__ == "SerialTimeoutException"


def _seconds(value: float) -> str:
    return f"{value:g}"
