"""A replica: its log, the projector that folds it, the read model, one unit of work.

Node and hub are both replicas of sets of events. Data walks one way: an operation (or a
delivery) → `log` → `projector` → `read`. Writes here are each one durable unit of work
(joined, when the caller already holds one: `with replica.work(): …`).

By default the events a write adds are folded in the same unit, so the log and the derived
state never disagree. A writer that must take events in faster than it can fold them (the
hub during a backlog, bulk loads) passes `fold=False` and calls `project` when it can.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from ledger import schema_lists, schema_master, schema_orders
from ledger.log import DEFAULT_MAX_SKEW_MS, EventLog, IngestResult
from ledger.projector import Projector
from ledger.readmodel import ReadModel
from ledger.schema import MIGRATIONS
from ledger.sqlite import migrate, transaction
from protocol.events import Body, Event

#: the areas' own migration components, each run after the ledger's
AREAS = {
    "master": schema_master.MIGRATIONS,
    "lists": schema_lists.MIGRATIONS,
    "orders": schema_orders.MIGRATIONS,
}


class Replica:
    """One SQLite file's events and derived state; `origin` is this replica's own id."""

    def __init__(
        self, conn: sqlite3.Connection, origin: str, max_skew_ms: int = DEFAULT_MAX_SKEW_MS
    ) -> None:
        migrate(conn, "ledger", MIGRATIONS)
        for area, scripts in AREAS.items():
            migrate(conn, f"ledger-{area}", scripts)
        self.conn = conn
        self.origin = origin
        self.log = EventLog(conn, origin, max_skew_ms)
        self.quarantine = self.log.quarantine
        self.projector = Projector(conn, self.log)
        self.read = ReadModel(conn)

    def work(self) -> transaction:
        """The unit of work: everything inside commits together or not at all."""
        return transaction(self.conn)

    def append(
        self,
        bodies: Sequence[Body],
        user: str,
        wall_ms: int,
        origin: str | None = None,
        fold: bool = True,
    ) -> list[Event]:
        """Append local events of `origin` (one of the logs this replica writes; by default
        its own) and, unless `fold=False`, fold them: on disk when this returns."""
        origin = origin or self.origin
        with self.work():
            start = self.log.head_seq(origin)
            events = self.log.append(bodies, user, wall_ms, origin)
            if fold and events:
                self.projector.fold_new({origin: (start, events)})
            return events

    def ingest(self, raws: Iterable[bytes], wall_ms: int, fold: bool = True) -> IngestResult:
        """Store events from other replicas: idempotent, chain-verified, one unit of work;
        folded in it too unless `fold=False`."""
        with self.work():
            result = self.log.ingest(raws, wall_ms)
            if fold:
                self.projector.fold_new(result.advanced)
            return result

    def ingest_decoded(
        self,
        pairs: Iterable[tuple[bytes, Event]],
        wall_ms: int,
        fold: bool = True,
        result: IngestResult | None = None,
    ) -> IngestResult:
        """`ingest` for events the caller decoded with `codec.decode` from their bytes."""
        with self.work():
            result = self.log.ingest_decoded(pairs, wall_ms, result)
            if fold:
                self.projector.fold_new(result.advanced)
            return result

    def ingest_batch(
        self, origin: str, payload: bytes, raws: Sequence[bytes], wall_ms: int
    ) -> IngestResult | None:
        """A delivered batch that simply continues `origin`'s log, stored whole and
        unfolded; None (nothing written) when it does anything else."""
        with self.work():
            return self.log.ingest_batch(origin, payload, raws, wall_ms)

    def release_held(self, wall_ms: int, fold: bool = True) -> IngestResult:
        """Take in held events whose clock is no longer too far ahead of ours."""
        return self.ingest([], wall_ms, fold)

    def project(self, per_origin: int | None = 20_000, only: str | None = None) -> int:
        """Fold up to `per_origin` unfolded events of each origin; 0 when current.

        Folding writes only derived state, which the log can always rebuild, so its own
        unit skips the fsync (a caller's durable unit around it keeps its fsync)."""
        with transaction(self.conn, durable=False):
            return self.projector.project(per_origin, only)
