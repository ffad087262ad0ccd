"""The help screen (F1): every key of the screen it was opened from, and the till's own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from node.till.texts import t

#: the till's keys (issue 12), shown even before the sale screen defines them
TILL_KEYS = (
    ("F1", "key_help"),
    ("F2", "key_lookup"),
    ("F4", "key_return"),
    ("F5", "key_suspend"),
    ("F8", "key_void_line"),
    ("F9", "key_override"),
    ("F10", "key_shift"),
    ("F12", "key_pay"),
    ("Esc", "key_cancel"),
    ("Ctrl+P", "key_palette"),
    ("Ctrl+L", "key_lock"),
    ("Ctrl+Q", "key_quit"),
)


#: keys the app itself answers on every screen
APP_KEYS = frozenset({"F1", "Ctrl+P", "Ctrl+L", "Ctrl+Q"})


def key_rows(screen_keys: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The keys of the screen it was opened from first (F2 is the lookup on the sale
    screen, the X report on the shift screen), then the app's own; a screen without keys
    of its own (the login) lists the till's main keys, so a new cashier sees them all."""
    rows: list[tuple[str, str]] = []
    known: set[str] = set()
    for key, description in screen_keys:
        if key.lower() not in known and description:
            rows.append((key, description))
            known.add(key.lower())
    has_own = bool(rows)
    for key, text in TILL_KEYS:
        if (not has_own or key in APP_KEYS) and key.lower() not in known:
            rows.append((key, t(text)))
            known.add(key.lower())
    return rows


def key_label(key: str) -> str:
    """`f12` → `F12`, `ctrl+p` → `Ctrl+P`, `escape` → `Esc`: as printed on the keys."""
    if key == "escape":
        return "Esc"
    return "+".join(part.upper() if len(part) <= 3 else part.title() for part in key.split("+"))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [
        Binding("escape", "dismiss", t("help_close"), show=False),
        Binding("f1", "dismiss", t("help_close"), show=False),
    ]

    def __init__(self, screen_keys: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__()
        self.rows = key_rows(screen_keys)

    def compose(self) -> ComposeResult:
        width = max(cell_len(key) for key, _ in self.rows)
        with VerticalScroll(id="help-box"):
            yield Label(t("help_title"), id="help-title")
            for key, text in self.rows:
                yield Static(f"{key}{' ' * (width - cell_len(key))}  {text}", classes="help-row")
            yield Static(t("help_close"), id="help-close")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
