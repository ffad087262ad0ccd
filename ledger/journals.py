"""Folding verified events into derived tables, incrementally.

The rules are the pure step functions of `protocol.fold`. Every stock change at a real
location is one row of `journal`, ordered per (location, sku) by (hlc, origin, seq), holding
two states after it: the level of its own lot (the stock key: location, sku, lot) and the
moving-average cost of the whole (location, sku) (the cost key). A movement side or a count
changes exactly one lot's level and one cost, so one row carries both.

Rows that land after a key's last row, the common case, are folded in memory from that row
and appended; rows that arrive late are put at their places and only that key is re-folded
from the earliest of them (a later count absorbs a stock shift as a changed variance; cost
re-folds to the end of the key's journal). Everything a call adds is folded once per key.

A count without a lot sets the product's total and is spread over its lots
(`protocol.fold.whole_count`), so it writes a row per lot it changes (`part` 0, 1, …;
`whole` = 1). Where the product has lots, such a count — or a late row before one — makes
its (location, sku) re-fold as a whole from the earliest new row (`_refold_whole`); counts
are rare, so this slower path costs little. Where it has none, the count is simply the
lot-less bucket's count and takes the fast paths.
"""

from __future__ import annotations

import json
import operator
import sqlite3

import msgspec

from ledger import registers
from ledger.quarantine import Quarantine
from ledger.sqlite import write_cache
from protocol import fold
from protocol.events import COUNT, Count, Document, Event, Movement, Upsert
from protocol.fold import CostState

_document_encoder = msgspec.msgpack.Encoder()
#: a document's own lines: [(origin, seq, sku, lot, qty, src, dst), ...]
_lines_encoder = msgspec.msgpack.Encoder()

#: Where an event falls in the fold order every replica shares: (hlc, origin, seq).
Position = tuple[int, str, int]

# Python's sqlite3 binds int, float and str directly, but sends every other parameter —
# None, bytes, bool — through its adapter protocol first: a registry miss, then two failed
# attribute lookups that each build an AttributeError (about 1,200 machine instructions a
# parameter; a journal row has four or five such, a document row two: a tenth of the fold).
# Registered adapters that return the same value are found at the first step. They change
# nothing that is stored: None is still NULL, bytes a blob, a bool its integer.
sqlite3.register_adapter(type(None), {}.get)  # {}.get(None) is None, in C
sqlite3.register_adapter(bytes, bytes)  # bytes(b) is b
sqlite3.register_adapter(bool, int)


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
        cache = write_cache(self.conn)
        batch = _Batch(
            self.conn, cache.setdefault("stock_tails", {}), cache.setdefault("cost_tails", {})
        )
        quarantine = Quarantine(self.conn)
        events = sorted(events, key=_fold_order)
        invalid = fold.invalid_reason
        movement, count, documents = batch.movement, batch.count, batch.documents
        encode = _document_encoder.encode
        for event in events:
            body = event.body
            if type(body) is Movement:
                # fold.invalid_reason's conditions for a movement, tested inline: nearly
                # every movement passes, and the reason is only wanted when one fails
                if (
                    body.qty > 0
                    and body.src != body.dst
                    and body.sku
                    and (body.unit_cost is None or body.unit_cost >= 0)
                ):
                    movement(event.hlc, event.origin, event.seq, body)
                    continue
            elif type(body) is Document:
                if body.doc not in documents:  # the first header of a number stays
                    documents[body.doc] = (
                        body.doc,
                        body.type,
                        body.location,
                        event.origin,
                        event.seq,
                        event.hlc,
                        encode(body),
                    )
                continue
            elif type(body) is Upsert:
                registers.upsert(self.conn, body, event)
                continue
            reason = invalid(event)
            if reason:
                quarantine.ignore(event.origin, event.seq, event.hlc, reason)
            elif type(body) is Movement:
                movement(event.hlc, event.origin, event.seq, body)
            elif type(body) is Count:
                count((event.hlc, event.origin, event.seq), body)
        batch.write()


_fold_order = operator.attrgetter("hlc", "origin", "seq")


# ---- the journal -------------------------------------------------------------------------

