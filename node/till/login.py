"""Logging in and unlocking: a user id and a PIN, checked against the user's scrypt hash.

The login screen starts the till; the lock screen covers the sale after the till was left
idle and asks the same user's PIN, or another user's id and PIN (a change of cashier: the
basket stays, the new cashier goes on with it). Both hand the result to the app
(`TillApp.logged_in`), which sets who acts on the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from node.errors import NodeError
from node.till.status import StatusBar
from node.till.texts import t

if TYPE_CHECKING:
    from node.service import Node


def authenticate(node: Node, user_id: str, pin: str) -> Any:
    """The `node.permissions.User` for `user_id` with `pin`, or NodeError saying why not."""
    try:
        from node.permissions import authenticate as check
    except ImportError:  # the roles module not installed yet: any known user with a PIN
        return _known_user(node, user_id, pin)
    return check(node, user_id, pin)


@dataclass(frozen=True)
class _User:
    id: str
    name: str
    role: str


def _known_user(node: Node, user_id: str, pin: str) -> _User:
    from node.users import ROLES, verify_approver

    verify_approver(node, user_id, pin, ROLES)
    fields = node.read.master_fields("user", user_id) or {}
    return _User(user_id, str(fields.get("name") or user_id), str(fields.get("role")))


class _Credentials(Screen):
    """A user id and a PIN; Enter in the id goes to the PIN, Enter in the PIN checks."""

    BINDINGS: ClassVar = [Binding("escape", "clear", t("key_cancel"), show=False)]
    #: focus is chosen on each showing (the PIN when the user is known), not by Textual
    AUTO_FOCUS = None

    def __init__(self, title: str, hint: str, user_id: str = "") -> None:
        super().__init__()
        self.heading = title
        self.hint = hint
        self.preset = user_id

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Label(self.heading, id="login-title")
            yield Static(self.hint, id="login-hint")
            yield Label(t("user_id"))
            yield Input(value=self.preset, id="user", max_length=64)
            yield Label(t("pin"))
            yield Input(password=True, id="pin", max_length=12)
            yield Static("", id="login-message")
        yield StatusBar()
        yield Footer()

    def on_screen_resume(self) -> None:
        self.query_one("#pin" if self.preset else "#user", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        user = self.query_one("#user", Input).value.strip()
        pin_input = self.query_one("#pin", Input)
        if event.input.id == "user" and user and not pin_input.value:
            pin_input.focus()
            return
        if not user or not pin_input.value:
            self.show_error(t("login_empty"))
            (pin_input if user else self.query_one("#user", Input)).focus()
            return
        pin = pin_input.value
        pin_input.value = ""
        try:
            found = authenticate(self.app_node, user, pin)
        except NodeError as exc:
            self.show_error(str(exc))
            pin_input.focus()
            return
        self.accepted(found)

    @property
    def app_node(self) -> Node:
        return self.app.node  # type: ignore[attr-defined]

    def accepted(self, user: Any) -> None:
        raise NotImplementedError

    def show_error(self, text: str) -> None:
        message = self.query_one("#login-message", Static)
        message.set_class(True, "error")
        message.update(text)
        self.app.bell()

    def action_clear(self) -> None:
        self.query_one("#pin", Input).value = ""
        if not self.preset:
            self.query_one("#user", Input).value = ""
            self.query_one("#user", Input).focus()


class LoginScreen(_Credentials):
    """The till's first screen: nobody sells before logging in."""

    def __init__(self) -> None:
        super().__init__(t("login_title"), t("login_hint"))

    def accepted(self, user: Any) -> None:
        self.query_one("#user", Input).value = ""
        self.app.logged_in(user)  # type: ignore[attr-defined]


class LockScreen(_Credentials):
    """Covers the till after it was idle: the same user's PIN, or another cashier."""

    def __init__(self, user: Any) -> None:
        name = getattr(user, "name", None) or user.id
        super().__init__(t("lock_title"), t("lock_hint", name=name), user_id=user.id)

    def accepted(self, user: Any) -> None:
        self.app.unlocked(user)  # type: ignore[attr-defined]
