"""Event logs and derived state in one SQLite file.

`events` holds every event this replica knows, from any origin, keyed by (origin, seq).
`heads` is each origin's verified prefix: the highest seq such that 1..seq are all here and
chained by hash. `folded` is how much of each verified prefix the derived state (stock,
cost, master data) has folded: by default everything, in the same transaction as the
events, so events and derived state never disagree. A writer that must take events in
faster than it can fold them (the hub during a backlog) stores with `fold=False` and calls
`project` when it can; the derived state is then the fold of each origin's first
`folded.seq` events, and says so (`unfolded`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from ledger import derive
from ledger.sqlite import migrate, transaction
from protocol import codec, fold, limits
from protocol.documents import DocumentStatus
from protocol.events import Body, Event
from protocol.hlc import ClockSkewError, HybridClock

#: A remote event stamped further ahead of our wall clock than this is held, not folded.
DEFAULT_MAX_SKEW_MS = 10 * 60 * 1000

MIGRATIONS = [
    """
    CREATE TABLE events(
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hlc INTEGER NOT NULL,
        kind TEXT NOT NULL,
        raw BLOB NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY(origin, seq)
    ) WITHOUT ROWID;
    CREATE TABLE heads(
        origin TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        hash BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE clock(id INTEGER PRIMARY KEY CHECK (id = 1), hlc INTEGER NOT NULL);
    INSERT INTO clock(id, hlc) VALUES (1, 0);
    CREATE TABLE held(
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        reason TEXT NOT NULL,
        since_ms INTEGER NOT NULL,
        PRIMARY KEY(origin, seq)
    ) WITHOUT ROWID;
    CREATE TABLE rejected(
        id INTEGER PRIMARY KEY,
        origin TEXT,
        seq INTEGER,
        reason TEXT NOT NULL,
        raw BLOB NOT NULL,
        at_hlc INTEGER NOT NULL
    );
    """
    + derive.SCHEMA,
    """
    CREATE TABLE outbox(
        origin TEXT PRIMARY KEY,
        published_seq INTEGER NOT NULL DEFAULT 0,
        stream_seq INTEGER NOT NULL DEFAULT 0,
        last_ack_ms INTEGER,
        safe_seq INTEGER NOT NULL DEFAULT 0,
        last_safe_ms INTEGER
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE folded(origin TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO folded(origin, seq) SELECT origin, seq FROM heads;
    """,
    # which movement gave a lot its expiry: the earliest in fold order wins on every replica
    """
    ALTER TABLE lots ADD COLUMN expiry_hlc INTEGER;
    ALTER TABLE lots ADD COLUMN expiry_origin TEXT;
    ALTER TABLE lots ADD COLUMN expiry_seq INTEGER;
    """,
    # verified events still in the batch they arrived in (see ingest_batch_in_transaction)
    """
    CREATE TABLE verified_batches(
        origin TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        last_hlc INTEGER NOT NULL,
        payload BLOB NOT NULL,
        PRIMARY KEY(origin, first_seq)
    ) WITHOUT ROWID;
    """,
]


@dataclass
class IngestResult:
    """What one `ingest` call did, for logs, acks and the sync status."""

    applied: int = 0
    duplicates: int = 0
    waiting: int = 0
    held: list[tuple[str, int, str]] = field(default_factory=list)
    rejected: list[tuple[str | None, int | None, str]] = field(default_factory=list)


class EventStore:
    """The replica's events and derived state; `origin` is this replica's own id."""

    def __init__(
        self, conn: sqlite3.Connection, origin: str, max_skew_ms: int = DEFAULT_MAX_SKEW_MS
    ) -> None:
        self.conn = conn
        self.origin = origin
        self.max_skew_ms = max_skew_ms
        migrate(conn, "ledger", MIGRATIONS)

    # ---- writing -------------------------------------------------------------------

    def append(
        self,
        bodies: Sequence[Body],
        user: str,
        wall_ms: int,
        origin: str | None = None,
        fold: bool = True,
    ) -> list[Event]:
        """Append local events and fold them, in one durable transaction.

        `origin` is one of the logs this replica writes (the hub writes several); by
        default the replica's own. With `fold=False` only the log is written (bulk loads);
        `project` folds it later.
        """
        with transaction(self.conn):
            return self.append_in_transaction(bodies, user, wall_ms, origin, fold)

    def append_in_transaction(
        self,
        bodies: Sequence[Body],
        user: str,
        wall_ms: int,
        origin: str | None = None,
        fold: bool = True,
    ) -> list[Event]:
        """The body of `append`, for callers that write more in the same transaction."""
        origin = origin or self.origin
        seq, prev = self._head(origin)
        start = seq
        clock = HybridClock(self._clock())
        events, rows = [], []
        for body in bodies:
            seq += 1
            event = Event(
                origin=origin,
                seq=seq,
                hlc=clock.tick(wall_ms),
                prev=prev,
                user=user,
                body=body,
            )
            problem = limits.out_of_range(event)
            if problem:  # every replica would refuse it: never write it
                raise ValueError(f"cannot record {event.kind}: {problem}")
            raw = codec.encode(event)
            prev = codec.event_hash(raw)
            rows.append((origin, seq, event.hlc, event.kind, raw, prev))
            events.append(event)
        self.conn.executemany(
            "INSERT INTO events(origin, seq, hlc, kind, raw, hash) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        self._set_head(origin, seq, prev)
        self.conn.execute("UPDATE clock SET hlc = ? WHERE id = 1", (clock.last,))
        if fold:
            self._fold_new({origin: (start, events)})
        return events

    def ingest(self, raws: Iterable[bytes], wall_ms: int, fold: bool = True) -> IngestResult:
        """Store events from other replicas: idempotent, chain-verified, one transaction;
        folded in it too unless `fold=False` (then `project` folds them later)."""
        with transaction(self.conn):
            return self.ingest_in_transaction(raws, wall_ms, fold)

    def ingest_in_transaction(
        self, raws: Iterable[bytes], wall_ms: int, fold: bool = True
    ) -> IngestResult:
        """The body of `ingest`, for callers that write more in the same transaction."""
        result = IngestResult()
        pairs: list[tuple[bytes, Event]] = []
        for raw in raws:
            try:
                pairs.append((raw, codec.decode(raw)))
            except codec.BadEvent as exc:
                self.record_rejected(None, None, str(exc), raw, wall_ms)
                result.rejected.append((None, None, str(exc)))
        return self.ingest_decoded_in_transaction(pairs, wall_ms, fold, result)

    def ingest_decoded_in_transaction(
        self,
        pairs: Iterable[tuple[bytes, Event]],
        wall_ms: int,
        fold: bool = True,
        result: IngestResult | None = None,
    ) -> IngestResult:
        """`ingest_in_transaction` for events the caller has decoded (with `codec.decode`,
        so canonical) from their bytes."""
        result = result or IngestResult()
        pairs = list(pairs)
        for origin in {event.origin for _, event in pairs}:
            self._explode(origin)  # so that every check below sees every stored event
        decoded: dict[tuple[str, int], Event] = {}
        fresh: dict[tuple[str, int], bytes] = {}
        for raw, event in pairs:
            problem = limits.out_of_range(event)
            if problem:
                seq = event.seq if limits.storable_int(event.seq) else None
                self.record_rejected(event.origin, seq, problem, raw, wall_ms)
                result.rejected.append((event.origin, seq, problem))
                continue
            key = (event.origin, event.seq)
            if key in fresh:  # twice in one delivery
                result.duplicates += 1
                if fresh[key] != raw:
                    self._conflict(event, wall_ms, result)
                continue
            decoded[key] = event
            fresh[key] = raw
        for origin, stored in self._stored_among(fresh).items():
            for seq, raw in stored.items():  # already held: a resend, or a forgery
                result.duplicates += 1
                if fresh.pop((origin, seq)) != raw:
                    self._conflict(decoded[(origin, seq)], wall_ms, result)
        digests = {key: codec.event_hash(raw) for key, raw in fresh.items()}
        self.conn.executemany(
            "INSERT INTO events(origin, seq, hlc, kind, raw, hash) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (o, s, decoded[(o, s)].hlc, decoded[(o, s)].kind, raw, digests[(o, s)])
                for (o, s), raw in fresh.items()
            ],
        )
        touched = {origin for origin, _ in fresh}
        touched.update(
            origin for (origin,) in self.conn.execute("SELECT DISTINCT origin FROM held")
        )
        advanced: dict[str, tuple[int, list[Event]]] = {}
        for origin in sorted(touched):
            start = self._head(origin)[0]
            ready = self._advance(origin, wall_ms, result, decoded, digests)
            if ready:
                advanced[origin] = (start, ready)
        if fold:
            self._fold_new(advanced)
        return result

    def ingest_batch_in_transaction(
        self, origin: str, payload: bytes, raws: Sequence[bytes], wall_ms: int
    ) -> IngestResult | None:
        """Store one delivered batch that simply continues `origin`'s verified prefix, as one
        row, unfolded; None (and nothing written) when it does anything else.

        The common case of a node syncing: events head+1.., chained, believable clocks,
        nothing waiting or held. Every event is checked exactly as `ingest` checks it, but
        the batch is kept whole (`verified_batches`) rather than as one row per event: a
        row per event costs more than all the checks together. `project` turns batches
        into event rows before folding them; the general path does so before it looks.
        """
        start, prev = self._head(origin)
        if not raws or self.conn.execute(
            "SELECT 1 FROM events WHERE origin = ? AND seq > ? UNION ALL "
            "SELECT 1 FROM held WHERE origin = ? LIMIT 1",
            (origin, start, origin),
        ).fetchone():
            return None
        seq, top = start, 0
        decode, out_of_range, event_hash = codec.decode, limits.out_of_range, codec.event_hash
        try:
            for raw in raws:
                event = decode(raw)
                seq += 1
                if event.origin != origin or event.seq != seq or event.prev != prev:
                    return None
                if out_of_range(event):
                    return None
                if event.hlc > top:
                    top = event.hlc
                prev = event_hash(raw)
        except codec.BadEvent:
            return None
        clock = HybridClock(self._clock(), max_skew_ms=self.max_skew_ms)
        try:
            clock.observe(top, wall_ms)
        except ClockSkewError:
            return None
        self.conn.execute(
            "INSERT INTO verified_batches(origin, first_seq, last_seq, last_hlc, payload) "
            "VALUES (?, ?, ?, ?, ?)",
            (origin, start + 1, seq, event.hlc, payload),
        )
        self._set_head(origin, seq, prev)
        self.conn.execute("UPDATE clock SET hlc = max(hlc, ?) WHERE id = 1", (clock.last,))
        return IngestResult(applied=len(raws))

    def _explode(self, origin: str, upto: int | None = None) -> dict[int, Event]:
        """Turn `origin`'s verified batches (those starting at or before `upto`) into event
        rows; return their events by seq."""
        batches = self.conn.execute(
            "SELECT first_seq, payload FROM verified_batches WHERE origin = ? "
            "AND first_seq <= ? ORDER BY first_seq",
            (origin, limits.INT64_MAX if upto is None else upto),
        ).fetchall()
        if not batches:
            return {}
        events: dict[int, Event] = {}
        rows = []
        for first, payload in batches:
            for seq, raw in enumerate(codec.decode_batch(payload), start=first):
                event = events[seq] = codec.decode_verified(raw)
                rows.append((origin, seq, event.hlc, event.kind, raw, codec.event_hash(raw)))
        self.conn.executemany(
            "INSERT INTO events(origin, seq, hlc, kind, raw, hash) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.conn.executemany(
            "DELETE FROM verified_batches WHERE origin = ? AND first_seq = ?",
            [(origin, first) for first, _ in batches],
        )
        return events

    def head_hlc(self, origin: str) -> int | None:
        """The hlc of `origin`'s newest verified event."""
        seq = self._head(origin)[0]
        row = self.conn.execute(
            "SELECT hlc FROM events WHERE origin = ? AND seq = ? UNION ALL "
            "SELECT last_hlc FROM verified_batches WHERE origin = ? AND last_seq = ?",
            (origin, seq, origin, seq),
        ).fetchone()
        return row[0] if row else None

    def release_held(self, wall_ms: int, fold: bool = True) -> IngestResult:
        """Take in held events whose clock is no longer too far ahead of ours."""
        return self.ingest([], wall_ms, fold)

    # ---- folding -------------------------------------------------------------------

    def _fold_new(self, advanced: dict[str, tuple[int, list[Event]]]) -> None:
        """Fold events that just joined their origins' verified prefixes (`start` was the
        head before them). Folded straight from memory when nothing of the origin waited
        unfolded; otherwise the origin's whole unfolded rest is projected."""
        direct: list[Event] = []
        behind = False
        for origin, (start, events) in advanced.items():
            if self._folded(origin) == start:
                direct += events
                self._set_folded(origin, events[-1].seq)
            else:
                behind = True
        derive.apply_all(self.conn, direct)
        if behind:
            self.project_in_transaction(per_origin=None)

    def project(self, per_origin: int | None = 20_000) -> int:
        """Fold up to `per_origin` verified, unfolded events of each origin, in one
        transaction; return how many were folded (0: derived state is current)."""
        with transaction(self.conn):
            return self.project_in_transaction(per_origin)

    def project_in_transaction(
        self, per_origin: int | None = 20_000, only: str | None = None
    ) -> int:
        """The body of `project`; `only` limits it to one origin."""
        events: list[Event] = []
        for origin, done, head in self.unfolded_spans():
            if only is not None and origin != only:
                continue
            upto = head if per_origin is None else min(head, done + per_origin)
            exploded = self._explode(origin, upto)
            rows = self.conn.execute(
                "SELECT seq, raw FROM events WHERE origin = ? AND seq > ? AND seq <= ? "
                "ORDER BY seq",
                (origin, done, upto),
            )
            events += [exploded.get(seq) or codec.decode_verified(raw) for seq, raw in rows]
            self._set_folded(origin, upto)
        derive.apply_all(self.conn, events)
        return len(events)

    def unfolded(self) -> int:
        """Verified events the derived state does not show yet."""
        return sum(head - done for _, done, head in self.unfolded_spans())

    def folded(self) -> dict[str, int]:
        """Per origin, how many of its events the derived state shows."""
        return dict(self.conn.execute("SELECT origin, seq FROM folded ORDER BY origin"))

    def set_aside_unfoldable(self, origin: str, reason: str) -> int:
        """Skip `origin`'s next unfolded event, listed as ignored with `reason`: an event
        whose fold cannot be stored must not stop every later one from being folded."""
        seq = self._folded(origin) + 1
        self._explode(origin, seq)
        (hlc,) = self.conn.execute(
            "SELECT hlc FROM events WHERE origin = ? AND seq = ?", (origin, seq)
        ).fetchone()
        self.conn.execute(
            "INSERT OR IGNORE INTO ignored(origin, seq, reason) VALUES (?, ?, ?)",
            (origin, seq, reason),
        )
        self.conn.execute(
            "INSERT INTO alerts(kind, origin, seq, hlc, message) "
            "VALUES ('ignored_event', ?, ?, ?, ?)",
            (origin, seq, hlc, reason),
        )
        self._set_folded(origin, seq)
        return seq

    def unfolded_spans(self) -> list[tuple[str, int, int]]:
        """(origin, folded seq, verified head) of each origin not folded to its head."""
        return self.conn.execute(
            "SELECT h.origin, coalesce(f.seq, 0), h.seq FROM heads h "
            "LEFT JOIN folded f ON f.origin = h.origin WHERE h.seq > coalesce(f.seq, 0) "
            "ORDER BY h.origin"
        ).fetchall()

    def _folded(self, origin: str) -> int:
        row = self.conn.execute("SELECT seq FROM folded WHERE origin = ?", (origin,)).fetchone()
        return row[0] if row else 0

    def _set_folded(self, origin: str, seq: int) -> None:
        self.conn.execute(
            "INSERT INTO folded(origin, seq) VALUES (?, ?) "
            "ON CONFLICT(origin) DO UPDATE SET seq = excluded.seq",
            (origin, seq),
        )

    def _stored_among(self, keys: Iterable[tuple[str, int]]) -> dict[str, dict[int, bytes]]:
        """Which of `keys` this replica already holds, with their stored bytes."""
        spans: dict[str, list[int]] = {}
        for origin, seq in keys:
            spans.setdefault(origin, []).append(seq)
        found: dict[str, dict[int, bytes]] = {}
        for origin, seqs in spans.items():
            wanted = set(seqs)
            rows = self.conn.execute(
                "SELECT seq, raw FROM events WHERE origin = ? AND seq BETWEEN ? AND ?",
                (origin, min(seqs), max(seqs)),
            )
            hits = {seq: raw for seq, raw in rows if seq in wanted}
            if hits:
                found[origin] = hits
        return found

    def _conflict(self, event: Event, wall_ms: int, result: IngestResult) -> None:
        """Another copy of an (origin, seq) already held, with different content."""
        reason = f"conflicting copy of {event.origin}:{event.seq} (different content)"
        self.record_rejected(event.origin, event.seq, reason, codec.encode(event), wall_ms)
        result.rejected.append((event.origin, event.seq, reason))

    def _advance(
        self,
        origin: str,
        wall_ms: int,
        result: IngestResult,
        decoded: dict[tuple[str, int], Event],
        digests: dict[tuple[str, int], bytes],
    ) -> list[Event]:
        """The newly contiguous events of `origin`, chain-verified, to be folded; moves the
        head past them. Events just stored (`digests`) that continue the head are taken
        from memory; what follows them was stored earlier and is read back."""
        ready: list[Event] = []
        start, prev = self._head(origin)
        seq = start
        clock = HybridClock(self._clock(), max_skew_ms=self.max_skew_ms)
        rows: list[tuple[int, bytes]] = []
        while (origin, start + len(rows) + 1) in digests:
            rows.append((start + len(rows) + 1, digests[(origin, start + len(rows) + 1)]))
        rows += self.conn.execute(
            "SELECT seq, hash FROM events WHERE origin = ? AND seq > ? ORDER BY seq",
            (origin, start + len(rows)),
        ).fetchall()
        for next_seq, digest in rows:
            if next_seq != seq + 1:
                break
            event = decoded.get((origin, next_seq))
            if event is None:  # stored by an earlier call, waiting for a gap to fill
                raw = self._raw(origin, next_seq)
                event = codec.decode(raw)
            if event.prev != prev:
                reason = f"hash chain broken at {origin}:{next_seq}"
                self.conn.execute(
                    "DELETE FROM events WHERE origin = ? AND seq = ?", (origin, next_seq)
                )
                self.record_rejected(origin, next_seq, reason, codec.encode(event), wall_ms)
                result.rejected.append((origin, next_seq, reason))
                break
            try:
                clock.observe(event.hlc, wall_ms)
            except ClockSkewError as exc:
                self._hold(event, f"clock of {origin} is ahead: {exc}", wall_ms, result)
                break
            ready.append(event)
            seq, prev = next_seq, digest
            result.applied += 1
        if seq > start:
            self.conn.execute("DELETE FROM held WHERE origin = ? AND seq <= ?", (origin, seq))
        result.waiting += self.conn.execute(
            "SELECT count(*) FROM events WHERE origin = ? AND seq > ?", (origin, seq)
        ).fetchone()[0]
        self._set_head(origin, seq, prev)
        self.conn.execute("UPDATE clock SET hlc = max(hlc, ?) WHERE id = 1", (clock.last,))
        return ready

    def _hold(self, event: Event, reason: str, wall_ms: int, result: IngestResult) -> None:
        """Keep a too-far-ahead event (and its origin's later ones) aside, flagged, unfolded."""
        inserted = self.conn.execute(
            "INSERT OR IGNORE INTO held(origin, seq, reason, since_ms) VALUES (?, ?, ?, ?)",
            (event.origin, event.seq, reason, wall_ms),
        ).rowcount
        if inserted:
            self.conn.execute(
                "INSERT INTO alerts(kind, origin, seq, hlc, message) "
                "VALUES ('clock_skew', ?, ?, ?, ?)",
                (event.origin, event.seq, event.hlc, reason),
            )
        result.held.append((event.origin, event.seq, reason))

    def record_rejected(
        self, origin: str | None, seq: int | None, reason: str, raw: bytes, wall_ms: int
    ) -> None:
        """Keep what could not be used, with the reason, for the dead-letter list."""
        self.conn.execute(
            "INSERT INTO rejected(origin, seq, reason, raw, at_hlc) VALUES (?, ?, ?, ?, ?)",
            (origin, seq, reason, raw, wall_ms),
        )

    def _raw(self, origin: str, seq: int) -> bytes:
        return self.conn.execute(
            "SELECT raw FROM events WHERE origin = ? AND seq = ?", (origin, seq)
        ).fetchone()[0]

    def _head(self, origin: str) -> tuple[int, bytes]:
        row = self.conn.execute(
            "SELECT seq, hash FROM heads WHERE origin = ?", (origin,)
        ).fetchone()
        return (row[0], row[1]) if row else (0, codec.GENESIS)

    def _set_head(self, origin: str, seq: int, digest: bytes) -> None:
        if seq == 0:
            return
        self.conn.execute(
            "INSERT INTO heads(origin, seq, hash) VALUES (?, ?, ?) "
            "ON CONFLICT(origin) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (origin, seq, digest),
        )

    def _clock(self) -> int:
        return self.conn.execute("SELECT hlc FROM clock WHERE id = 1").fetchone()[0]

    # ---- reading -------------------------------------------------------------------

    def head_seq(self, origin: str) -> int:
        return self._head(origin)[0]

    def heads(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT origin, seq FROM heads ORDER BY origin"))

    def raw_events(
        self, origin: str, after_seq: int, limit: int = 10_000
    ) -> list[tuple[int, bytes]]:
        """(seq, canonical bytes) of `origin`'s verified events after `after_seq`."""
        return self.conn.execute(
            "SELECT e.seq, e.raw FROM events e JOIN heads h ON h.origin = e.origin "
            "WHERE e.origin = ? AND e.seq > ? AND e.seq <= h.seq ORDER BY e.seq LIMIT ?",
            (origin, after_seq, limit),
        ).fetchall()

    def events(self, origin: str | None = None) -> Iterator[Event]:
        sql = "SELECT raw FROM events"
        args: tuple = ()
        if origin is not None:
            sql += " WHERE origin = ?"
            args = (origin,)
        for (raw,) in self.conn.execute(sql + " ORDER BY hlc, origin, seq", args):
            yield codec.decode(raw)

    def stock(
        self, location: str | None = None, sku: str | None = None, include_virtual: bool = False
    ) -> list[derive.StockRow]:
        return derive.stock(self.conn, location, sku, include_virtual)

    def gaps(self) -> dict[str, list[tuple[int, int]]]:
        """Per origin, the seq ranges missing between its verified head and what waits."""
        out: dict[str, list[tuple[int, int]]] = {}
        rows = self.conn.execute(
            "SELECT e.origin, e.seq FROM events e LEFT JOIN heads h ON h.origin = e.origin "
            "WHERE e.seq > coalesce(h.seq, 0) ORDER BY e.origin, e.seq"
        )
        last: dict[str, int] = {}
        for origin, seq in rows:
            expected = last.get(origin, self.head_seq(origin)) + 1
            if seq > expected:
                out.setdefault(origin, []).append((expected, seq - 1))
            last[origin] = seq
        return out

    def held(self) -> list[dict]:
        cur = self.conn.execute("SELECT origin, seq, reason, since_ms FROM held ORDER BY 1, 2")
        return [{"origin": o, "seq": s, "reason": r, "since_ms": t} for o, s, r, t in cur]

    def cost(self, location: str | None = None, sku: str | None = None) -> list[derive.CostRow]:
        return derive.cost(self.conn, location, sku)

    def document(self, doc: str) -> DocumentStatus | None:
        return derive.document_status(self.conn, doc)

    def snapshot(self) -> fold.Snapshot:
        """The derived state in the shape of the reference fold, to compare replicas."""
        snap = fold.Snapshot()
        snap.stock = {(r.location, r.sku, r.lot): r.qty for r in self.stock(include_virtual=True)}
        snap.cost = {
            (r.location, r.sku): fold.CostState(r.qty, r.value, r.last_cost) for r in self.cost()
        }
        snap.cogs = derive.cogs(self.conn)
        snap.variances = derive.variances(self.conn)
        snap.registers = derive.registers(self.conn)
        snap.levels_after = {
            (loc, sku, lot or None, hlc, origin, seq): level
            for loc, sku, lot, hlc, origin, seq, level in self.conn.execute(
                "SELECT location, sku, lot, hlc, origin, seq, level_after FROM stock_journal"
            )
        }
        snap.costs_after = {
            (row[0], row[1], row[2], row[3], row[4]): fold.CostState(*row[5:])
            for row in self.conn.execute(
                "SELECT location, sku, hlc, origin, seq, qty_after, value_after, "
                "last_cost_after FROM cost_journal"
            )
        }
        snap.lot_expiry = {
            (sku, lot): expiry
            for sku, lot, expiry in self.conn.execute(
                "SELECT sku, lot, expiry FROM lots WHERE expiry IS NOT NULL"
            )
        }
        snap.ignored = {
            (o, s): r for o, s, r in self.conn.execute("SELECT origin, seq, reason FROM ignored")
        }
        return snap

    def rejected(self) -> list[dict]:
        cur = self.conn.execute(
            "SELECT id, origin, seq, reason, length(raw) FROM rejected ORDER BY id"
        )
        return [{"id": i, "origin": o, "seq": s, "reason": r, "size": n} for i, o, s, r, n in cur]