StockKey = tuple[str, str, str]  # location, sku, lot ('' for none)
CostKey = tuple[str, str]  # location, sku
_POS = "hlc, origin, seq"
_BEFORE = "(hlc, origin, seq) < (?, ?, ?)"
_FROM = "(hlc, origin, seq) >= (?, ?, ?)"
_AT = "location = ? AND sku = ? AND hlc = ? AND origin = ? AND seq = ? AND part = ?"
_NEWEST_FIRST = "ORDER BY hlc DESC, origin DESC, seq DESC, part DESC LIMIT 1"
_OLDEST_FIRST = "ORDER BY hlc, origin, seq, part"
_COLUMNS = (
    "location, sku, hlc, origin, seq, part, lot, delta, counted, variance, level_after, qty, "
    "unit_cost, doc, cogs, qty_after, value_after, last_cost_after, whole"
)
_INSERT_ROWS = f"INSERT INTO journal({_COLUMNS}) VALUES ({', '.join('?' * 19)})"
#: a movement's row: part, counted, variance and whole keep their defaults (0, NULL, NULL,
#: 0); fewer parameters, and two fewer NULLs to bind (see the adapters above)
_INSERT_MOVES = (
    "INSERT INTO journal(location, sku, hlc, origin, seq, lot, delta, level_after, qty, "
    "unit_cost, doc, cogs, qty_after, value_after, last_cost_after) "
    f"VALUES ({', '.join('?' * 15)})"
)
#: an issue's row: no unit cost (issues are valued at the average), one NULL fewer to bind
_INSERT_ISSUES = (
    "INSERT INTO journal(location, sku, hlc, origin, seq, lot, delta, level_after, qty, "
    "doc, cogs, qty_after, value_after, last_cost_after) "
    f"VALUES ({', '.join('?' * 14)})"
)
#: a tail not looked up yet (None means: the key has no journal rows)
_UNKNOWN: object = object()


def _lot_rows(lot: str) -> str:
    """The WHERE clause for one lot's rows: lotted rows through their partial index."""
    return "location = ? AND sku = ? AND lot = ?" + (" AND lot != ''" if lot else "")


class _Row(msgspec.Struct, gc=False):
    """One new journal row while it is folded: its stock fields, then its cost fields.

    A Struct: built by C code (a chunk makes one per stock change), and holding only
    numbers and strings, no reference cycle, so the cycle collector need not track it."""

    at: Position
    lot: str
    delta: int | None
    counted: int | None
    unit_cost: int | None
    doc: str | None
    variance: int | None = None
    level: int = 0
    #: a count without a lot: the product's total (its lot is decided when folded)
    whole: int = 0

    @property
    def qty(self) -> int:
        """The change to the (location, sku) quantity: a count's is its variance."""
        return self.delta if self.delta is not None else self.variance  # type: ignore[return-value]


