"""The till's main screen: the basket as it is scanned, its totals, and the keys that lead
to paying, returns, parked baskets and the shift. Every decision is `TillSession`'s; this
screen lays it out and forwards keys, and turns refusals into a translated message line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Static

from node.till.approval import ApprovalModal, Approved
from node.till.confirm import ConfirmModal, PromptModal, bind_keys
from node.till.message import MessageScreen
from node.till.session import Done, NeedsApproval, TillSession
from node.till.texts_sale import t
from protocol.i18n import Translatable
from protocol.units import format_money, format_qty

KEYS = (
    ("f2", "lookup", "key_lookup"),
    ("f3", "backroom", "key_backroom", "hidden"),
    ("f4", "returns", "key_return"),
    ("f5", "park", "key_suspend"),
    ("f6", "quantity", "key_qty", "hidden"),
    ("f7", "discount", "key_discount", "hidden"),
    ("f8", "void_line", "key_void_line"),
    ("f9", "price", "key_price"),
    ("f10", "shift", "key_shift"),
    ("f11", "reprint", "key_reprint", "hidden"),  # the footer has no room: help lists it
    ("f12", "pay", "key_pay"),
    ("escape", "cancel", "key_cancel"),
    ("up", "cursor(-1)", ""),
    ("down", "cursor(1)", ""),
)


def qty_text(line: Any) -> str:
    """Pieces as a whole number ("2"), weights with their unit ("0.642kg")."""
    if line.unit == "pcs" and line.qty % 1000 == 0:
        return str(line.qty // 1000)
    return format_qty(line.qty) + ("" if line.unit == "pcs" else line.unit)


def status_bar() -> Widget:
    """The frame's status bar, on every screen."""
    from node.till.status import StatusBar

    return StatusBar()


def attempt(
    screen: Screen[Any],
    session: TillSession,
    act: Callable[[], Any],
    done: Callable[[Any], None],
    fail: Callable[[str], None],
) -> None:
    """Run `act`; a manager override asks for the approver first, a refusal calls `fail`
    with its translated text."""
    try:
        result = act()
    except NeedsApproval as exc:
        fail(str(exc))

        def approved(outcome: Approved | None) -> None:
            if outcome is None:
                fail(t("not_approved"))
            elif outcome.error is not None:
                fail(str(outcome.error))
            else:
                done(outcome.result)

        screen.app.push_screen(ApprovalModal(session, exc.action, str(exc)), approved)
        return
    except (Translatable, ValueError) as exc:
        fail(str(exc))
        return
    done(result)


