"""What a replica keeps aside instead of folding, in one vocabulary.

- **held**: a stored, chained event whose clock is too far ahead of ours; it (and its
  origin's later events) waits unfolded until our clock catches up.
- **rejected**: bytes that never entered the log: undecodable, not canonical, out of
  range, a broken hash chain, a conflicting copy of an (origin, seq) already held. Kept with
  the raw bytes for the dead-letter list.
- **ignored**: an event in the log that the fold skips (an invalid body, or one whose fold
  cannot be stored), so one origin cannot stop the reports of all others.
"""

from __future__ import annotations

import sqlite3
from typing import Literal, NamedTuple

Kind = Literal["held", "rejected", "ignored"]


class Quarantined(NamedTuple):
    """One event (or message) set aside; `seq` is None when it could not be read."""

    origin: str | None
    seq: int | None
    reason: str


class Quarantine:
    """The held, rejected and ignored lists of one replica."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # ---- writing (inside the caller's unit of work) --------------------------------------

    def hold(self, origin: str, seq: int, hlc: int, reason: str, wall_ms: int) -> Quarantined:
        inserted = self.conn.execute(
            "INSERT OR IGNORE INTO held(origin, seq, reason, since_ms) VALUES (?, ?, ?, ?)",
            (origin, seq, reason, wall_ms),
        ).rowcount
        if inserted:
            self._alert("clock_skew", origin, seq, hlc, reason)
        return Quarantined(origin, seq, reason)

    def release(self, origin: str, upto: int) -> None:
        """Events up to `upto` joined the verified prefix: no longer held."""
        self.conn.execute("DELETE FROM held WHERE origin = ? AND seq <= ?", (origin, upto))

    def reject(
        self, origin: str | None, seq: int | None, reason: str, raw: bytes, wall_ms: int
    ) -> Quarantined:
        self.conn.execute(
            "INSERT INTO rejected(origin, seq, reason, raw, at_hlc) VALUES (?, ?, ?, ?, ?)",
            (origin, seq, reason, raw, wall_ms),
        )
        return Quarantined(origin, seq, reason)

    def ignore(self, origin: str, seq: int, hlc: int, reason: str) -> Quarantined:
        self.conn.execute(
            "INSERT OR IGNORE INTO ignored(origin, seq, reason) VALUES (?, ?, ?)",
            (origin, seq, reason),
        )
        self._alert("ignored_event", origin, seq, hlc, reason)
        return Quarantined(origin, seq, reason)

    def _alert(self, kind: str, origin: str, seq: int, hlc: int, reason: str) -> None:
        self.conn.execute(
            "INSERT INTO alerts(kind, origin, seq, hlc, message) VALUES (?, ?, ?, ?, ?)",
            (kind, origin, seq, hlc, reason),
        )

    # ---- reading ---------------------------------------------------------------------------

    def held_origins(self) -> list[str]:
        return [o for (o,) in self.conn.execute("SELECT DISTINCT origin FROM held")]

    def held(self) -> list[dict]:
        cur = self.conn.execute("SELECT origin, seq, reason, since_ms FROM held ORDER BY 1, 2")
        return [{"origin": o, "seq": s, "reason": r, "since_ms": t} for o, s, r, t in cur]

    def rejected(self) -> list[dict]:
        cur = self.conn.execute(
            "SELECT id, origin, seq, reason, length(raw) FROM rejected ORDER BY id"
        )
        return [{"id": i, "origin": o, "seq": s, "reason": r, "size": n} for i, o, s, r, n in cur]

    def ignored(self) -> dict[tuple[str, int], str]:
        return {
            (o, s): r for o, s, r in self.conn.execute("SELECT origin, seq, reason FROM ignored")
        }
