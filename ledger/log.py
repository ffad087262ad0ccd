"""The event log of a replica: every origin's events, verified, idempotent, tamper-evident.

`events` holds events one row each, `verified_batches` holds delivered batches that simply
continued their origin's log, kept whole (a row per event cost more than every check of
it together). The two are disjoint and every reader here sees both: no caller needs to
know which form an event is stored in. `heads` is each origin's verified prefix: 1..seq
all present and chained by hash. What cannot enter the log goes to the quarantine.

Nothing here opens a transaction: callers hold a unit of work (`ledger.sqlite.transaction`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from ledger.quarantine import Quarantine, Quarantined
from ledger.sqlite import require_durable
from protocol import codec, limits
from protocol.events import Body, Event
from protocol.hlc import ClockSkewError, HybridClock

#: A remote event stamped further ahead of our wall clock than this is held, not folded.
DEFAULT_MAX_SKEW_MS = 10 * 60 * 1000

_INSERT_EVENTS = "INSERT INTO events(origin, seq, hlc, kind, raw, hash) VALUES (?, ?, ?, ?, ?, ?)"


#: Per origin: the head before, and the events that just joined its verified prefix.
Advanced = dict[str, tuple[int, list[Event]]]


@dataclass
class IngestResult:
    """What one ingest did, for logs, acks and the sync status."""

    applied: int = 0
    duplicates: int = 0
    waiting: int = 0
    held: list[Quarantined] = field(default_factory=list)
    rejected: list[Quarantined] = field(default_factory=list)
    #: what the projector may fold now (not part of what callers report)
    advanced: Advanced = field(default_factory=dict, repr=False)

    def add(self, other: IngestResult) -> None:
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.waiting = other.waiting
        self.held += other.held
        self.rejected += other.rejected


class EventLog:
    """Append, ingest and read the logs; `origin` is this replica's own."""

    def __init__(
        self, conn: sqlite3.Connection, origin: str, max_skew_ms: int = DEFAULT_MAX_SKEW_MS
    ) -> None:
        self.conn = conn
        self.origin = origin
        self.max_skew_ms = max_skew_ms
        self.quarantine = Quarantine(conn)

    # ---- writing ---------------------------------------------------------------------------

    def append(
        self, bodies: Sequence[Body], user: str, wall_ms: int, origin: str | None = None
    ) -> list[Event]:
        """Stamp, chain and store local events of `origin` (one of the logs this replica
        writes; by default its own). Refuses what no replica could store."""
        require_durable(self.conn)
        origin = origin or self.origin
        seq, prev = self.head(origin)
        clock = HybridClock(self.clock())
        events, rows = [], []
        for body in bodies:
            seq += 1
            event = Event(
                origin=origin, seq=seq, hlc=clock.tick(wall_ms), prev=prev, user=user, body=body
            )
            problem = limits.out_of_range(event)
            if problem:  # every replica would refuse it: never write it
                raise ValueError(f"cannot record {event.kind}: {problem}")
            raw = codec.encode(event)
            prev = codec.event_hash(raw)
            rows.append((origin, seq, event.hlc, event.kind, raw, prev))
            events.append(event)
        self.conn.executemany(_INSERT_EVENTS, rows)
        self._set_head(origin, seq, prev)
        self._set_clock(clock.last)
        return events

    def ingest(self, raws: Iterable[bytes], wall_ms: int) -> IngestResult:
        """Store events from other replicas: idempotent on (origin, seq), chain-verified."""
        result = IngestResult()
        pairs: list[tuple[bytes, Event]] = []
        for raw in raws:
            try:
                pairs.append((raw, codec.decode(raw)))
            except codec.BadEvent as exc:
                result.rejected.append(self.quarantine.reject(None, None, str(exc), raw, wall_ms))
        return self.ingest_decoded(pairs, wall_ms, result)

    def ingest_decoded(
        self,
        pairs: Iterable[tuple[bytes, Event]],
        wall_ms: int,
        result: IngestResult | None = None,
    ) -> IngestResult:
        """`ingest` for events the caller decoded (with `codec.decode`, so canonical)."""
        require_durable(self.conn)
        result = result or IngestResult()
        decoded: dict[tuple[str, int], Event] = {}
        fresh: dict[tuple[str, int], bytes] = {}
        for raw, event in pairs:
            problem = limits.out_of_range(event)
            if problem:
                seq = event.seq if limits.storable_int(event.seq) else None
                result.rejected.append(
                    self.quarantine.reject(event.origin, seq, problem, raw, wall_ms)
                )
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
            _INSERT_EVENTS,
            [
                (o, s, decoded[(o, s)].hlc, decoded[(o, s)].kind, raw, digests[(o, s)])
                for (o, s), raw in fresh.items()
            ],
        )
        touched = {origin for origin, _ in fresh} | set(self.quarantine.held_origins())
        for origin in sorted(touched):
            start = self.head_seq(origin)
            ready = self._advance(origin, wall_ms, result, decoded, digests)
            if ready:
                result.advanced[origin] = (start, ready)
        return result

    def ingest_batch(
        self, origin: str, payload: bytes, raws: Sequence[bytes], wall_ms: int
    ) -> IngestResult | None:
        """Store one delivered batch that simply continues `origin`'s verified prefix, whole;
        None (and nothing written) when it does anything else.

        The common case of a node syncing: events head+1.., chained, believable clocks,
        nothing waiting or held. Every event is checked exactly as `ingest` checks it. The
        events are not handed to the projector: it folds them from the log later.
        """
        start, prev = self.head(origin)
        if (
            not raws
            or self.conn.execute(
                "SELECT 1 FROM events WHERE origin = ? AND seq > ? UNION ALL "
                "SELECT 1 FROM held WHERE origin = ? LIMIT 1",
                (origin, start, origin),
            ).fetchone()
        ):
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
        clock = HybridClock(self.clock(), max_skew_ms=self.max_skew_ms)
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

    def _conflict(self, event: Event, wall_ms: int, result: IngestResult) -> None:
        """Another copy of an (origin, seq) already held, with different content."""
        reason = f"conflicting copy of {event.origin}:{event.seq} (different content)"
        result.rejected.append(
            self.quarantine.reject(event.origin, event.seq, reason, codec.encode(event), wall_ms)
        )

    def _advance(
        self,
        origin: str,
        wall_ms: int,
        result: IngestResult,
        decoded: dict[tuple[str, int], Event],
        digests: dict[tuple[str, int], bytes],
    ) -> list[Event]:
        """The newly contiguous events of `origin`, chain-verified; moves the head past them.
        Events just stored (`digests`) that continue the head are taken from memory; what
        follows them was stored earlier, waiting for a gap to fill, and is read back."""
        ready: list[Event] = []
        start, prev = self.head(origin)
        seq = start
        clock = HybridClock(self.clock(), max_skew_ms=self.max_skew_ms)
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
            if event is None:
                event = codec.decode(self._row_raw(origin, next_seq))
            if event.prev != prev:
                reason = f"hash chain broken at {origin}:{next_seq}"
                self.conn.execute(
                    "DELETE FROM events WHERE origin = ? AND seq = ?", (origin, next_seq)
                )
                result.rejected.append(
                    self.quarantine.reject(origin, next_seq, reason, codec.encode(event), wall_ms)
                )
                break
            try:
                clock.observe(event.hlc, wall_ms)
            except ClockSkewError as exc:
                reason = f"clock of {origin} is ahead: {exc}"
                result.held.append(
                    self.quarantine.hold(origin, event.seq, event.hlc, reason, wall_ms)
                )
                break
            ready.append(event)
            seq, prev = next_seq, digest
            result.applied += 1
        if seq > start:
            self.quarantine.release(origin, seq)
        result.waiting += self.waiting(origin, seq)
        self._set_head(origin, seq, prev)
        self.conn.execute("UPDATE clock SET hlc = max(hlc, ?) WHERE id = 1", (clock.last,))
        return ready

    def _set_head(self, origin: str, seq: int, digest: bytes) -> None:
        if seq == 0:
            return
        self.conn.execute(
            "INSERT INTO heads(origin, seq, hash) VALUES (?, ?, ?) "
            "ON CONFLICT(origin) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (origin, seq, digest),
        )

    def _set_clock(self, hlc: int) -> None:
        self.conn.execute("UPDATE clock SET hlc = ? WHERE id = 1", (hlc,))

    # ---- reading ---------------------------------------------------------------------------

    def clock(self) -> int:
        """The newest hlc this replica has issued or seen; never goes backwards."""
        return self.conn.execute("SELECT hlc FROM clock WHERE id = 1").fetchone()[0]

    def head(self, origin: str) -> tuple[int, bytes]:
        """(seq, hash) of `origin`'s verified prefix; (0, genesis) for an unknown origin."""
        row = self.conn.execute(
            "SELECT seq, hash FROM heads WHERE origin = ?", (origin,)
        ).fetchone()
        return (row[0], row[1]) if row else (0, codec.GENESIS)

    def head_seq(self, origin: str) -> int:
        return self.head(origin)[0]

    def heads(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT origin, seq FROM heads ORDER BY origin"))

    def head_hlc(self, origin: str) -> int | None:
        """The hlc of `origin`'s newest verified event."""
        seq = self.head_seq(origin)
        row = self.conn.execute(
            "SELECT hlc FROM events WHERE origin = ? AND seq = ?", (origin, seq)
        ).fetchone()
        if row:
            return row[0]
        # by the key (origin, first_seq): a search on last_seq would read every batch's
        # payload of the origin (WITHOUT ROWID keeps them in the row)
        row = self.conn.execute(
            "SELECT last_seq, last_hlc FROM verified_batches WHERE origin = ? AND first_seq <= ? "
            "ORDER BY first_seq DESC LIMIT 1",
            (origin, seq),
        ).fetchone()
        return row[1] if row and row[0] == seq else None

    def raw_events(
        self, origin: str, after_seq: int, limit: int = 10_000
    ) -> list[tuple[int, bytes]]:
        """(seq, canonical bytes) of `origin`'s verified events after `after_seq`."""
        upto = min(self.head_seq(origin), after_seq + limit)
        return self._verified(origin, after_seq, upto)

    def verified_events(self, origin: str, after_seq: int, upto: int) -> list[Event]:
        """`origin`'s verified events after `after_seq` up to `upto`, decoded, in seq order:
        what the projector folds, batches decoded straight from their payload."""
        decode = codec.decode_verified
        return [decode(raw) for _, raw in self._verified(origin, after_seq, upto)]

    def event(self, origin: str, seq: int) -> Event | None:
        found = self._verified(origin, seq - 1, seq)
        return codec.decode_verified(found[0][1]) if found else None

    def _verified(self, origin: str, after_seq: int, upto: int) -> list[tuple[int, bytes]]:
        """(seq, raw) from both storage forms, in seq order, after_seq+1..upto."""
        if upto <= after_seq:
            return []
        found: list[tuple[int, bytes]] = [
            (seq, raw)
            for seq, raw in self.conn.execute(
                "SELECT seq, raw FROM events WHERE origin = ? AND seq > ? AND seq <= ? "
                "ORDER BY seq",
                (origin, after_seq, upto),
            )
        ]
        batches = self._batches_within(origin, after_seq, upto)
        if not batches:
            return found
        for first, payload in batches:
            for seq, raw in enumerate(codec.decode_batch(payload), start=first):
                if after_seq < seq <= upto:
                    found.append((seq, raw))
        found.sort(key=lambda row: row[0])
        return found

    def _batches_within(self, origin: str, after_seq: int, upto: int) -> list[tuple[int, bytes]]:
        """(first seq, payload) of the stored batches holding any of after_seq+1..upto."""
        return self.conn.execute(
            "SELECT first_seq, payload FROM verified_batches WHERE origin = ? "
            "AND last_seq > ? AND first_seq <= ? ORDER BY first_seq",
            (origin, after_seq, upto),
        ).fetchall()

    def events(self, origin: str | None = None) -> Iterator[Event]:
        """Every verified event (of `origin`, or of all), in fold order."""
        origins = [origin] if origin is not None else list(self.heads())
        everything = [e for o in origins for e in self.verified_events(o, 0, self.head_seq(o))]
        everything.sort(key=lambda e: e.order_key)
        return iter(everything)

    def waiting(self, origin: str, head: int | None = None) -> int:
        """Events of `origin` stored beyond its verified head (after a gap, or held)."""
        head = self.head_seq(origin) if head is None else head
        return self.conn.execute(
            "SELECT count(*) FROM events WHERE origin = ? AND seq > ?", (origin, head)
        ).fetchone()[0]

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

    def _row_raw(self, origin: str, seq: int) -> bytes:
        return self.conn.execute(
            "SELECT raw FROM events WHERE origin = ? AND seq = ?", (origin, seq)
        ).fetchone()[0]

    def _stored_among(self, keys: Iterable[tuple[str, int]]) -> dict[str, dict[int, bytes]]:
        """Which of `keys` this replica already holds, in either form, with their bytes."""
        spans: dict[str, list[int]] = {}
        for origin, seq in keys:
            spans.setdefault(origin, []).append(seq)
        found: dict[str, dict[int, bytes]] = {}
        for origin, seqs in spans.items():
            wanted = set(seqs)
            low, high = min(seqs), max(seqs)
            rows = self.conn.execute(
                "SELECT seq, raw FROM events WHERE origin = ? AND seq BETWEEN ? AND ?",
                (origin, low, high),
            ).fetchall()
            if self.conn.execute(
                "SELECT 1 FROM verified_batches WHERE origin = ? LIMIT 1", (origin,)
            ).fetchone():
                upto = min(high, self.head_seq(origin))
                rows += self._verified(origin, low - 1, upto)
            hits = {seq: raw for seq, raw in rows if seq in wanted}
            if hits:
                found[origin] = hits
        return found
