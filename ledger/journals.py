"""Folding verified events into derived tables, incrementally.

The rules are the pure step functions of `protocol.fold`; this module keeps, per real
(location, sku, lot) a stock journal and per real (location, sku) a cost journal, each
ordered by (hlc, origin, seq) and holding the state after every row. Events that land after
a key's last row, the common case, are folded in memory from that row and appended; events
that arrive late are inserted at their places and only that key is re-folded from the
earliest of them (a later count absorbs a stock shift as a changed variance; cost re-folds
to the end of the key's journal). Everything a call adds is folded once per key.
"""

from __future__ import annotations

import operator
import sqlite3

import msgspec

from ledger import registers
from ledger.quarantine import Quarantine
from ledger.sqlite import write_cache
from protocol import fold
from protocol.events import COUNT, Count, Document, Event, Movement, Upsert, is_virtual
from protocol.fold import CostState

_document_encoder = msgspec.msgpack.Encoder()

#: Where an event falls in the fold order every replica shares: (hlc, origin, seq).
Position = tuple[int, str, int]


class Journals:
    """Folds verified events into the journals and the tables derived from them.

    Each key's journal tail (position and state after its last row) is remembered with the
    connection between calls (`ledger.sqlite.write_cache`: dropped on rollback and when
    another connection has committed), so a chunk of appends reads nothing back.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def fold(self, events: list[Event]) -> None:
        """Fold verified events, wherever they fall in the order: the result is the
        reference fold of everything folded so far. Work is per journal key, once per call."""
        if not events:
            return
        batch = _Batch(
            self.conn, write_cache(self.conn, "stock_tails"), write_cache(self.conn, "cost_tails")
        )
        quarantine = Quarantine(self.conn)
        events = sorted(events, key=_fold_order)
        invalid = fold.invalid_reason
        for event in events:
            body = event.body
            at = (event.hlc, event.origin, event.seq)
            reason = invalid(event)
            if reason:
                quarantine.ignore(event.origin, event.seq, event.hlc, reason)
                continue
            if type(body) is Movement:
                batch.movement(at, body)
            elif type(body) is Document:
                batch.documents.append(
                    (
                        body.doc,
                        body.type,
                        body.location,
                        event.origin,
                        event.seq,
                        event.hlc,
                        _document_encoder.encode(body),
                    )
                )
            elif type(body) is Count:
                batch.count(at, body)
            elif type(body) is Upsert:
                registers.upsert(self.conn, body, event)
        batch.write()


_fold_order = operator.attrgetter("hlc", "origin", "seq")


# ---- stock and cost journals ------------------------------------------------------------

StockKey = tuple[str, str, str]  # location, sku, lot ('' for none)
CostKey = tuple[str, str]  # location, sku
_BEFORE = "(hlc, origin, seq) < (?, ?, ?)"
_FROM = "(hlc, origin, seq) >= (?, ?, ?)"
_AT = "hlc = ? AND origin = ? AND seq = ?"
_STOCK_KEY = "location = ? AND sku = ? AND lot = ?"
_COST_KEY = "location = ? AND sku = ?"
_NEWEST_FIRST = "ORDER BY hlc DESC, origin DESC, seq DESC LIMIT 1"
_OLDEST_FIRST = "ORDER BY hlc, origin, seq"
#: a tail not looked up yet (None means: the key has no journal rows)
_UNKNOWN: object = object()


class _Batch:
    """The stock and cost rows a set of events adds, gathered per key, then folded.

    Per key, new rows that all come after the journal's last row (the common case) are
    folded in memory from that last row and inserted with executemany; otherwise they are
    inserted at their places and the key's journal is re-folded from the earliest of them.
    A count's variance is known only after its stock key is folded, so stock goes first;
    counts whose variance changed mark their cost rows for re-folding.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        stock_tails: dict[StockKey, tuple[Position, int]],
        cost_tails: dict[CostKey, tuple[Position, CostState]],
    ) -> None:
        self.conn = conn
        self.stock_tails = stock_tails
        self.cost_tails = cost_tails
        self.stock: dict[StockKey, list[tuple[Position, int | None, int | None]]] = {}
        self.cost: dict[CostKey, list[list]] = {}
        self.virtual: dict[StockKey, int] = {}
        self.lots: dict[tuple[str, str], tuple[str, Position]] = {}
        self.documents: list[tuple] = []
        self.doc_moves: list[tuple] = []
        self.variances: dict[tuple[StockKey, Position], int] = {}
        self.changed_counts: dict[CostKey, list[tuple[Position, int]]] = {}
        self.stock_appends: list[tuple] = []
        self.cost_appends: list[tuple] = []
        self.cost_states: list[tuple] = []

    def movement(self, at: Position, m: Movement) -> None:
        sku, lot = m.sku, m.lot
        if lot is not None and m.expiry is not None and (sku, lot) not in self.lots:
            self.lots[(sku, lot)] = (m.expiry, at)  # events come in fold order
        if m.doc is not None:
            self.doc_moves.append((m.doc, at[1], at[2], sku, lot, m.qty, m.src, m.dst))
        lot_key = lot or ""
        for location, qty in fold.movement_deltas_of(m):
            key = (location, sku, lot_key)
            if is_virtual(location):
                self.virtual[key] = self.virtual.get(key, 0) + qty
                continue
            rows = self.stock.get(key)
            if rows is None:
                rows = self.stock[key] = []
            rows.append((at, qty, None))
            cost_key = (location, sku)
            cost_rows = self.cost.get(cost_key)
            if cost_rows is None:
                cost_rows = self.cost[cost_key] = []
            cost_rows.append([at, qty, m.unit_cost if qty > 0 else None, m.doc, None])

    def count(self, at: Position, c: Count) -> None:
        key = (c.location, c.sku, c.lot or "")
        self.stock.setdefault(key, []).append((at, None, c.qty))
        # qty is the variance, known once the stock key is folded
        self.cost.setdefault((c.location, c.sku), []).append([at, None, None, c.doc, key])

    # -- writing ------------------------------------------------------------------------

    def write(self) -> None:
        conn = self.conn
        if self.documents:  # the first header of a document number stays
            conn.executemany(
                "INSERT OR IGNORE INTO documents(doc, type, location, origin, seq, hlc, "
                "body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                self.documents,
            )
        if self.lots:  # the expiry of the earliest movement (in fold order) that gives one
            conn.executemany(
                "INSERT INTO lots(sku, lot, expiry, expiry_hlc, expiry_origin, expiry_seq) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(sku, lot) DO UPDATE SET "
                "expiry = excluded.expiry, expiry_hlc = excluded.expiry_hlc, "
                "expiry_origin = excluded.expiry_origin, expiry_seq = excluded.expiry_seq "
                "WHERE lots.expiry IS NULL OR (excluded.expiry_hlc, excluded.expiry_origin, "
                "excluded.expiry_seq) < (lots.expiry_hlc, lots.expiry_origin, lots.expiry_seq)",
                [(sku, lot, expiry, *at) for (sku, lot), (expiry, at) in self.lots.items()],
            )
        if self.doc_moves:
            conn.executemany(
                "INSERT OR IGNORE INTO doc_movements(doc, origin, seq, sku, lot, qty, src, dst) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                self.doc_moves,
            )
        levels: list[tuple] = []
        negative: list[tuple] = []
        # Keys in primary-key order, rows within a key in fold order: the appended rows of
        # every key go in with one statement each, already sorted.
        for key in sorted(self.stock):
            rows = self.stock[key]
            final, count_shift = self._fold_stock(key, rows)
            levels.append((*key, final))
            if count_shift:
                self.virtual[(COUNT, key[1], key[2])] = (
                    self.virtual.get((COUNT, key[1], key[2]), 0) + count_shift
                )
            if final < 0:
                negative.append(("negative_stock", *key[:2], key[2] or None, final, *rows[-1][0]))
        conn.executemany(
            "INSERT INTO alerts(kind, location, sku, lot, qty, hlc, origin, seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            negative,
        )
        conn.executemany(
            "INSERT INTO stock(location, sku, lot, qty) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(location, sku, lot) DO UPDATE SET qty = excluded.qty",
            levels,
        )
        conn.executemany(
            "INSERT INTO stock(location, sku, lot, qty) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(location, sku, lot) DO UPDATE SET qty = qty + excluded.qty",
            [(*key, qty) for key, qty in self.virtual.items()],
        )
        for key in sorted(set(self.cost) | set(self.changed_counts)):
            self._fold_cost(key, self.cost.get(key, []), self.changed_counts.get(key, []))
        conn.executemany(
            "INSERT INTO stock_journal(location, sku, lot, hlc, origin, seq, delta, counted, "
            "variance, level_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.stock_appends,
        )
        conn.executemany(
            "INSERT INTO cost_journal(location, sku, hlc, origin, seq, qty, unit_cost, doc, "
            "cogs, qty_after, value_after, last_cost_after) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.cost_appends,
        )
        conn.executemany(
            "INSERT INTO cost(location, sku, qty, value, last_cost) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(location, sku) DO UPDATE SET qty = excluded.qty, "
            "value = excluded.value, last_cost = excluded.last_cost",
            self.cost_states,
        )

    def _fold_stock(
        self, key: StockKey, rows: list[tuple[Position, int | None, int | None]]
    ) -> tuple[int, int]:
        """Journal the new rows of one stock key; return its level and the change to @count."""
        conn = self.conn
        tail = self.stock_tails.get(key, _UNKNOWN)
        if tail is _UNKNOWN:
            row = conn.execute(
                f"SELECT hlc, origin, seq, level_after FROM stock_journal WHERE {_STOCK_KEY} "
                f"{_NEWEST_FIRST}",
                key,
            ).fetchone()
            tail = ((row[0], row[1], row[2]), row[3]) if row else None
        if tail is None or tail[0] < rows[0][0]:
            level, count_shift, inserts = (tail[1] if tail else 0), 0, []
            for at, delta, counted in rows:
                if counted is None:
                    level += delta
                    inserts.append((*key, *at, delta, None, None, level))
                else:
                    variance = fold.count_variance(counted, level)
                    self.variances[(key, at)] = variance
                    count_shift -= variance
                    level = counted
                    inserts.append((*key, *at, None, counted, variance, level))
            self.stock_appends += inserts
            self.stock_tails[key] = (rows[-1][0], level)
            return level, count_shift
        # Late rows: insert them at their places, then re-fold the key from the earliest.
        conn.executemany(
            "INSERT INTO stock_journal(location, sku, lot, hlc, origin, seq, delta, counted, "
            "variance, level_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)",
            [(*key, *at, delta, counted) for at, delta, counted in rows],
        )
        first = rows[0][0]
        before = conn.execute(
            f"SELECT level_after FROM stock_journal WHERE {_STOCK_KEY} AND {_BEFORE} "
            f"{_NEWEST_FIRST}",
            (*key, *first),
        ).fetchone()
        level = before[0] if before else 0
        new = {at for at, _, _ in rows}
        count_shift, updates = 0, []
        for hlc, origin, seq, delta, counted, old_variance, old_level in conn.execute(
            f"SELECT hlc, origin, seq, delta, counted, variance, level_after FROM stock_journal "
            f"WHERE {_STOCK_KEY} AND {_FROM} {_OLDEST_FIRST}",
            (*key, *first),
        ).fetchall():
            at = (hlc, origin, seq)
            variance = None
            if counted is None:
                level += delta
            else:
                variance = fold.count_variance(counted, level)
                level = counted
                if at in new:
                    self.variances[(key, at)] = variance
                    count_shift -= variance
                elif variance != old_variance:
                    count_shift -= variance - old_variance
                    self.changed_counts.setdefault((key[0], key[1]), []).append(
                        (at, variance - old_variance)
                    )
            if at in new or level != old_level or variance != old_variance:
                updates.append((level, variance, *key, *at))
        conn.executemany(
            f"UPDATE stock_journal SET level_after = ?, variance = ? WHERE {_STOCK_KEY} AND {_AT}",
            updates,
        )
        self.stock_tails[key] = (max(tail[0], rows[-1][0]), level)
        return level, count_shift

    def _fold_cost(
        self, key: CostKey, rows: list[list], changed: list[tuple[Position, int]]
    ) -> None:
        conn = self.conn
        for row in rows:
            if row[4] is not None:  # a count: its quantity is its variance
                row[1] = self.variances[(row[4], row[0])]
        tail = self.cost_tails.get(key, _UNKNOWN)
        if tail is _UNKNOWN:
            row = conn.execute(
                f"SELECT hlc, origin, seq, qty_after, value_after, last_cost_after "
                f"FROM cost_journal WHERE {_COST_KEY} {_NEWEST_FIRST}",
                key,
            ).fetchone()
            tail = ((row[0], row[1], row[2]), CostState(*row[3:])) if row else None
        if not changed and (tail is None or tail[0] < rows[0][0]):
            state = tail[1] if tail else CostState()
            inserts = []
            step = fold.cost_step
            for at, qty, unit_cost, doc, _ in rows:
                state, cogs = step(state, qty, unit_cost)
                inserts.append((*key, *at, qty, unit_cost, doc, cogs, *state))
            self.cost_appends += inserts
            self.cost_tails[key] = (rows[-1][0], state)
        else:
            conn.executemany(
                "INSERT INTO cost_journal(location, sku, hlc, origin, seq, qty, unit_cost, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*key, *at, qty, unit_cost, doc) for at, qty, unit_cost, doc, _ in rows],
            )
            conn.executemany(
                f"UPDATE cost_journal SET qty = qty + ? WHERE {_COST_KEY} AND {_AT}",
                [(shift, *key, *at) for at, shift in changed],
            )
            first = min([r[0] for r in rows] + [at for at, _ in changed])
            state = _refold_cost(conn, key, first)
            last = max([r[0] for r in rows] + ([tail[0]] if tail else []))
            self.cost_tails[key] = (last, state)
        self.cost_states.append((*key, *state))


def _refold_cost(conn: sqlite3.Connection, key: CostKey, first: Position) -> CostState:
    """Recompute the cost journal of one (location, sku) from `first` to its end."""
    prev = conn.execute(
        f"SELECT qty_after, value_after, last_cost_after FROM cost_journal "
        f"WHERE {_COST_KEY} AND {_BEFORE} {_NEWEST_FIRST}",
        (*key, *first),
    ).fetchone()
    state = CostState(*prev) if prev else CostState()
    updates = []
    for hlc, origin, seq, qty, unit_cost in conn.execute(
        f"SELECT hlc, origin, seq, qty, unit_cost FROM cost_journal "
        f"WHERE {_COST_KEY} AND {_FROM} {_OLDEST_FIRST}",
        (*key, *first),
    ).fetchall():
        state, cogs = fold.cost_step(state, qty, unit_cost)
        updates.append((cogs, *state, *key, hlc, origin, seq))
    conn.executemany(
        f"UPDATE cost_journal SET cogs = ?, qty_after = ?, value_after = ?, "
        f"last_cost_after = ? WHERE {_COST_KEY} AND {_AT}",
        updates,
    )
    return state