class SaleScreen(MessageScreen[None]):
    """Scan, see the basket, pay. `scanned(code)` is the scanner's way in."""

    CSS_PATH = "sale.tcss"

    def __init__(self, session: TillSession, scale: Any = None) -> None:
        super().__init__()
        self.session = session
        self._scale = scale
        bind_keys(self, KEYS)

    @property
    def scale(self) -> Any:
        return self._scale if self._scale is not None else getattr(self.app, "scale", None)

    def compose(self) -> ComposeResult:
        yield status_bar()
        yield Input(placeholder=t("sale_prompt"), id="scan")
        yield DataTable(id="basket", cursor_type="row", zebra_stripes=True)
        yield Static("", id="totals")
        yield Static("", id="message")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one("#basket", DataTable)
        table.add_column(t("col_no"), width=2, key="no")
        table.add_column(t("col_name"), width=22, key="name")
        table.add_column(t("col_qty"), width=9, key="qty")
        table.add_column(t("col_price"), width=9, key="price")
        table.add_column(t("col_discount"), width=8, key="discount")
        table.add_column(t("col_total"), width=10, key="total")
        table.can_focus = False
        self.refresh_basket()
        self.query_one("#scan", Input).focus()

    # ---- showing --------------------------------------------------------------------

    def refresh_basket(self, select: int | None = None) -> None:
        table = self.query_one("#basket", DataTable)
        keep = table.cursor_row
        table.clear()
        for i, line in enumerate(self.session.basket.lines):
            table.add_row(
                str(i + 1),
                line.name or line.sku,
                qty_text(line),
                format_money(line.unit_price) + ("*" if line.overridden else ""),
                format_money(line.gross - line.total) if line.total != line.gross else "",
                format_money(line.total),
            )
        count = len(self.session.basket.lines)
        if count:
            row = select if select is not None else min(keep, count - 1)
            table.move_cursor(row=max(row, 0))
        basket = self.session.basket
        self.query_one("#totals", Static).update(
            t(
                "totals",
                lines=count,
                discounts=format_money(basket.discounts_total),
                total=format_money(basket.total),
            )
        )

    @property
    def current(self) -> int:
        return self.query_one("#basket", DataTable).cursor_row

    def _try(self, act: Callable[[], Any], done: Callable[[Any], None]) -> None:
        attempt(self, self.session, act, done, self.refuse)

    # ---- scanning -------------------------------------------------------------------

    def scanned(self, code: str) -> None:
        """A code from the scanner: the same as typing it and pressing Enter."""
        self.handle_line(code)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "scan":
            return
        event.input.value = ""
        self.handle_line(event.value)

    def handle_line(self, text: str) -> None:
        from node.counter import needs_weight

        scale = self.scale
        if scale is not None and needs_weight(self.session.node, text):
            self.say(t("weighing"))
            self.run_worker(
                lambda: self._weigh(scale, text), thread=True, group="scale", exit_on_error=False
            )
            return
        self.add(text)

    def _weigh(self, scale: Any, text: str) -> None:
        """On a worker thread: wait for the scale's stable weight, then add on the UI."""
        try:
            reading = scale.read_weight(timeout=5.0)
        except Exception as exc:  # a scale that fails is told, the till goes on
            self.app.call_from_thread(self.refuse, str(exc))
            return
        self.app.call_from_thread(self.add, text, reading)

    def add(self, text: str, reading: Any = None) -> None:
        from node.counter import weight_from_scale

        weigh = (lambda: weight_from_scale(reading)) if reading is not None else None

        def added(index: int) -> None:
            line = self.session.basket.lines[index]
            self.refresh_basket(select=index)
            self.say(t("added", name=line.name or line.sku, qty=qty_text(line)))

        self._try(lambda: self.session.scan(text, weigh), added)

    # ---- line edits -----------------------------------------------------------------

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#basket", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.cursor_row + step, table.row_count - 1)))

    def _edit(self, ask: str, change: Callable[[int, str], None], said: str) -> None:
        if not self.session.basket.lines:
            self.refuse(t("no_lines"))
            return
        index = self.current

        def answered(value: str | None) -> None:
            if value is None or not value.strip():
                return

            def done(_: Any) -> None:
                self.refresh_basket(select=index)
                self.say(t(said, line=index + 1))

            self._try(lambda: change(index, value), done)

        self.app.push_screen(PromptModal(t(ask, line=index + 1)), answered)

    def action_quantity(self) -> None:
        self._edit("ask_qty", self.session.set_qty, "qty_changed")

    def action_discount(self) -> None:
        self._edit("ask_discount", self.session.discount, "discounted")

    def action_price(self) -> None:
        self._edit("ask_price", self.session.override_price, "price_changed")

    def action_void_line(self) -> None:
        if not self.session.basket.lines:
            self.refuse(t("no_lines"))
            return
        index = self.current

        def done(_: Any) -> None:
            self.refresh_basket()
            self.say(t("removed", line=index + 1))

        self._try(lambda: self.session.void_line(index), done)

    def action_cancel(self) -> None:
        if not self.session.basket.lines:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.session.cancel_basket()
                self.refresh_basket()
                self.say(t("cancelled"))

        self.app.push_screen(ConfirmModal(t("confirm_cancel")), answered)

    # ---- parked baskets, lookup -----------------------------------------------------

    def action_park(self) -> None:
        if self.session.basket.lines:

            def parked(number: int) -> None:
                self.refresh_basket()
                self.say(t("suspended", number=number))

            self._try(self.session.suspend, parked)
            return
        if not self.session.suspended():
            self.say(t("no_suspended"))
            return

        def chosen(number: int | None) -> None:
            if number is None:
                return

            def resumed(_: Any) -> None:
                self.refresh_basket(select=0)
                self.say(t("resumed", number=number))

            self._try(lambda: self.session.resume(number), resumed)

        self.app.push_screen(ParkedModal(self.session), chosen)

    def action_lookup(self) -> None:
        def chosen(sku: str | None) -> None:
            if sku:
                self.handle_line(sku)

        from node.till.lookup import LookupScreen

        screen = LookupScreen(self.session.node, self.session.user, pick=True)
        self.app.push_screen(screen, chosen)

    # ---- paying, returns, shift -----------------------------------------------------

    def action_pay(self) -> None:
        from node.till.pay import PayScreen

        if not self.session.basket.lines:
            self.refuse(t("no_lines"))
            return
        try:
            short = self.session.shortfalls()
            self.session._shift_required()  # pyright: ignore[reportPrivateUsage]
        except Translatable as exc:
            self.refuse(str(exc))
            return

        def paid(done: Done | None) -> None:
            self.refresh_basket()
            if done is not None:
                self.say(t("sold", doc=done.doc, change=format_money(done.change)))

        if not short:
            self.app.push_screen(PayScreen(self.session), paid)
            return
        names = {line.sku: line.name or line.sku for line in self.session.basket.lines}
        detail = "\n".join(
            t(
                "beyond_stock",
                name=names.get(s.sku, s.sku),
                wanted=format_qty(s.wanted),
                held=format_qty(s.held),
            )
            for s in short
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.push_screen(PayScreen(self.session, confirmed_beyond_stock=True), paid)

        self.app.push_screen(ConfirmModal(t("beyond_stock_ask"), detail), answered)

    def action_returns(self) -> None:
        from node.till.returns import ReturnScreen

        def back(done: Done | None) -> None:
            if done is not None:
                self.say(t("returned", refund=format_money(done.total), doc=done.doc))

        self.app.push_screen(ReturnScreen(self.session), back)

    def action_backroom(self) -> None:
        """Receiving, transfers, stocktake, lookup and alerts: the back room's menu."""
        from node.till.backroom import BackRoomScreen

        self.app.push_screen(BackRoomScreen(self.session.node, self.session.user))

    def action_shift(self) -> None:
        from node.till.shift import ShiftScreen

        self.app.push_screen(ShiftScreen(self.session))

    def action_reprint(self) -> None:
        def done(printed: bool) -> None:
            self.say(t("reprinted") if printed else t("no_printer"))

        self._try(self.session.reprint, done)


class ParkedModal(ModalScreen[int | None]):
    """The parked baskets, oldest first; Enter takes one back."""

    CSS_PATH = "sale.tcss"

    def __init__(self, session: TillSession) -> None:
        super().__init__()
        self.session = session
        bind_keys(self, (("escape", "leave", "key_close"), ("enter", "take", "key_ok")))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(t("parked_title"), classes="dialog-title")
            yield DataTable(id="parked", cursor_type="row")
            yield Static(t("parked_hint"), classes="dialog-hint")

    def on_mount(self) -> None:
        table = self.query_one("#parked", DataTable)
        table.add_column(t("col_no"), key="no")
        table.add_column(t("col_when"), key="when")
        table.add_column(t("col_user"), key="user")
        table.add_column(t("col_lines"), key="lines")
        table.add_column(t("col_total"), key="total")
        for parked in self.session.suspended():
            table.add_row(
                str(parked.id),
                parked.suspended_at[11:16],
                parked.user,
                str(parked.lines),
                format_money(parked.total),
                key=str(parked.id),
            )
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss(int(str(event.row_key.value)))

    def action_take(self) -> None:
        table = self.query_one("#parked", DataTable)
        if table.row_count:
            self.dismiss(int(str(table.get_row_at(table.cursor_row)[0])))

    def action_leave(self) -> None:
        self.dismiss(None)
