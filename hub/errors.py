"""The hub's refusals, apart from the store, so the CLI can tell them without loading it."""

from __future__ import annotations


class HubError(Exception):
    """A refused hub command; the message says what to do."""
