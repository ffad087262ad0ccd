"""The alerts screen (提醒): every alert of the store, newest first, filtered by kind (F4)
or by the product scanned; Enter or F5 acknowledges the one selected, F8 with a note.

Every decision is `node.alerts.AlertList`'s; the screen lays it out, forwards keys and
turns refusals into a translated message line. It gathers again every few seconds, so
what the sync brings (another till's acknowledgement, a new receipt) shows by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Input, Static

from node.alerts import AlertList, TillAlert
from node.permissions import User
from node.service import Node
from node.till.confirm import PromptModal
from node.till.message import MessageScreen
from node.till.status import StatusBar
from node.till.texts_alerts import t
from protocol.i18n import Translatable

#: how often the list is gathered again while the screen is shown
REFRESH_S = 5.0
_SIGNS = {"high": ("!", "bold red"), "medium": ("!", "bold yellow"), "low": ("·", "")}
#: the message column: what is left of 80 columns beside the others
_MESSAGE_CELLS = 30
#: (key, action, text key, shown as)
KEYS = (
    ("f5", "acknowledge", "key_ack", "F5"),
    ("f8", "acknowledge_note", "key_note", "F8"),
    ("f4", "filter", "key_filter", "F4"),
    ("f6", "refresh", "key_refresh", "F6"),
    ("escape", "back", "key_back", "Esc"),
)


def _since(ms: int | None) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(ms / 1000)) if ms else ""


def _cut(text: str, cells: int) -> str:
    if cell_len(text) <= cells:
        return text
    out = ""
    for char in text:
        if cell_len(out + char) > cells - 1:
            break
        out += char
    return out + "…"


class AlertsScreen(MessageScreen[None]):
    """The store's alerts; `scanned(code)` shows only that product's."""

    CSS_PATH = "alerts.tcss"

    def __init__(self, node: Node, user: User) -> None:
        super().__init__()
        self.node = node
        self.user = user
        self.list = AlertList(node, user)
        # bound here, not in BINDINGS: the labels are in the language of the moment
        for key, action, text, shown in KEYS:
            self._bindings.bind(key, action, t(text), key_display=shown)
        self._bindings.bind("up", "cursor(-1)", "", show=False)
        self._bindings.bind("down", "cursor(1)", "", show=False)

    # ---- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="title", classes="title")
        yield Input(placeholder=t("prompt"), id="scan")
        yield DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
        yield Static("", id="detail")
        yield Static("", id="message")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one("#alerts", DataTable)
        table.can_focus = False
        table.add_column("", width=1, key="sign")
        table.add_column(t("col_kind"), width=8, key="kind")
        table.add_column(t("col_sku"), width=8, key="sku")
        table.add_column(t("col_since"), width=11, key="since")
        table.add_column(t("col_ack"), width=6, key="ack")
        table.add_column(t("col_message"), width=_MESSAGE_CELLS, key="message")
        self.query_one("#scan", Input).focus()
        self.reload()
        self.set_interval(REFRESH_S, self._tick)

    def _tick(self) -> None:
        if self.is_current:
            self.reload()

    def reload(self) -> None:
        self._try(self.list.refresh)
        self.show()

    def show(self) -> None:
        table = self.query_one("#alerts", DataTable)
        keep = table.cursor_row
        table.clear()
        shown = self.list.shown()
        for alert in shown:
            sign, style = _SIGNS[alert.severity]
            ack = alert.acknowledged
            table.add_row(
                Text(sign, style=style),
                t(f"kind_{alert.kind}"),
                _cut(alert.sku or "", 8),
                _since(alert.since),
                _cut(ack.user, 6) if ack else Text(t("not_acked"), style="bold"),
                _cut(alert.message.text(), _MESSAGE_CELLS),
                key=alert.key,
            )
        if shown:
            table.move_cursor(row=max(0, min(keep, len(shown) - 1)))
        kind = t(f"kind_{self.list.kind}") if self.list.kind else t("filter_all")
        label = t("filter_sku", kind=kind, sku=self.list.sku) if self.list.sku else kind
        self.query_one("#title", Static).update(
            t("title", filter=label, n=len(shown), open=self.list.unacknowledged())
        )
        self.show_detail()

    def show_detail(self) -> None:
        alert = self.selected()
        detail = self.query_one("#detail", Static)
        if alert is None:
            empty = not self.list.items
            detail.update(t("none") if empty else t("none_shown"))
            return
        lines = [alert.message.text()]
        if alert.acknowledged is not None:
            ack = alert.acknowledged
            note = f" — {ack.note}" if ack.note else ""
            lines.append(t("acked_by", user=ack.user, at=_since(ack.at_ms), note=note))
        detail.update("\n".join(lines))

    def selected(self) -> TillAlert | None:
        shown = self.list.shown()
        if not shown:
            return None
        row = self.query_one("#alerts", DataTable).cursor_row
        return shown[max(0, min(row, len(shown) - 1))]

    # ---- messages ---------------------------------------------------------------------

    def _try(self, act: Callable[[], Any]) -> Any:
        try:
            return act()
        except Translatable as exc:
            self.refuse(str(exc))
            return None

    # ---- input ------------------------------------------------------------------------

    def scanned(self, code: str) -> None:
        """A code from the scanner: only that product's alerts."""
        self.handle_line(code)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "scan":
            return
        event.input.value = ""
        self.handle_line(event.value)

    def handle_line(self, text: str) -> None:
        if not text.strip():
            self.action_acknowledge()
            return
        if self._try(lambda: self.list.find(text)) is not None:
            self.say("")
            self.show()

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#alerts", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.cursor_row + step, table.row_count - 1)))
        self.show_detail()

    def action_filter(self) -> None:
        self.list.next_kind()
        self.query_one("#alerts", DataTable).move_cursor(row=0)
        self.show()

    def action_refresh(self) -> None:
        self.reload()

    def action_acknowledge(self, note: str | None = None) -> None:
        alert = self.selected()
        if alert is None:
            self.refuse(t("none") if not self.list.items else t("none_shown"))
            return
        if alert.acknowledged is not None:
            self.refuse(t("already"))
            return
        doc = self._try(lambda: self.list.acknowledge(alert, note))
        if doc is not None:
            self.say(t("acked", doc=doc))
            counter = getattr(self.app, "alert_count", None)
            stale = getattr(counter, "stale", None)
            if callable(stale):
                stale()
        self.show()

    def action_acknowledge_note(self) -> None:
        alert = self.selected()
        if alert is None or alert.acknowledged is not None:
            self.action_acknowledge()
            return

        def answered(value: str | None) -> None:
            if value is not None:
                self.action_acknowledge(value)

        self.app.push_screen(PromptModal(t("ask_note")), answered)

    def action_back(self) -> None:
        """Esc: first the product filter goes, then the screen."""
        if self.list.sku is not None:
            self.list.find("")
            self.show()
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