class _Batch:
    """The journal rows a set of events adds, gathered per key, then folded.

    Levels first (a count's variance is known only once its lot's level before it is),
    then cost. Per key, rows that all come after its last row are folded in memory and
    appended with one statement for every key; late rows re-fold the key from the earliest.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        stock_tails: dict[StockKey, tuple[Position, int] | None],
        cost_tails: dict[CostKey, tuple[Position, CostState] | None],
    ) -> None:
        self.conn = conn
        self.stock_tails = stock_tails
        self.cost_tails = cost_tails
        self.by_lot: dict[StockKey, list[_Row]] = {}
        self.by_cost: dict[CostKey, list[_Row]] = {}
        self.virtual: dict[StockKey, int] = {}
        self.lots: dict[tuple[str, str], tuple[str, Position]] = {}
        self.documents: dict[str, tuple] = {}
        #: movements that cite a document: (doc, (origin, seq, sku, lot, qty, src, dst))
        self.cited: list[tuple[str, tuple]] = []
        #: per cost key, the earliest existing row whose qty (a count's variance) changed
        self.refold_from: dict[CostKey, Position] = {}
        #: rows appended after their keys' last rows: issues', receipts', and counts'
        self.issue_appends: list[tuple] = []
        self.appends: list[tuple] = []
        self.count_appends: list[tuple] = []
        self.cost_states: list[tuple] = []
        #: (location, sku) with a count without a lot in this batch / with a lotted row
        self.whole_keys: set[CostKey] = set()
        self.lotted: set[CostKey] = set()

    def movement(self, hlc: int, origin: str, seq: int, m: Movement) -> None:
        """Both sides of a movement (`fold.movement_deltas_of`): `src` loses, `dst` gains;
        a virtual side only sums, a real one gets a journal row."""
        at = (hlc, origin, seq)
        sku, lot, qty, src, dst, doc = m.sku, m.lot, m.qty, m.src, m.dst, m.doc
        if lot is not None and m.expiry is not None and (sku, lot) not in self.lots:
            self.lots[(sku, lot)] = (m.expiry, at)  # events come in fold order
        if doc is not None:
            self.cited.append((doc, (origin, seq, sku, lot, qty, src, dst)))
        lot_key = lot or ""
        virtual, by_lot, by_cost, add = self.virtual, self.by_lot, self.by_cost, _add_row
        if src.startswith("@"):  # protocol.events.is_virtual
            key = (src, sku, lot_key)
            virtual[key] = virtual.get(key, 0) - qty
        else:
            if lot_key:
                self.lotted.add((src, sku))
            add(by_lot, by_cost, src, sku, lot_key, _Row(at, lot_key, -qty, None, None, doc))
        if dst.startswith("@"):
            key = (dst, sku, lot_key)
            virtual[key] = virtual.get(key, 0) + qty
        else:
            if lot_key:
                self.lotted.add((dst, sku))
            add(by_lot, by_cost, dst, sku, lot_key, _Row(at, lot_key, qty, None, m.unit_cost, doc))

    def count(self, at: Position, c: Count) -> None:
        row = _Row(at, c.lot or "", None, c.qty, None, c.doc)
        if c.lot is None:
            row.whole = 1
            self.whole_keys.add((c.location, c.sku))
        else:
            self.lotted.add((c.location, c.sku))
        self._add(c.location, c.sku, row)

    def _add(self, location: str, sku: str, row: _Row) -> None:
        _add_row(self.by_lot, self.by_cost, location, sku, row.lot, row)

    # -- writing ------------------------------------------------------------------------

    def write(self) -> None:
        conn = self.conn
        self._write_documents()
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
        levels: list[tuple] = []
        negative: list[tuple] = []
        for cost_key in self._whole_refolds():
            rows = self.by_cost.pop(cost_key)
            for row in rows:
                self.by_lot.pop((*cost_key, row.lot), None)
            self._refold_whole(cost_key, rows, levels, negative)
        for key in sorted(self.by_lot):
            rows = self.by_lot[key]
            final, count_shift = self._fold_levels(key, rows)
            levels.append((*key, final))
            if count_shift:
                at_count = (COUNT, key[1], key[2])
                self.virtual[at_count] = self.virtual.get(at_count, 0) + count_shift
            if final < 0:
                negative.append(("negative_stock", *key[:2], key[2] or None, final, *rows[-1].at))
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
        for key in sorted(set(self.by_cost) | set(self.refold_from)):
            self._fold_cost(key, self.by_cost.get(key, []))
        # Keys in primary-key order, rows within a key in fold order: every key's appended
        # rows go in with one statement, already sorted.
        conn.executemany(_INSERT_ISSUES, self.issue_appends)
        conn.executemany(_INSERT_MOVES, self.appends)
        conn.executemany(_INSERT_ROWS, self.count_appends)
        conn.executemany(
            "INSERT INTO cost(location, sku, qty, value, last_cost) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(location, sku) DO UPDATE SET qty = excluded.qty, "
            "value = excluded.value, last_cost = excluded.last_cost",
            self.cost_states,
        )

    def _write_documents(self) -> None:
        """Headers first folded here, each with the movements of this batch that cite it
        (its own lines, as a rule) inside its row; a movement citing a document stored
        earlier (a receipt against an order) gets a `doc_movements` row. Either way every
        folded movement that cites a document is kept exactly once."""
        conn = self.conn
        new = self.documents
        lines: dict[str, list[tuple]] = {}
        elsewhere = []
        for doc, line in self.cited:
            if doc in new:
                found = lines.get(doc)
                if found is None:
                    lines[doc] = [line]
                else:
                    found.append(line)
            else:
                elsewhere.append((doc, *line))
        if new:
            # The first header of a document number stays: a number stored already is left
            # as it is. Inserting and counting the rows written asks the documents' B-tree
            # once per header, not twice; only when a number was taken (rare) is it looked up.
            encode = _lines_encoder.encode
            written = conn.total_changes
            conn.executemany(
                "INSERT INTO documents(doc, type, location, origin, seq, hlc, body, lines) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(doc) DO NOTHING",
                [
                    row + ((encode(lines[doc]) if doc in lines else None),)  # noqa: RUF005 (faster)
                    for doc, row in new.items()
                ],
            )
            if conn.total_changes - written != len(new):
                for doc, origin, seq in conn.execute(
                    "SELECT doc, origin, seq FROM documents "
                    "WHERE doc IN (SELECT value FROM json_each(?))",
                    (json.dumps(list(new)),),
                ):
                    header = new[doc]
                    if (origin, seq) != (header[3], header[4]):  # stored before this batch
                        elsewhere += [(doc, *line) for line in lines.get(doc, ())]
        if elsewhere:
            conn.executemany(
                "INSERT OR IGNORE INTO doc_movements(doc, origin, seq, sku, lot, qty, src, dst) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                elsewhere,
            )

    # -- counts of a product's total over its lots ---------------------------------------

    def _whole_refolds(self) -> list[CostKey]:
        """The (location, sku) keys that have lots and either a new count without a lot or
        a late row before a stored one: they are re-folded whole."""
        conn, keys = self.conn, []
        for key in sorted(self.by_cost):
            if key not in self.whole_keys:
                tail = self._cost_tail(key)
                first = self.by_cost[key][0].at
                if tail is None or first > tail[0]:
                    continue
                if not conn.execute(
                    f"SELECT 1 FROM journal WHERE location = ? AND sku = ? AND whole = 1 "
                    f"AND {_FROM} LIMIT 1",
                    (*key, *first),
                ).fetchone():
                    continue
            if (
                key in self.lotted
                or conn.execute(
                    "SELECT 1 FROM stock WHERE location = ? AND sku = ? AND lot != '' LIMIT 1", key
                ).fetchone()
            ):
                keys.append(key)
        return keys

    def _refold_whole(
        self, key: CostKey, rows: list[_Row], levels_out: list[tuple], negative: list[tuple]
    ) -> None:
        """Re-fold every lot of one (location, sku) from its earliest new row: stored rows
        and new ones merged in fold order, counts without a lot spread by
        `fold.whole_count`; the rows from there on are written anew."""
        conn = self.conn
        location, sku = key
        first = rows[0].at
        levels: dict[str, int] = {}
        first_seen: dict[str, Position] = {}
        for (lot,) in conn.execute(
            "SELECT lot FROM stock WHERE location = ? AND sku = ?", key
        ).fetchall():
            before = conn.execute(
                f"SELECT level_after FROM journal WHERE {_lot_rows(lot)} AND {_BEFORE} "
                f"{_NEWEST_FIRST}",
                (*key, lot, *first),
            ).fetchone()
            oldest = conn.execute(
                f"SELECT {_POS} FROM journal WHERE {_lot_rows(lot)} AND {_BEFORE} "
                f"{_OLDEST_FIRST} LIMIT 1",
                (*key, lot, *first),
            ).fetchone()
            if before is not None:
                levels[lot] = before[0]
            if oldest is not None:
                first_seen[lot] = (oldest[0], oldest[1], oldest[2])
        prev = conn.execute(
            f"SELECT qty_after, value_after, last_cost_after FROM journal "
            f"WHERE location = ? AND sku = ? AND {_BEFORE} {_NEWEST_FIRST}",
            (*key, *first),
        ).fetchone()
        cost = CostState(*prev) if prev else CostState()
        stored = conn.execute(
            f"SELECT {_POS}, lot, delta, counted, unit_cost, doc, variance, whole FROM journal "
            f"WHERE location = ? AND sku = ? AND {_FROM} {_OLDEST_FIRST}",
            (*key, *first),
        ).fetchall()
        # one entry per event: (position, lot, delta, counted, unit_cost, doc, whole)
        entries: dict[Position, tuple] = {}
        old_variance: dict[str, int] = {}
        rewritten: set[str] = set()
        for hlc, origin, seq, lot, delta, counted, unit_cost, doc, variance, whole in stored:
            at = (hlc, origin, seq)
            rewritten.add(lot)
            if variance:
                old_variance[lot] = old_variance.get(lot, 0) + variance
            if at not in entries:
                entries[at] = (lot, delta, counted, unit_cost, doc, bool(whole))
        for row in rows:
            entries[row.at] = (row.lot, row.delta, row.counted, row.unit_cost, row.doc, row.whole)
        conn.execute(
            f"DELETE FROM journal WHERE location = ? AND sku = ? AND {_FROM}", (*key, *first)
        )
        out: list[tuple] = []
        new_variance: dict[str, int] = {}
        last_at: dict[str, Position] = {}
        for at in sorted(entries):
            lot, delta, counted, unit_cost, doc, whole = entries[at]
            if whole:
                known = {
                    (lt or None): level
                    for lt, level in levels.items()
                    if first_seen.get(lt, at) < at
                }
                seen = {(lt or None): first_seen[lt] for lt in levels if (lt or None) in known}
                parts = fold.whole_count(counted, fold.whole_count_members(known, seen))
            elif counted is not None:
                parts = [(lot or None, counted)]
            else:
                parts = []
            if parts:  # a count: one row per lot it sets, the first carrying the cost change
                changes = []
                for part_lot, level in parts:
                    name = part_lot or ""
                    variance = level - levels.get(name, 0)
                    levels[name] = level
                    last_at[name] = at
                    first_seen.setdefault(name, at)
                    new_variance[name] = new_variance.get(name, 0) + variance
                    changes.append((name, variance, level))
                net = sum(variance for _, variance, _ in changes)
                cost, cogs = fold.cost_step(cost, net, None)
                for part, (name, variance, level) in enumerate(changes):
                    out.append(
                        (
                            *key, *at, part, name, None, counted, variance, level,
                            net if part == 0 else 0, None, doc, cogs if part == 0 else 0,
                            *cost, int(whole),
                        )
                    )  # fmt: skip
            else:
                level = levels.get(lot, 0) + delta
                levels[lot] = level
                last_at[lot] = at
                first_seen.setdefault(lot, at)
                cost, cogs = fold.cost_step(cost, delta, unit_cost)
                out.append(
                    (
                        *key, *at, 0, lot, delta, None, None, level, delta, unit_cost, doc,
                        cogs, *cost, 0,
                    )
                )  # fmt: skip
        conn.executemany(_INSERT_ROWS, out)
        for lot in set(new_variance) | set(old_variance):
            shift = new_variance.get(lot, 0) - old_variance.get(lot, 0)
            if shift:
                at_count = (COUNT, sku, lot)
                self.virtual[at_count] = self.virtual.get(at_count, 0) - shift
        for lot, at in last_at.items():
            level = levels[lot]
            levels_out.append((location, sku, lot, level))
            self.stock_tails[(location, sku, lot)] = (at, level)
            if level < 0:
                negative.append(("negative_stock", location, sku, lot or None, level, *at))
        for lot in rewritten - set(last_at):  # its rows from `first` on are gone
            self.stock_tails.pop((location, sku, lot), None)
            if lot in levels:
                levels_out.append((location, sku, lot, levels[lot]))
            else:  # and it has none before: it was never there
                conn.execute(
                    "DELETE FROM stock WHERE location = ? AND sku = ? AND lot = ?",
                    (location, sku, lot),
                )
        self.cost_tails[key] = (max(entries), cost)
        self.cost_states.append((*key, *cost))

    def _fold_levels(self, key: StockKey, rows: list[_Row]) -> tuple[int, int]:
        """Give the new rows of one lot their levels (and a count its variance); re-level
        the lot's later rows when some arrived late. Returns the lot's level and the
        change to @count."""
        conn = self.conn
        lot = key[2]
        tail = self.stock_tails.get(key, _UNKNOWN)
        if tail is _UNKNOWN:
            row = conn.execute(
                f"SELECT {_POS}, level_after FROM journal WHERE {_lot_rows(lot)} {_NEWEST_FIRST}",
                key,
            ).fetchone()
            tail = ((row[0], row[1], row[2]), row[3]) if row else None
        if tail is not None and rows[0].at < tail[0]:  # type: ignore[index]
            return self._relevel_late(key, rows, tail)  # type: ignore[arg-type]
        level = tail[1] if tail else 0  # type: ignore[index]
        count_shift = 0
        for row in rows:
            if row.counted is None:  # the common case inline: `_level_new` without a call
                level += row.delta  # type: ignore[operator]
                row.level = level
            else:
                level, shift = _level_new(row, level)
                count_shift += shift
        self.stock_tails[key] = (rows[-1].at, level)
        return level, count_shift

    def _relevel_late(
        self, key: StockKey, rows: list[_Row], tail: tuple[Position, int]
    ) -> tuple[int, int]:
        """Some new rows come before the lot's last one: walk the lot's rows from the
        earliest new one, stored and new merged in fold order, and update the stored rows
        whose level or variance changed."""
        conn = self.conn
        location, sku, lot = key
        first = rows[0].at
        before = conn.execute(
            f"SELECT level_after FROM journal WHERE {_lot_rows(lot)} AND {_BEFORE} {_NEWEST_FIRST}",
            (*key, *first),
        ).fetchone()
        level = before[0] if before else 0
        stored = conn.execute(
            f"SELECT {_POS}, delta, counted, variance, level_after, part FROM journal "
            f"WHERE {_lot_rows(lot)} AND {_FROM} {_OLDEST_FIRST}",
            (*key, *first),
        ).fetchall()
        merged: list[tuple[Position, _Row | None, tuple | None]] = [(r.at, r, None) for r in rows]
        merged += [((s[0], s[1], s[2]), None, s) for s in stored]
        merged.sort(key=lambda item: item[0])
        count_shift, updates = 0, []
        for at, new, old in merged:
            if new is not None:
                level, shift = _level_new(new, level)
                count_shift += shift
                continue
            _, _, _, delta, counted, old_variance, old_level, part = old  # type: ignore[misc]
            variance = None
            if counted is None:
                level += delta
            else:
                variance = fold.count_variance(counted, level)
                level = counted
                if variance != old_variance:
                    count_shift -= variance - old_variance
                    cost_key = (location, sku)
                    if cost_key not in self.refold_from or at < self.refold_from[cost_key]:
                        self.refold_from[cost_key] = at
            if level != old_level or variance != old_variance:
                # a count's qty in the cost columns is its variance
                updates.append((level, variance, variance, location, sku, *at, part))
        conn.executemany(
            f"UPDATE journal SET level_after = ?, variance = ?, qty = coalesce(?, qty) WHERE {_AT}",
            updates,
        )
        self.stock_tails[key] = (max(tail[0], rows[-1].at), level)
        return level, count_shift

    def _cost_tail(self, key: CostKey) -> tuple[Position, CostState] | None:
        tail = self.cost_tails.get(key, _UNKNOWN)
        if tail is _UNKNOWN:
            found = self.conn.execute(
                f"SELECT {_POS}, qty_after, value_after, last_cost_after FROM journal "
                f"WHERE location = ? AND sku = ? {_NEWEST_FIRST}",
                key,
            ).fetchone()
            tail = ((found[0], found[1], found[2]), CostState(*found[3:])) if found else None
            self.cost_tails[key] = tail  # type: ignore[assignment]
        return tail  # type: ignore[return-value]

    def _fold_cost(self, key: CostKey, rows: list[_Row]) -> None:
        """Cost the new rows of one (location, sku) and append them; when some arrived late
        or an earlier count's variance changed, insert them and re-fold from there."""
        conn = self.conn
        tail = self._cost_tail(key)
        changed = self.refold_from.get(key)
        if changed is None and (tail is None or tail[0] < rows[0].at):  # type: ignore[index]
            state = tail[1] if tail else CostState()  # type: ignore[index]
            step, append = fold.cost_step, self.appends.append
            issue = self.issue_appends.append
            location, sku = key
            for row in rows:
                at, delta, unit_cost = row.at, row.delta, row.unit_cost
                # spelled out: a tuple display with * unpacking builds a list first
                if unit_cost is None and delta is not None and delta < 0:  # an issue
                    state, cogs = step(state, delta, None)
                    issue(
                        (
                            location, sku, at[0], at[1], at[2], row.lot, delta, row.level,
                            delta, row.doc, cogs, state[0], state[1], state[2],
                        )
                    )  # fmt: skip
                    continue
                if delta is not None:  # a receipt
                    state, cogs = step(state, delta, unit_cost)
                    append(
                        (
                            location, sku, at[0], at[1], at[2], row.lot, delta, row.level,
                            delta, unit_cost, row.doc, cogs, state[0], state[1], state[2],
                        )
                    )  # fmt: skip
                    continue
                qty = row.variance  # a count's change is its variance (`_Row.qty`)
                state, cogs = step(state, qty, unit_cost)  # type: ignore[arg-type]
                self.count_appends.append(
                    (
                        location, sku, at[0], at[1], at[2], 0, row.lot, delta, row.counted,
                        row.variance, row.level, qty, unit_cost, row.doc, cogs,
                        state[0], state[1], state[2], row.whole,
                    )
                )  # fmt: skip
            self.cost_tails[key] = (rows[-1].at, state)
        else:
            conn.executemany(
                "INSERT INTO journal(location, sku, hlc, origin, seq, part, lot, delta, "
                "counted, variance, level_after, qty, unit_cost, doc, whole) "
                "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        *key,
                        *r.at,
                        r.lot,
                        r.delta,
                        r.counted,
                        r.variance,
                        r.level,
                        r.qty,
                        r.unit_cost,
                        r.doc,
                        r.whole,
                    )
                    for r in rows
                ],
            )
            first = min([r.at for r in rows] + ([changed] if changed else []))
            state = _refold_cost(conn, key, first)
            last = max([r.at for r in rows] + ([tail[0]] if tail else []))  # type: ignore[index]
            self.cost_tails[key] = (last, state)
        self.cost_states.append((*key, *state))


