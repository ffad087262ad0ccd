"""The hub's refusals, apart from the store, so the CLI can tell them without loading it."""

from __future__ import annotations

from protocol.i18n import Translatable


class HubError(Exception):
    """A refused hub command; the message says what to do. `field` names the request
    field a refusal is about (`$.lines[0].qty`), when the one who raises it knows."""

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        self.field = field


class HubCliError(Translatable, HubError):
    """A refusal of the hub's command line, shown in the reader's language."""

    def __init__(self, template: str, /, **fields: object) -> None:
        Translatable.__init__(self, template, **fields)
        self.field = None
