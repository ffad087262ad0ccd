"""Small modals the selling screens share: a yes/no question and a one-line prompt; and
`bind_keys`, which gives a screen its keys with descriptions in the reader's language
(class-level BINDINGS would be fixed in the language of the first import)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from node.till.texts_sale import t

CSS_PATH = "sale.tcss"


def bind_key(node: DOMNode, key: str, action: str, description: str) -> None:
    """One binding with a description already in the reader's words."""
    node._bindings.bind(  # pyright: ignore[reportPrivateUsage]
        key, action, description, key_display=_display(key)
    )


def bind_keys(
    node: DOMNode, keys: Sequence[tuple[str, ...]], texts: Callable[[str], str] | None = None
) -> None:
    """(key, action, text key[, "hidden"]) → a binding described in the reader's language
    (`texts`, default the selling screens' table): shown in the footer unless "hidden" (the
    help screen lists it still); a text key of "" binds without a description."""
    text_of = texts or t
    for key, action, text, *hidden in keys:
        node._bindings.bind(  # pyright: ignore[reportPrivateUsage]
            key,
            action,
            text_of(text) if text else "",
            show=bool(text) and not hidden,
            key_display=_display(key),
        )


_KEY_CAPS = {"escape": "Esc", "enter": "Enter", "plus": "+", "minus": "-"}


def _display(key: str) -> str | None:
    """The key as printed on the keyboard: F12, Esc, +."""
    first = key.split(",")[0]
    if first in _KEY_CAPS:
        return _KEY_CAPS[first]
    return first.upper() if first.startswith("f") and first[1:].isdigit() else None


class ConfirmModal(ModalScreen[bool]):
    """A question answered with Y (or Enter) or N (or Esc)."""

    CSS_PATH = CSS_PATH
    BINDINGS = (
        Binding("y,enter", "answer(True)", show=False),
        Binding("n,escape", "answer(False)", show=False),
    )

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-title")
            if self.detail:
                yield Static(self.detail, id="detail")
            yield Static(f"{t('confirm_yes')}    {t('confirm_no')}", classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PromptModal(ModalScreen[str | None]):
    """One line of text (a quantity, a price), Enter to give it, Esc to leave it."""

    CSS_PATH = CSS_PATH
    BINDINGS = (Binding("escape", "leave", show=False),)

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-title")
            yield Input(value=self.value, id="answer")
            yield Static(t("ask_enter"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#answer", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_leave(self) -> None:
        self.dismiss(None)
