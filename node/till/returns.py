"""Returns (F4): against a receipt number, choose lines and quantities (never more than
`returnable` says is left, across tills), shelf or scrap, refunded by the original tender.
A blank receipt number takes a return without receipt (a manager approves it); F8 voids
what is left of the sale (a manager's action). Decisions are `TillSession`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Input, Static

from node.till.confirm import bind_keys
from node.till.message import MessageScreen
from node.till.sale import attempt, status_bar
from node.till.session import Done, TillSession
from node.till.texts_sale import t
from protocol.i18n import Translatable
from protocol.units import QTY_SCALE, format_money, format_qty, line_total, parse_money, parse_qty


@dataclass
class Row:
    """One line on the screen: what may come back and what the cashier chose."""

    sku: str
    name: str
    unit: str
    left: int
    unit_amount: int
    qty: int = 0
    scrap: bool = False


class ReturnScreen(MessageScreen[Done | None]):
    CSS_PATH = "sale.tcss"

    def __init__(self, session: TillSession) -> None:
        super().__init__()
        self.session = session
        self.sale: str | None = None
        self.free = False  # without receipt: lines are typed
        self.rows: list[Row] = []
        self.done: Done | None = None
        bind_keys(
            self,
            (
                ("plus,equals_sign", "more", "key_more"),
                ("minus", "less", "key_less"),
                ("f3", "scrap", "key_scrap"),
                ("f8", "void", "key_void_sale"),
                ("f12", "refund", "key_refund"),
                ("escape", "back", "key_close"),
                ("up", "cursor(-1)", ""),
                ("down", "cursor(1)", ""),
            ),
        )

    def compose(self) -> ComposeResult:
        yield status_bar()
        with Horizontal(id="returns"):
            with Vertical(id="returns-left"):
                yield Static(t("return_title"), classes="title")
                yield Input(placeholder=t("return_receipt"), id="receipt-no")
                yield DataTable(id="lines", cursor_type="row")
                yield Static(t("return_hint"), id="return-hint")
                yield Static("", id="refund")
                yield Static("", id="message")
            with VerticalScroll(id="receipt-box"):
                yield Static("", id="receipt")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one("#lines", DataTable)
        table.add_column(t("col_name"), width=14, key="name")
        table.add_column(t("col_left"), width=7, key="left")
        table.add_column(t("col_back"), width=7, key="back")
        table.add_column(t("col_total"), width=8, key="total")
        table.add_column(t("col_where"), width=4, key="where")
        table.can_focus = False
        self.query_one("#receipt-no", Input).focus()

    # ---- showing --------------------------------------------------------------------

    def refund_of(self, row: Row) -> int:
        return line_total(row.qty, row.unit_amount)

    def refresh_rows(self) -> None:
        table = self.query_one("#lines", DataTable)
        keep = table.cursor_row
        table.clear()
        for row in self.rows:
            table.add_row(
                row.name or row.sku,
                "" if self.free else format_qty(row.left),
                format_qty(row.qty),
                format_money(self.refund_of(row)),
                t("scrap") if row.scrap else t("shelf"),
            )
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
        total = sum(self.refund_of(row) for row in self.rows)
        self.query_one("#refund", Static).update(t("refund_total", refund=format_money(total)))

    # ---- finding the sale -----------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.done is not None:
            self.dismiss(self.done)
            return
        text = event.value.strip()
        if self.free:
            self.add_free_line(text)
            event.input.value = ""
            return
        if not text:
            self.free = True
            self.sale = None
            self.rows = []
            event.input.placeholder = t("return_free_hint")
            self.query_one("#return-hint", Static).update(t("return_free_hint"))
            self.refresh_rows()
            return
        self.find(text)

    def scanned(self, code: str) -> None:
        """A scanned receipt number finds the sale, as typing it does."""
        if self.done is None and not self.free:
            self.query_one("#receipt-no", Input).value = ""
            self.find(code.strip())

    def find(self, doc: str) -> None:
        try:
            lines = self.session.returnable(doc)
        except Translatable as exc:
            self.say(str(exc), error=True)
            return
        self.sale = doc
        self.rows = [Row(r.sku, r.name, r.unit, r.left, r.unit_amount) for r in lines]
        self.say("")
        self.refresh_rows()
        self.query_one("#receipt-no", Input).placeholder = doc
        table = self.query_one("#lines", DataTable)
        table.can_focus = True
        table.focus()  # +/- and the arrows now choose; the receipt field took the typing

    def add_free_line(self, text: str) -> None:
        """`CODE QTY PRICE` for a return without receipt."""
        from node.till.session import read_number

        parts = text.split()
        if len(parts) != 3:
            self.say(t("return_free_hint"), error=True)
            return
        try:
            product = self.session.node.product(parts[0])
            qty = read_number(parse_qty, parts[1])
            price = read_number(parse_money, parts[2], zero=True)
        except Translatable as exc:
            self.say(str(exc), error=True)
            return
        self.rows.append(Row(product.sku, product.name or "", product.unit, qty, price, qty))
        self.say("")
        self.refresh_rows()

    # ---- choosing -------------------------------------------------------------------

    @property
    def row(self) -> Row | None:
        table = self.query_one("#lines", DataTable)
        if not self.rows:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#lines", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.cursor_row + step, table.row_count - 1)))

    def action_more(self) -> None:
        row = self.row
        if row is None or self.free:
            return
        step = QTY_SCALE if row.unit == "pcs" else row.left
        row.qty = min(row.qty + step, row.left)
        self.refresh_rows()

    def action_less(self) -> None:
        row = self.row
        if row is None:
            return
        step = QTY_SCALE if row.unit == "pcs" else row.qty
        row.qty = max(row.qty - step, 0)
        self.refresh_rows()

    def action_scrap(self) -> None:
        row = self.row
        if row is not None:
            row.scrap = not row.scrap
            self.refresh_rows()

    # ---- posting --------------------------------------------------------------------

    def _posted(self, done: Done) -> None:
        self.done = done
        self.query_one("#receipt", Static).update("\n".join(done.receipt))
        key = "voided" if done.kind == "void" else "returned"
        self.say(t(key, refund=format_money(done.total), doc=done.doc, ref=self.sale or ""))
        field = self.query_one("#receipt-no", Input)
        field.placeholder = t("pay_close")
        field.focus()  # Enter goes back
        self.rows = []
        self.refresh_rows()

    def _fail(self, text: str) -> None:
        self.say(text, error=True)

    def action_refund(self) -> None:
        from node.sales import ReturnLine

        if self.done is not None:
            return
        lines = [
            ReturnLine(
                row.sku, row.qty, scrap=row.scrap, unit_price=row.unit_amount if self.free else None
            )
            for row in self.rows
            if row.qty > 0
        ]
        sale = None if self.free else self.sale
        if not self.free and sale is None:
            self.say(t("return_receipt"), error=True)
            return
        attempt(
            self, self.session, lambda: self.session.refund(sale, lines), self._posted, self._fail
        )

    def action_void(self) -> None:
        if self.done is not None or not self.sale:
            return
        sale = self.sale

        def done(result: Any) -> None:
            self._posted(result)

        attempt(self, self.session, lambda: self.session.void_sale(sale), done, self._fail)

    def action_back(self) -> None:
        self.dismiss(self.done)
