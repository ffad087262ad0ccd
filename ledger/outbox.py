"""Where publishing a replica's own log stands, per origin: only a hint.

The stream is the truth (the publisher reconciles from it); this row says where to resume
and what the hub last confirmed, so a restarted node shows its backlog before it connects.
"""

from __future__ import annotations

import sqlite3
from dataclasses import astuple, dataclass

from ledger.sqlite import transaction


@dataclass
class OutboxState:
    published_seq: int = 0
    stream_seq: int = 0
    last_ack_ms: int | None = None
    safe_seq: int = 0
    last_safe_ms: int | None = None


class Outbox:
    """The `outbox` table of one replica."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def load(self, origin: str) -> OutboxState:
        row = self.conn.execute(
            "SELECT published_seq, stream_seq, last_ack_ms, safe_seq, last_safe_ms FROM outbox "
            "WHERE origin = ?",
            (origin,),
        ).fetchone()
        return OutboxState(*row) if row else OutboxState()

    def save(self, origin: str, state: OutboxState) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO outbox(origin, published_seq, stream_seq, last_ack_ms, safe_seq, "
                "last_safe_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE SET "
                "published_seq = excluded.published_seq, stream_seq = excluded.stream_seq, "
                "last_ack_ms = excluded.last_ack_ms, safe_seq = excluded.safe_seq, "
                "last_safe_ms = excluded.last_safe_ms",
                (origin, *astuple(state)),
            )


@dataclass(frozen=True)
class Unsent:
    """Documents of one origin its hub has not received yet: what a till shows as waiting."""

    count: int = 0
    #: the hybrid logical clock of the oldest of them (None when there are none)
    oldest_hlc: int | None = None


def unsent_documents(
    conn: sqlite3.Connection, origin: str, types: tuple[str, ...] = ("sale",)
) -> Unsent:
    """How many of `origin`'s documents of these types lie beyond what it has published,
    and the oldest one's clock. A cashier counts sales, not the events a sale is made of;
    read from the outbox's own row each time, so it moves while the hub is away."""
    marks = ", ".join("?" * len(types))
    count, oldest = conn.execute(
        "SELECT count(*), min(d.hlc) FROM documents AS d "
        "WHERE d.origin = ? AND d.seq > coalesce("
        "(SELECT published_seq FROM outbox WHERE origin = ?), 0) "
        f"AND d.type IN ({marks})",
        (origin, origin, *types),
    ).fetchone()
    return Unsent(count, oldest)


def replica_file(conn: sqlite3.Connection) -> str:
    """The file behind a connection, so another thread can open its own connection to the
    same replica (a SQLite connection belongs to the thread that uses it)."""
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return file
    raise ValueError("the connection has no main database")
