"""The hub's replica and its own tables (API tokens, routed transfers, NATS identities)."""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from pathlib import Path

from hub.errors import HubError
from ledger import order_tables, sync_tables
from ledger.hub_tables import HUB_MIGRATIONS, HubTables, TokenRow, is_hub_database
from ledger.replica import Replica
from ledger.sqlite import connect, migrate, transaction, tune_for_bulk
from protocol.events import HUB_ORIGIN
from replication.clock import wall_ms


class HubNotInitialised(HubError):
    pass


class TokenNameTaken(HubError):
    """An active token has this name already: names say who wrote each event."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class HubStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        tune_for_bulk(conn)
        self.events = Replica(conn, HUB_ORIGIN)
        migrate(conn, "hub", HUB_MIGRATIONS)
        migrate(conn, "hub-orders", order_tables.MIGRATIONS)
        migrate(conn, "hub-sync", sync_tables.MIGRATIONS)
        self.tables = HubTables(conn)

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
        if not is_hub_database(conn):
            conn.close()
            raise HubNotInitialised(
                f"{path} is not a hub database: run `kucun hub init --db {path}`"
            )
        return cls(conn)

    def add_token(self, name: str, role: str, location: str | None = None) -> str:
        """A new token; only its SHA-256 is kept, so this is the one time it is seen.
        Who may have which role and store is checked by the caller (hub/cli_tokens.py)."""
        token = "kc_" + secrets.token_urlsafe(24)
        with transaction(self.conn):
            if not self.tables.add_token(_digest(token), name, role, location, wall_ms()):
                raise TokenNameTaken(name)
        return token

    def token(self, token: str) -> tuple[str, str, str | None] | None:
        """(name, role, location) of an active token, or None (unknown or revoked)."""
        row = self.tables.token(_digest(token))
        if row is None or row.revoked_ms is not None:
            return None
        return (row.name, row.role, row.location)

    def token_row(self, token: str) -> TokenRow | None:
        """What the hub keeps of a token, revoked ones too (to tell a caller which)."""
        return self.tables.token(_digest(token))

    def revoke_token(self, name: str) -> bool:
        """Revoke the active token of this name; False when there is none."""
        with transaction(self.conn):
            return self.tables.revoke_token(name, wall_ms())
