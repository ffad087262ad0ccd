"""The manager override: the approver's id and PIN for the one action that waits.

The modal only collects the two fields; `TillSession.approve` checks them and runs the
action with the approver recorded. A wrong PIN keeps the modal open with the reason; Esc
drops the waiting action, so an approval never carries over to another action.
"""

from __future__ import annotations

from collections.abc import Callable
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


class PinModal(ModalScreen[Any]):
    """A manager's id and PIN for one action, checked by `check(id, pin)`: a refusal (a
    wrong PIN) keeps the modal open with the reason unless `ask_again` says otherwise; Esc
    leaves with nothing done. The sale screen's overrides, receiving and the stocktake's
    approval all ask this way."""

    CSS_PATH = "sale.tcss"
    BINDINGS = (Binding("escape", "leave", show=False),)

    def __init__(self, title: str, reason: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title")
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
            result = self.check(approver, pin_input.value)
        except Translatable as exc:
            if not self.ask_again(exc):
                self.dismiss(self.refused(approver, exc))
                return
            pin_input.value = ""
            message = self.query_one("#approval-message", Static)
            message.update(str(exc))
            message.add_class("error")
            pin_input.focus()
            return
        self.dismiss(self.approved(approver, result))

    def check(self, approver: str, pin: str) -> Any:
        raise NotImplementedError

    def ask_again(self, error: Translatable) -> bool:
        return True

    def approved(self, approver: str, result: Any) -> Any:
        return result

    def refused(self, approver: str, error: Translatable) -> Any:
        return None

    def action_leave(self) -> None:
        self.dismiss(None)


class ApprovalModal(PinModal):
    """The sale screen's override: the session's waiting action runs once approved."""

    def __init__(self, session: TillSession, action: str, reason: str = "") -> None:
        super().__init__(t("approval_title", action=action_text(action)), reason)
        self.session = session
        self.action = action

    def check(self, approver: str, pin: str) -> Any:
        return self.session.approve(approver, pin)

    def ask_again(self, error: Translatable) -> bool:
        return self.session.pending is not None  # not approved: ask again

    def approved(self, approver: str, result: Any) -> Approved:
        return Approved(approver, result)

    def refused(self, approver: str, error: Translatable) -> Approved:
        return Approved(approver, error=error)  # approved, but the action itself failed

    def action_leave(self) -> None:
        self.session.cancel_pending()
        self.dismiss(None)


class ManagerModal(PinModal):
    """A manager's id and PIN for one action outside the sale: `act(id, pin)` runs at once
    and the modal returns `(result,)`; None when left with Esc."""

    def __init__(self, title: str, reason: str, act: Callable[[str, str], object]) -> None:
        super().__init__(title, reason)
        self.act = act

    def check(self, approver: str, pin: str) -> Any:
        return self.act(approver, pin)

    def approved(self, approver: str, result: Any) -> tuple[object]:
        return (result,)
