"""Folding the log into the read model, and remembering how far each origin is folded.

`folded(origin, seq)` sits beside `heads`: the derived state is the fold of each origin's
first `folded.seq` events, a prefix of its verified prefix. Folding is order-free and
incremental (late rows re-fold only their key), so folding a prefix now and the rest later
gives the same state as folding all at once.

Nothing here opens a transaction: callers hold a unit of work.
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
from collections.abc import Iterator

from ledger.journals import Journals
from ledger.log import Advanced, EventLog
from protocol.events import Event


class Projector:
    """Folds verified events of the log into the derived tables."""

    def __init__(self, conn: sqlite3.Connection, log: EventLog) -> None:
        self.conn = conn
        self.log = log
        self.journals = Journals(conn)

    def fold_new(self, advanced: Advanced) -> None:
        """Fold events that just joined their origins' verified prefixes. Folded straight
        from memory when nothing of the origin waited unfolded; otherwise the origin's whole
        unfolded rest is folded from the log."""
        direct: list[Event] = []
        behind = False
        for origin, (start, events) in advanced.items():
            if self.folded_seq(origin) == start:
                direct += events
                self._set_folded(origin, events[-1].seq)
            else:
                behind = True
        self.journals.fold(direct)
        if behind:
            self.project(per_origin=None)

    def project(self, per_origin: int | None = 20_000, only: str | None = None) -> int:
        """Fold up to `per_origin` verified, unfolded events of each origin (of `only`, if
        given); return how many were folded (0: the derived state is current)."""
        events: list[Event] = []
        with _cycle_collector_paused():
            for origin, done, head in self.unfolded_spans():
                if only is not None and origin != only:
                    continue
                upto = head if per_origin is None else min(head, done + per_origin)
                events += self.log.verified_events(origin, done, upto)
                self._set_folded(origin, upto)
            self.journals.fold(events)
            folded = len(events)
            # freed while the collector still sleeps: the first allocation after it wakes
            # collects the youngest generation, all that the chunk allocated and still holds
            events.clear()
        return folded

    def set_aside_unfoldable(self, origin: str, reason: str) -> int:
        """Skip `origin`'s next unfolded event, listed as ignored with `reason`: an event
        whose fold cannot be stored must not stop every later one from being folded."""
        seq = self.folded_seq(origin) + 1
        event = self.log.event(origin, seq)
        assert event is not None, f"{origin}:{seq} is not in the verified log"
        self.log.quarantine.ignore(origin, seq, event.hlc, reason)
        self._set_folded(origin, seq)
        return seq

    # ---- watermarks --------------------------------------------------------------------------

    def unfolded(self) -> int:
        """Verified events the derived state does not show yet."""
        return sum(head - done for _, done, head in self.unfolded_spans())

    def folded(self) -> dict[str, int]:
        """Per origin, how many of its events the derived state shows."""
        return dict(self.conn.execute("SELECT origin, seq FROM folded ORDER BY origin"))

    def folded_seq(self, origin: str) -> int:
        row = self.conn.execute("SELECT seq FROM folded WHERE origin = ?", (origin,)).fetchone()
        return row[0] if row else 0

    def unfolded_spans(self) -> list[tuple[str, int, int]]:
        """(origin, folded seq, verified head) of each origin not folded to its head."""
        return self.conn.execute(
            "SELECT h.origin, coalesce(f.seq, 0), h.seq FROM heads h "
            "LEFT JOIN folded f ON f.origin = h.origin WHERE h.seq > coalesce(f.seq, 0) "
            "ORDER BY h.origin"
        ).fetchall()

    def _set_folded(self, origin: str, seq: int) -> None:
        self.conn.execute(
            "INSERT INTO folded(origin, seq) VALUES (?, ?) "
            "ON CONFLICT(origin) DO UPDATE SET seq = excluded.seq",
            (origin, seq),
        )


@contextlib.contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """A chunk allocates hundreds of thousands of short-lived tuples and rows, none of
    them in a reference cycle; Python's cycle collector would scan them again and again
    (an eighth of the fold's time). Reference counting frees them all the same."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
