"""The message line every till screen shows under its work: one place says how."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import Screen
from textual.widgets import Static

ResultT = TypeVar("ResultT")


class MessageScreen(Screen[ResultT]):
    """A screen with a `#message` line: `say` tells, `refuse` tells in the error style with
    the bell, `message` reads it back."""

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#message", Static)
        message.set_class(error, "error")
        message.update(text)
        if error:
            self.app.bell()

    def refuse(self, text: str) -> None:
        self.say(text, error=True)

    @property
    def message(self) -> str:
        return str(self.query_one("#message", Static).render())
