"""The picks screen (线上订单): the online orders head office routed to this store and not
yet handed over. Enter picks the selected one: at a till that sells, its lines go into the
sale basket (the sale cites the order); in the back room alone, the pick is posted for a
cashier to sell. F4 records what the store cannot supply.

Every decision is node.picking's; the screen lists, forwards keys and shows refusals.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from node import picking
from node.cli_picking import parse_lines
from node.permissions import User, may
from node.till.confirm import PromptModal
from node.till.message import MessageScreen
from node.till.status import StatusBar
from node.till.texts_picks import t
from protocol.i18n import Translatable
from protocol.units import format_qty

#: how often the list is gathered again while shown: the sync brings new orders
REFRESH_S = 5.0
KEYS = (
    ("enter", "pick", "key_pick", "Enter"),
    ("f4", "short", "key_short", "F4"),
    ("f6", "refresh", "key_refresh", "F6"),
    ("escape", "back", "key_back", "Esc"),
)


class PicksScreen(MessageScreen[None]):
    """The store's open online orders."""

    CSS_PATH = "picks.tcss"

    def __init__(self, node: Any, user: User) -> None:
        super().__init__()
        self.node = node
        self.user = user
        self.found: list[picking.Pick] = []
        for key, action, text, shown in KEYS:
            self._bindings.bind(key, action, t(text), key_display=shown, priority=key == "enter")

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="title", classes="title")
        yield DataTable(id="picks", cursor_type="row", zebra_stripes=True)
        yield Static("", id="detail")
        yield Static(t("hint"), id="message")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one("#picks", DataTable)
        table.add_column(t("col_order"), width=14, key="order")
        table.add_column(t("col_kind"), width=8, key="kind")
        table.add_column(t("col_customer"), width=10, key="customer")
        table.add_column(t("col_status"), width=8, key="status")
        table.add_column(t("col_lines"), width=28, key="lines")
        table.focus()
        self.reload()
        self.set_interval(REFRESH_S, self._tick)

    def _tick(self) -> None:
        if self.is_current:
            self.reload()

    def reload(self) -> None:
        self.found = picking.picks(self.node)
        table = self.query_one("#picks", DataTable)
        keep = table.cursor_row
        table.clear()
        for p in self.found:
            lines = ", ".join(f"{x.sku}×{format_qty(x.qty)}" for x in p.lines)
            table.add_row(
                p.order_id or p.doc,
                t(p.fulfilment) if p.fulfilment in ("pickup", "delivery") else p.fulfilment,
                p.customer or "",
                t(p.status) if p.status in ("routed", "picking", "short") else p.status,
                lines,
            )
        if self.found:
            table.move_cursor(row=min(max(keep, 0), len(self.found) - 1))
        title = t("picks_title", count=len(self.found)) if self.found else t("none")
        self.query_one("#title", Static).update(title)

    def selected(self) -> picking.Pick | None:
        row = self.query_one("#picks", DataTable).cursor_row
        return self.found[row] if 0 <= row < len(self.found) else None

    def _session(self) -> Any:
        """The till's sale session when this user sells there (a manager from F3)."""
        session = getattr(self.app, "session", None)
        return session if session is not None and may(self.user.role, "sell") else None

    def action_pick(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        session = self._session()
        try:
            if session is None:
                started = picking.start(self.node, chosen.doc)
            else:
                started = picking.load(session, chosen.doc)
        except Translatable as exc:
            self.refuse(exc.text())
            return
        if session is None:
            self.reload()
            self.say(t("started", doc=chosen.order_id or chosen.doc, pick=started))
            return
        self._back_to_sale(t("loaded", doc=chosen.order_id or chosen.doc))

    def _back_to_sale(self, text: str) -> None:
        """Pop to the sale screen, whose basket now holds the order."""
        stack = self.app.screen_stack
        sale = next((s for s in stack if type(s).__name__ == "SaleScreen"), None)
        if sale is None:
            self.say(text)
            return
        while self.app.screen is not sale:
            self.app.pop_screen()
        refresh = getattr(sale, "refresh_basket", None)
        if refresh is not None:
            refresh()
        say = getattr(sale, "say", None)
        if say is not None:
            say(text)

    def action_short(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return

        def given(answer: str | None) -> None:
            if not answer or not answer.strip():
                return
            try:
                done = picking.short(self.node, chosen.doc, parse_lines(answer.split()))
            except Translatable as exc:
                self.refuse(exc.text())
                return
            self.reload()
            self.say(t("shorted", doc=chosen.order_id or chosen.doc, short=done))

        self.app.push_screen(PromptModal(t("short_prompt")), given)

    def action_refresh(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.dismiss(None)

    def scanned(self, code: str) -> None:
        """A scan here picks nothing: the order's lines come from the order."""
