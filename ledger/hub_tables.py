"""The hub's own tables beside its replica: API tokens, routed transfers, when each origin
was last ingested, NATS identities (public keys only, and the hub's own seed), and the
node ids a second ledger was found claiming."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

HUB_MIGRATIONS = [
    """
    CREATE TABLE api_tokens(
        token_hash BLOB PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE routed(
        doc TEXT PRIMARY KEY,
        to_origin TEXT NOT NULL,
        seq INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE ingest_log(
        origin TEXT PRIMARY KEY,
        last_ingest_ms INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE nats_identities(
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('hub', 'node')),
        location TEXT,
        public_key TEXT NOT NULL,
        seed TEXT
    )
    """,
    # a ledger that refused to sync because another writes its id says so (publisher.py)
    """
    CREATE TABLE identity_conflicts(
        origin TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    )
    """,
    # tokens get a store (a store manager's), when they were made and when revoked; a
    # token made before has no store and shows no date. Names are unique among active
    # tokens by `add_token`, not by an index: `hub init` run twice made two "admin" ones
    """
    ALTER TABLE api_tokens ADD COLUMN location TEXT;
    ALTER TABLE api_tokens ADD COLUMN created_ms INTEGER;
    ALTER TABLE api_tokens ADD COLUMN revoked_ms INTEGER;
    """,
]


class TokenRow(NamedTuple):
    """An API token as the hub keeps it: never the token, only who it is."""

    name: str
    role: str
    location: str | None
    created_ms: int | None
    revoked_ms: int | None


def is_hub_database(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1 FROM api_tokens LIMIT 1")
    except sqlite3.DatabaseError:
        return False
    return True


class HubTables:
    """Reads and writes of the hub's own tables; callers hold the unit of work for writes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def ping(self) -> None:
        """Touch the database, so liveness means the file still answers."""
        self.conn.execute("SELECT 1").fetchone()

    # ---- tokens ----------------------------------------------------------------------------

    def add_token(
        self, digest: bytes, name: str, role: str, location: str | None, created_ms: int
    ) -> bool:
        """False when an active token already has this name (nothing written)."""
        if self.active_token_named(name):
            return False
        self.conn.execute(
            "INSERT INTO api_tokens(token_hash, name, role, location, created_ms) "
            "VALUES (?, ?, ?, ?, ?)",
            (digest, name, role, location, created_ms),
        )
        return True

    def active_token_named(self, name: str) -> bool:
        return bool(
            self.conn.execute(
                "SELECT 1 FROM api_tokens WHERE name = ? AND revoked_ms IS NULL", (name,)
            ).fetchone()
        )

    def token(self, digest: bytes) -> TokenRow | None:
        """The token with this hash, revoked or not."""
        row = self.conn.execute(
            "SELECT name, role, location, created_ms, revoked_ms FROM api_tokens "
            "WHERE token_hash = ?",
            (digest,),
        ).fetchone()
        return TokenRow(*row) if row else None

    def tokens(self) -> list[TokenRow]:
        """Every token ever made, by name, then the oldest first (a name revoked and made
        again shows twice)."""
        return [
            TokenRow(*row)
            for row in self.conn.execute(
                "SELECT name, role, location, created_ms, revoked_ms FROM api_tokens "
                "ORDER BY name, created_ms IS NOT NULL, created_ms"
            )
        ]

    def revoke_token(self, name: str, revoked_ms: int) -> bool:
        """Revoke the active token of this name; False when there is none."""
        cursor = self.conn.execute(
            "UPDATE api_tokens SET revoked_ms = ? WHERE name = ? AND revoked_ms IS NULL",
            (revoked_ms, name),
        )
        return cursor.rowcount > 0

    def active_tokens(self) -> int:
        """How many tokens may call the API now (for metrics)."""
        (n,) = self.conn.execute(
            "SELECT count(*) FROM api_tokens WHERE revoked_ms IS NULL"
        ).fetchone()
        return n

    # ---- routed transfers ------------------------------------------------------------------

    def routed_docs(self) -> set[str]:
        return {doc for (doc,) in self.conn.execute("SELECT doc FROM routed")}

    def mark_routed(self, doc: str, to_origin: str, seq: int) -> None:
        self.conn.execute(
            "INSERT INTO routed(doc, to_origin, seq) VALUES (?, ?, ?)", (doc, to_origin, seq)
        )

    # ---- ingest log ------------------------------------------------------------------------

    def note_ingest(self, origin: str, wall_ms: int) -> None:
        self.conn.execute(
            "INSERT INTO ingest_log(origin, last_ingest_ms) VALUES (?, ?) "
            "ON CONFLICT(origin) DO UPDATE SET last_ingest_ms = excluded.last_ingest_ms",
            (origin, wall_ms),
        )

    def last_ingest_ms(self) -> dict[str, int]:
        """Per origin, the wall time (ms) of the last delivery ingest stored from it."""
        return dict(self.conn.execute("SELECT origin, last_ingest_ms FROM ingest_log"))

    # ---- NATS identities -------------------------------------------------------------------

    def hub_seed(self) -> str | None:
        row = self.conn.execute("SELECT seed FROM nats_identities WHERE name = 'hub'").fetchone()
        return row[0] if row else None

    def add_hub_identity(self, public_key: str, seed: str) -> None:
        """First writer wins: `nats serve --hub-db` and `hub serve` may race here."""
        self.conn.execute(
            "INSERT OR IGNORE INTO nats_identities(name, role, public_key, seed) "
            "VALUES ('hub', 'hub', ?, ?)",
            (public_key, seed),
        )

    def has_identity(self, name: str) -> bool:
        return bool(
            self.conn.execute("SELECT 1 FROM nats_identities WHERE name = ?", (name,)).fetchone()
        )

    def add_node_identity(self, node: str, location: str, public_key: str) -> None:
        self.conn.execute(
            "INSERT INTO nats_identities(name, role, location, public_key) "
            "VALUES (?, 'node', ?, ?)",
            (node, location, public_key),
        )

    def node_identities(self) -> list[tuple[str, str, str]]:
        """(node, location, public key) of every registered node."""
        return self.conn.execute(
            "SELECT name, location, public_key FROM nats_identities WHERE role = 'node' "
            "ORDER BY name"
        ).fetchall()

    # ---- identity conflicts ----------------------------------------------------------------

    def note_conflict(self, origin: str, reason: str, wall_ms: int) -> None:
        """A ledger claiming `origin` refused to sync: another ledger writes that id."""
        self.conn.execute(
            "INSERT INTO identity_conflicts(origin, reason, at_ms) VALUES (?, ?, ?) "
            "ON CONFLICT(origin) DO UPDATE SET reason = excluded.reason, at_ms = excluded.at_ms",
            (origin, reason, wall_ms),
        )

    def conflicts(self) -> dict[str, tuple[str, int]]:
        """Per origin, the latest conflict reported and when (wall ms)."""
        return {
            origin: (reason, at_ms)
            for origin, reason, at_ms in self.conn.execute(
                "SELECT origin, reason, at_ms FROM identity_conflicts"
            )
        }
