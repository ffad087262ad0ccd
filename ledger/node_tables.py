"""A node's own settings beside its replica: which node, location, NATS URL, credentials."""

from __future__ import annotations

import sqlite3

NODE_MIGRATIONS = [
    """
    CREATE TABLE node_config(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE sync_state(key TEXT PRIMARY KEY, value INTEGER NOT NULL)
    """
]


class NodeSettings:
    """The `node_config` table: a few strings, written by `node init`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def read(self) -> dict[str, str]:
        """Every setting; empty when this file is not an initialised node ledger."""
        try:
            return dict(self.conn.execute("SELECT key, value FROM node_config"))
        except sqlite3.DatabaseError:
            return {}

    def write(self, settings: dict[str, str]) -> None:
        """Set these keys (inside the caller's unit of work)."""
        self.conn.executemany(
            "INSERT INTO node_config(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(settings.items()),
        )
