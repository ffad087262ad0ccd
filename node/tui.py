"""The counter UI (Textual): scan or type to sell, see stock, see the sync link.

All decisions live in node.counter and node.service; this module only lays out widgets
and forwards input. Sync runs as a background worker on the app's event loop; the serial
scanner and scale have their own reader threads (devices), and everything that touches the
ledger happens on the UI's event loop, one sale at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header, Input, Static

from node import counter
from node.errors import NodeError
from node.i18n import t
from node.service import Node
from node.sync import SyncWorker
from protocol.units import format_qty

if TYPE_CHECKING:  # devices loads on first use (only with a scanner or scale attached)
    from devices import ScaleSession, ScannerReader
    from devices.scanner.framing import Suffix


@dataclass(frozen=True)
class DeviceConfig:
    """Serial devices at the counter: any pyserial URL (/dev/ttyUSB0, socket://, a pty)."""

    scanner: str | None = None
    scanner_suffix: Suffix = "cr"
    scale: str | None = None
    scale_protocol: str = "mt-sics"


class CounterApp(App):
    CSS = """
    #message { height: 3; padding: 0 1; }
    #message.error { color: $error; }
    #link { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar = [("ctrl+q", "quit", "Quit / 退出")]

    def __init__(
        self,
        node: Node,
        nats_url: str | None = None,
        sync_interval: float = 5.0,
        sync: bool = True,
        devices: DeviceConfig | None = None,
    ) -> None:
        super().__init__()
        self.node = node
        self.sync_enabled = sync
        self.sync_worker = SyncWorker(node, nats_url, sync_interval)
        self.status = self.sync_worker.status
        self.devices = devices or DeviceConfig()
        self.scanner: ScannerReader | None = None
        self.scale: ScaleSession | None = None
        self.title = f"{t('title')} · {node.config.node} @ {node.config.location}"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=t("scan_prompt"), id="scan")
        yield Static("", id="message")
        yield DataTable(id="stock", cursor_type="row")
        yield Static("", id="link")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#stock", DataTable)
        table.add_columns(t("location"), t("sku"), t("name"), t("qty"))
        self.refresh_stock()
        self.refresh_link()
        self.set_interval(1.0, self.refresh_link)
        if self.sync_enabled:
            self.run_worker(
                self.sync_worker.run(), name="sync", exclusive=True, exit_on_error=False
            )
        self._start_devices()
        self.query_one("#scan", Input).focus()

    def _start_devices(self) -> None:
        from devices import ScaleSession, ScannerReader

        if self.devices.scanner:
            self.scanner = ScannerReader(
                self.devices.scanner, suffix=self.devices.scanner_suffix, on_event=self._scanned
            ).start()
        if self.devices.scale:
            self.scale = ScaleSession(self.devices.scale, self.devices.scale_protocol).start()

    def on_unmount(self) -> None:
        for device in (self.scanner, self.scale):
            if device is not None:
                device.close()

    def _scanned(self, event) -> None:
        """Called on the scanner's reader thread."""
        code = getattr(event, "code", None)
        if code is None:
            self.call_from_thread(self.show_error, f"scanner: {event.reason}")
        else:
            self.call_from_thread(self.handle_line, code)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.value = ""
        self.handle_line(event.value)

    def handle_line(self, line: str) -> None:
        scale = self.scale
        if scale is not None and counter.needs_weight(self.node, line):
            self.query_one("#message", Static).update(t("weighing"))
            self.run_worker(lambda: self._weigh(scale, line), thread=True, group="scale")
            return
        self.sell(line)

    def _weigh(self, scale: ScaleSession, line: str) -> None:
        """On a worker thread: wait for a stable weight, then sell on the UI thread."""
        reading = scale.read_weight(timeout=5.0)
        self.call_from_thread(self.sell, line, reading)

    def sell(self, line: str, reading=None) -> None:
        weigh = (lambda: counter.weight_from_scale(reading)) if reading is not None else None
        try:
            outcome = counter.sell_line(self.node, line, weigh)
        except NodeError as exc:
            self.show_error(str(exc))
            return
        self.sync_worker.wake()
        message = self.query_one("#message", Static)
        message.set_class(False, "error")
        message.update(t("sold", qty=outcome.qty, sku=outcome.sku, total=outcome.total))
        self.refresh_stock()

    def show_error(self, text: str) -> None:
        message = self.query_one("#message", Static)
        message.set_class(True, "error")
        message.update(text)
        self.bell()

    def refresh_stock(self) -> None:
        table = self.query_one("#stock", DataTable)
        table.clear()
        names = {p.sku: p.name or "" for p in self.node.products()}
        for row in self.node.stock():
            table.add_row(row.location, row.sku, names.get(row.sku, ""), format_qty(row.qty))

    def refresh_link(self) -> None:
        s = self.status
        state = t("online") if s.connected else t("offline")
        text = f"{state} · {t('backlog', n=s.backlog)} · {t('unconfirmed', n=s.unconfirmed)}"
        if s.last_error and not s.connected:
            text += f" · {s.last_error}"
        for label, device in (("scanner", self.scanner), ("scale", self.scale)):
            if device is not None:
                text += f" · {t(label)}: {device.state.value}"
        self.query_one("#link", Static).update(text)
