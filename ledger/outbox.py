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
