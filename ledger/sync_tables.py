"""The hub's own tables for what nodes report of their sync state (their backlog, when
they last said so): a migration component of its own ("hub-sync") beside
ledger/hub_tables.py.

Append only: a released script is never edited.
"""

from __future__ import annotations

MIGRATIONS: list[str] = []
