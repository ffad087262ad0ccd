"""The manager override: the approver's id and PIN for the one action that waits.

The modal only collects the two fields; `TillSession.approve` checks them and runs the
action with the approver recorded. A wrong PIN keeps the modal open with the reason; Esc
drops the waiting action, so an approval never carries over to another action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from node.till.session import TillSession, action_text
from node.till.texts_sale import t
from protocol.i18n import Translatable


@dataclass(frozen=True)
class Approved:
    """What the approved action returned, or the error it raised once it ran."""

    approver: str
    result: Any = None
    error: Translatable | None = None


class ApprovalModal(ModalScreen[Approved | None]):
    CSS_PATH = "sale.tcss"
    BINDINGS = (Binding("escape", "leave", show=False),)

    def __init__(self, session: TillSession, action: str, reason: str = "") -> None:
        super().__init__()
        self.session = session
        self.action = action
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                t("approval_title", action=action_text(self.action)), classes="dialog-title"
            )
            if self.reason:
                yield Static(self.reason, id="reason")
            yield Input(placeholder=t("approver_id"), id="approver")
            yield Input(placeholder=t("approver_pin"), password=True, id="pin")
            yield Static(t("approval_hint"), id="approval-message", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#approver", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        approver = self.query_one("#approver", Input).value.strip()
        pin_input = self.query_one("#pin", Input)
        if event.input.id == "approver" and not pin_input.value:
            pin_input.focus()
            return
        try:
            result = self.session.approve(approver, pin_input.value)
        except Translatable as exc:
            if self.session.pending is not None:  # not approved: ask again
                pin_input.value = ""
                message = self.query_one("#approval-message", Static)
                message.update(str(exc))
                message.add_class("error")
                pin_input.focus()
                return
            self.dismiss(Approved(approver, error=exc))
            return
        self.dismiss(Approved(approver, result))

    def action_leave(self) -> None:
        self.session.cancel_pending()
        self.dismiss(None)
