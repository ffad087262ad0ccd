"""The hub's replica: the shared event store plus API tokens."""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from pathlib import Path

from hub.routing import ROUTING_SCHEMA
from ledger.sqlite import connect, migrate, transaction
from ledger.store import EventStore
from protocol.events import HUB_ORIGIN

HUB_MIGRATIONS = [
    """
    CREATE TABLE api_tokens(
        token_hash BLOB PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL
    )
    """,
    ROUTING_SCHEMA,
    """
    CREATE TABLE ingest_log(
        origin TEXT PRIMARY KEY,
        last_ingest_ms INTEGER NOT NULL
    )
    """,
    # NATS identities (hub/identities.py): only public keys, and the hub's own seed
    """
    CREATE TABLE nats_identities(
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('hub', 'node')),
        location TEXT,
        public_key TEXT NOT NULL,
        seed TEXT
    )
    """,
]


class HubError(Exception):
    """A refused hub command; the message says what to do."""


class HubNotInitialised(HubError):
    pass


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class HubStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.events = EventStore(conn, HUB_ORIGIN)
        migrate(conn, "hub", HUB_MIGRATIONS)

    @classmethod
    def init(cls, path: str | Path) -> tuple[HubStore, str]:
        """Create the schema and an admin token; only the token's hash is stored."""
        store = cls(connect(path))
        return store, store.add_token("admin", "admin")

    @classmethod
    def open(cls, path: str | Path) -> HubStore:
        if not os.path.exists(path):
            raise HubNotInitialised(f"no hub database at {path}: run `kucun hub init --db {path}`")
        conn = connect(path)
        try:
            conn.execute("SELECT 1 FROM api_tokens LIMIT 1")
        except sqlite3.DatabaseError:
            conn.close()
            raise HubNotInitialised(
                f"{path} is not a hub database: run `kucun hub init --db {path}`"
            ) from None
        return cls(conn)

    def add_token(self, name: str, role: str) -> str:
        token = "kc_" + secrets.token_urlsafe(24)
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO api_tokens(token_hash, name, role) VALUES (?, ?, ?)",
                (_digest(token), name, role),
            )
        return token

    def token_role(self, token: str) -> str | None:
        row = self.conn.execute(
            "SELECT role FROM api_tokens WHERE token_hash = ?", (_digest(token),)
        ).fetchone()
        return row[0] if row else None

    # ---- reads for the API (hub/service.py) -----------------------------------------

    def ping(self) -> None:
        """Touch the database, so liveness means the file still answers."""
        self.conn.execute("SELECT 1").fetchone()

    def last_ingest_ms(self) -> dict[str, int]:
        """Per origin, the wall time (ms) of the last delivery ingest stored from it."""
        return dict(self.conn.execute("SELECT origin, last_ingest_ms FROM ingest_log"))

    def waiting(self, origin: str) -> int:
        """Events of `origin` stored beyond its verified head: they wait for a gap to fill."""
        (count,) = self.conn.execute(
            "SELECT count(*) FROM events WHERE origin = ? "
            "AND seq > coalesce((SELECT seq FROM heads WHERE origin = ?), 0)",
            (origin, origin),
        ).fetchone()
        return count
