"""Shift (F10): open with a float; X report of the running totals; Z report to close, with
the counted cash typed in, shown here and printed. Decisions are `TillSession`'s.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Input, Static

from node.till.confirm import ConfirmModal, bind_keys
from node.till.message import MessageScreen
from node.till.sale import attempt, status_bar
from node.till.session import TillSession
from node.till.texts_sale import t
from protocol.i18n import Translatable
from protocol.units import format_money


class ShiftScreen(MessageScreen[None]):
    CSS_PATH = "sale.tcss"

    def __init__(self, session: TillSession) -> None:
        super().__init__()
        self.session = session
        bind_keys(
            self,
            (
                ("f2", "x_report", "key_x"),
                ("f11", "print_x", "key_print_x"),
                ("f12", "z_report", "key_z"),
                ("escape", "back", "key_close"),
            ),
        )

    def compose(self) -> ComposeResult:
        yield status_bar()
        with Horizontal(id="shift"):
            with Vertical(id="shift-left"):
                yield Static(t("shift_title"), classes="title")
                yield Static("", id="shift-state")
                yield Input(id="cash")
                yield Static("", id="message")
            with VerticalScroll(id="receipt-box"):
                yield Static("", id="report")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_state()
        self.query_one("#cash", Input).focus()

    def refresh_state(self) -> None:
        try:
            shift = self.session.shift()
        except Translatable as exc:
            self.say(str(exc), error=True)
            return
        state = self.query_one("#shift-state", Static)
        cash = self.query_one("#cash", Input)
        if shift is None:
            state.update(t("shift_closed"))
            cash.placeholder = t("shift_float")
        else:
            state.update(
                t(
                    "shift_open_since",
                    doc=shift.doc,
                    user=shift.opened_by,
                    since=shift.opened_at[11:16],
                    float=format_money(shift.cash_float),
                )
            )
            cash.placeholder = t("shift_counted")

    def _fail(self, text: str) -> None:
        self.say(text, error=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        if self.session.shift() is None:
            self.open(text)
        else:
            self.close(text)

    def open(self, text: str) -> None:
        def opened(shift: Any) -> None:
            self.say(t("shift_opened", doc=shift.doc))
            self.query_one("#report", Static).update("")
            self.refresh_state()

        attempt(self, self.session, lambda: self.session.open_shift(text), opened, self._fail)

    def close(self, text: str) -> None:
        """Ask first: a Z report ends the shift and can never be taken back."""
        from node.shifts import parse_counted

        try:
            counted = parse_counted(text)
            report, _ = self.session.x_report()
        except Translatable as exc:
            self._fail(str(exc))
            return
        detail = t(
            "shift_z_detail",
            expected=format_money(report.expected_cash),
            counted=format_money(counted),
            variance=format_money(counted - report.expected_cash),
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._post_z(text)
            else:
                self.say(t("shift_z_not_yet"))

        self.app.push_screen(ConfirmModal(t("shift_z_confirm"), detail), answered)

    def _post_z(self, text: str) -> None:
        def closed(outcome: Any) -> None:
            shift, lines, error = outcome
            self.query_one("#report", Static).update("\n".join(lines))
            self.say(
                error if error else t("shift_z_done", number=f"{shift.report.number or 0:04d}"),
                error=bool(error),
            )
            self.refresh_state()

        attempt(self, self.session, lambda: self.session.close_shift(text), closed, self._fail)

    def action_x_report(self) -> None:
        def shown(outcome: Any) -> None:
            _, lines = outcome
            self.query_one("#report", Static).update("\n".join(lines))
            self.say("")

        attempt(self, self.session, self.session.x_report, shown, self._fail)

    def action_print_x(self) -> None:
        def printed(done: bool) -> None:
            self.say(t("printed") if done else t("no_printer"))

        attempt(self, self.session, self.session.print_x_report, printed, self._fail)

    def action_z_report(self) -> None:
        field = self.query_one("#cash", Input)
        if self.session.shift() is not None and field.value.strip():
            text = field.value.strip()
            field.value = ""
            self.close(text)
        else:
            field.focus()
            self.say(t("shift_counted"))

    def action_back(self) -> None:
        self.dismiss(None)
