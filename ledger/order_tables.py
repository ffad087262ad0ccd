"""The hub's own tables for online orders (callers' order ids, webhook deliveries): a
migration component of their own ("hub-orders") beside ledger/hub_tables.py.

Append only: a released script is never edited.
"""

from __future__ import annotations

MIGRATIONS: list[str] = []