def _add_row(
    by_lot: dict[StockKey, list[_Row]],
    by_cost: dict[CostKey, list[_Row]],
    location: str,
    sku: str,
    lot: str,
    row: _Row,
) -> None:
    """File a new row under its stock key and its cost key."""
    rows = by_lot.get((location, sku, lot))
    if rows is None:
        by_lot[(location, sku, lot)] = [row]
    else:
        rows.append(row)
    rows = by_cost.get((location, sku))
    if rows is None:
        by_cost[(location, sku)] = [row]
    else:
        rows.append(row)


def _level_new(row: _Row, level: int) -> tuple[int, int]:
    """A new row's level after `level`; a count also gets its variance. Returns the level
    and the change it makes to @count."""
    if row.counted is None:
        row.level = level + row.delta  # type: ignore[operator]
        return row.level, 0
    row.variance = fold.count_variance(row.counted, level)
    row.level = row.counted
    return row.level, -row.variance


def _refold_cost(conn: sqlite3.Connection, key: CostKey, first: Position) -> CostState:
    """Recompute the cost columns of one (location, sku) from `first` to its end."""
    prev = conn.execute(
        f"SELECT qty_after, value_after, last_cost_after FROM journal "
        f"WHERE location = ? AND sku = ? AND {_BEFORE} {_NEWEST_FIRST}",
        (*key, *first),
    ).fetchone()
    state = CostState(*prev) if prev else CostState()
    updates = []
    for hlc, origin, seq, part, qty, unit_cost in conn.execute(
        f"SELECT {_POS}, part, qty, unit_cost FROM journal "
        f"WHERE location = ? AND sku = ? AND {_FROM} {_OLDEST_FIRST}",
        (*key, *first),
    ).fetchall():
        state, cogs = fold.cost_step(state, qty, unit_cost)
        updates.append((cogs, *state, *key, hlc, origin, seq, part))
    conn.executemany(
        f"UPDATE journal SET cogs = ?, qty_after = ?, value_after = ?, last_cost_after = ? "
        f"WHERE {_AT}",
        updates,
    )
    return state
