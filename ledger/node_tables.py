"""A node's own settings beside its replica: which node, location, NATS URL, credentials,
and the till's suspended baskets. Node-local: none of it is an event, none is replicated."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

NODE_MIGRATIONS = [
    """
    CREATE TABLE node_config(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE sync_state(key TEXT PRIMARY KEY, value INTEGER NOT NULL)
    """,
    # A basket the cashier parked (F5) to serve someone else; it is not a sale until paid,
    # so it lives beside the log, survives a restart of the till, and is deleted on resume.
    """
    CREATE TABLE suspended_baskets(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user TEXT NOT NULL,
        suspended_at TEXT NOT NULL,
        total INTEGER NOT NULL,
        lines INTEGER NOT NULL,
        basket TEXT NOT NULL
    )
    """,
    # Other stores' stock of one SKU as the hub last answered (lookup, F2): kept with the
    # time of the answer so a till offline still shows it, "as of" then. Not replicated.
    """
    CREATE TABLE remote_stock(
        sku TEXT PRIMARY KEY,
        as_of_ms INTEGER NOT NULL,
        levels TEXT NOT NULL
    )
    """,
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


@dataclass(frozen=True)
class Suspended:
    """A parked basket: `basket` is its lines as the till serialised them (JSON text)."""

    id: int
    user: str
    suspended_at: str
    total: int
    lines: int
    basket: str


class SuspendedBaskets:
    """The `suspended_baskets` table: park a basket, list them, take one back."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, user: str, suspended_at: str, total: int, lines: int, basket: str) -> int:
        """Park a basket (inside the caller's unit of work); its id."""
        cur = self.conn.execute(
            "INSERT INTO suspended_baskets(user, suspended_at, total, lines, basket) "
            "VALUES (?, ?, ?, ?, ?)",
            (user, suspended_at, total, lines, basket),
        )
        return int(cur.lastrowid or 0)

    def all(self) -> list[Suspended]:
        """Every parked basket, oldest first."""
        rows = self.conn.execute(
            "SELECT id, user, suspended_at, total, lines, basket FROM suspended_baskets ORDER BY id"
        )
        return [Suspended(*row) for row in rows]

    def take(self, basket_id: int) -> Suspended | None:
        """Remove and return one parked basket (inside the caller's unit of work)."""
        row = self.conn.execute(
            "SELECT id, user, suspended_at, total, lines, basket FROM suspended_baskets "
            "WHERE id = ?",
            (basket_id,),
        ).fetchone()
        if row is None:
            return None
        self.conn.execute("DELETE FROM suspended_baskets WHERE id = ?", (basket_id,))
        return Suspended(*row)


class RemoteStockCache:
    """The `remote_stock` table: per SKU, every location's on-hand as the hub last sent it
    and when (`levels` is a JSON list of [location, qty])."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def put(self, sku: str, as_of_ms: int, levels: list[tuple[str, int]]) -> None:
        """Keep the latest answer for `sku` (inside the caller's unit of work)."""
        self.conn.execute(
            "INSERT INTO remote_stock(sku, as_of_ms, levels) VALUES (?, ?, ?) "
            "ON CONFLICT(sku) DO UPDATE SET as_of_ms = excluded.as_of_ms, levels = excluded.levels "
            "WHERE excluded.as_of_ms >= remote_stock.as_of_ms",
            (sku, as_of_ms, json.dumps([[loc, qty] for loc, qty in levels])),
        )

    def get(self, sku: str) -> tuple[int, list[tuple[str, int]]] | None:
        """(as_of_ms, levels) of the last answer for `sku`; None when never asked."""
        row = self.conn.execute(
            "SELECT as_of_ms, levels FROM remote_stock WHERE sku = ?", (sku,)
        ).fetchone()
        if row is None:
            return None
        return int(row[0]), [(str(loc), int(qty)) for loc, qty in json.loads(row[1])]
