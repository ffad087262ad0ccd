"""The command palette's till commands (Ctrl+P), beside Textual's own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from node.till.texts import t


@dataclass(frozen=True)
class TillCommand:
    name: str
    help: str
    run: Callable[[], object]
    #: a key for it on every screen (shown in the footer), e.g. "ctrl+t"
    key: str | None = None


class TillCommands(Provider):
    """Help, lock, sync now, quit, and whatever the app adds (the demo's "scan a sample")."""

    def _commands(self) -> list[TillCommand]:
        source = getattr(self.app, "palette_commands", None)
        found = source() if callable(source) else None
        return [c for c in found if isinstance(c, TillCommand)] if isinstance(found, list) else []

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.name, partial(command.run), help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(command.name), partial(command.run), help=command.help
                )


def standard_commands(app) -> list[TillCommand]:
    return [
        TillCommand(t("cmd_help"), "F1", app.action_help),
        TillCommand(t("cmd_lock"), "Ctrl+L", app.action_lock),
        TillCommand(t("cmd_sync"), "", app.action_sync_now),
        TillCommand(t("cmd_quit"), "Ctrl+Q", app.action_quit),
    ]
