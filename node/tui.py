"""The counter UI (Textual): scan or type to sell, see stock, see the sync link.

All decisions live in node.counter and node.service; this module only lays out widgets
and forwards input. Sync runs as a background worker on the app's event loop.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header, Input, Static

from node import counter
from node.errors import NodeError
from node.i18n import t
from node.service import Node
from node.sync import SyncWorker
from protocol.units import format_qty


class CounterApp(App):
    CSS = """
    #message { height: 3; padding: 0 1; }
    #message.error { color: $error; }
    #link { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar = [("ctrl+q", "quit", "Quit / 退出")]

    def __init__(
        self, node: Node, nats_url: str | None = None, sync_interval: float = 5.0, sync: bool = True
    ) -> None:
        super().__init__()
        self.node = node
        self.nats_url = nats_url
        self.sync_interval = sync_interval
        self.sync_enabled = sync
        self.sync_worker = SyncWorker(node, nats_url, sync_interval)
        self.status = self.sync_worker.status
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
        self.query_one("#scan", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        message = self.query_one("#message", Static)
        event.input.value = ""
        try:
            outcome = counter.sell_line(self.node, event.value)
        except NodeError as exc:
            message.set_class(True, "error")
            message.update(str(exc))
            self.bell()
            return
        self.sync_worker.wake()
        message.set_class(False, "error")
        message.update(t("sold", qty=outcome.qty, sku=outcome.sku, total=outcome.total))
        self.refresh_stock()

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
        self.query_one("#link", Static).update(text)
