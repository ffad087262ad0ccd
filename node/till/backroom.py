"""The back room at the till: the clerk's and manager's tasks behind one menu.

A clerk logs in here (clerks receive, ship and count; they do not sell); a manager comes
here from the sale screen with F3 and goes back with Esc. Each task is its own screen, with
its decisions in a module without textual; this one only routes keys and scans: a code
scanned on the menu opens the lookup on it.
"""

from __future__ import annotations

import importlib
from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from node.permissions import User, may
from node.till.confirm import bind_keys
from node.till.message import MessageScreen
from node.till.status import StatusBar
from node.till.texts_backroom import t

#: key, action, text, the task's permission, module, screen class
TASKS = (
    ("f2", "lookup", "key_lookup", "lookup", "node.till.lookup", "LookupScreen"),
    ("f3", "receive", "key_receive", "receive", "node.till.receiving", "ReceivingScreen"),
    ("f4", "transfers", "key_transfers", "transfer", "node.till.transfers", "TransfersScreen"),
    ("f5", "picks", "key_picks", "lookup", "node.till.picks", "PicksScreen"),
    ("f6", "stocktake", "key_stocktake", "count", "node.till.stocktake", "StocktakeScreen"),
    ("f7", "alerts", "key_alerts", "lookup", "node.till.alerts", "AlertsScreen"),
)


def task_screen(name: str, node: Any, user: User) -> Screen[Any]:
    """The screen of task `name` for `user` (its module loads on first use)."""
    for _, action, _, _, module, cls in TASKS:
        if action == name:
            return getattr(importlib.import_module(module), cls)(node, user)
    raise KeyError(name)


class BackRoomScreen(MessageScreen[None]):
    """The menu of back-room tasks; F-keys open them, Esc returns to the till if the user
    sells."""

    CSS_PATH = "backroom.tcss"

    def __init__(self, node: Any, user: User) -> None:
        super().__init__()
        self.node = node
        self.user = user
        keys = [(key, f"task('{action}')", text) for key, action, text, *_ in TASKS]
        if may(user.role, "sell"):
            keys.append(("escape", "back", "key_back"))
        bind_keys(self, keys, t)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static(t("backroom_title"), classes="title")
        rows = [f"  {key.upper():<4} {t('task_' + action)}" for key, action, *_ in TASKS]
        if may(self.user.role, "sell"):
            rows.append(f"  {'Esc':<4} {t('task_sell')}")
        yield Static("\n".join(rows), id="tasks")
        yield Static(t("backroom_hint"), id="message")
        yield Footer(compact=True, show_command_palette=False)

    def action_task(self, name: str) -> None:
        permission = next(p for _, action, _, p, *_ in TASKS if action == name)
        if not may(self.user.role, permission):
            self.say(
                t("not_allowed", name=self.user.name or self.user.id, role=self.user.role), True
            )
            return
        self.app.push_screen(task_screen(name, self.node, self.user))

    def action_back(self) -> None:
        self.dismiss(None)

    def scanned(self, code: str) -> None:
        """A scan on the menu: look the code up."""
        if not may(self.user.role, "lookup"):
            self.say(
                t("not_allowed", name=self.user.name or self.user.id, role=self.user.role), True
            )
            return
        screen = task_screen("lookup", self.node, self.user)
        self.app.push_screen(screen)
        take = getattr(screen, "scanned", None)
        if take is not None:
            self.app.call_after_refresh(take, code)
