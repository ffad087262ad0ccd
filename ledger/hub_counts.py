"""Counts the hub's metrics show (hub/metrics.py): cheap aggregate reads, no SQL in hub/."""

from __future__ import annotations

import sqlite3


def dead_letters(conn: sqlite3.Connection) -> int:
    """Messages ingest could not use and kept aside (quarantine's `rejected`)."""
    return conn.execute("SELECT count(*) FROM rejected").fetchone()[0]
