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

import json
import sqlite3

import msgspec

from protocol import documents, fold
from protocol.allocation import LotLevel
from protocol.documents import DocMovement, DocumentStatus
from protocol.events import COUNT, Count, Document, Event, Movement, Upsert, is_virtual
from protocol.fold import CostState

SCHEMA = """
    CREATE TABLE stock(
        location TEXT NOT NULL,
        sku TEXT NOT NULL,
        lot TEXT NOT NULL DEFAULT '',
        qty INTEGER NOT NULL,
        PRIMARY KEY(location, sku, lot)
    ) WITHOUT ROWID;
    CREATE TABLE stock_journal(
        location TEXT NOT NULL,
        sku TEXT NOT NULL,
        lot TEXT NOT NULL,
        hlc INTEGER NOT NULL,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        delta INTEGER,
        counted INTEGER,
        variance INTEGER,
        level_after INTEGER NOT NULL,
        PRIMARY KEY(location, sku, lot, hlc, origin, seq)
    ) WITHOUT ROWID;
    CREATE TABLE cost_journal(
        location TEXT NOT NULL,
        sku TEXT NOT NULL,
        hlc INTEGER NOT NULL,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        qty INTEGER NOT NULL,
        unit_cost INTEGER,
        doc TEXT,
        cogs INTEGER NOT NULL DEFAULT 0,
        qty_after INTEGER NOT NULL DEFAULT 0,
        value_after INTEGER NOT NULL DEFAULT 0,
        last_cost_after INTEGER,
        PRIMARY KEY(location, sku, hlc, origin, seq)
    ) WITHOUT ROWID;
    CREATE TABLE cost(
        location TEXT NOT NULL,
        sku TEXT NOT NULL,
        qty INTEGER NOT NULL,
        value INTEGER NOT NULL,
        last_cost INTEGER,
        PRIMARY KEY(location, sku)
    ) WITHOUT ROWID;
    CREATE TABLE lots(
        sku TEXT NOT NULL,
        lot TEXT NOT NULL,
        expiry TEXT,
        PRIMARY KEY(sku, lot)
    ) WITHOUT ROWID;
    CREATE TABLE registers(
        entity TEXT NOT NULL,
        key TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT,
        hlc INTEGER NOT NULL,
        origin TEXT NOT NULL,
        PRIMARY KEY(entity, key, field)
    ) WITHOUT ROWID;
    CREATE TABLE products(
        sku TEXT PRIMARY KEY,
        name TEXT,
        barcode TEXT,
        unit TEXT,
        price INTEGER
    );
    CREATE INDEX products_barcode ON products(barcode);
    CREATE TABLE documents(
        doc TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        location TEXT NOT NULL,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hlc INTEGER NOT NULL,
        body BLOB NOT NULL
    );
    CREATE TABLE doc_movements(
        doc TEXT NOT NULL,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        sku TEXT NOT NULL,
        lot TEXT,
        qty INTEGER NOT NULL,
        src TEXT NOT NULL,
        dst TEXT NOT NULL,
        PRIMARY KEY(doc, origin, seq)
    ) WITHOUT ROWID;
    CREATE TABLE ignored(
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY(origin, seq)
    ) WITHOUT ROWID;
    CREATE TABLE alerts(
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        location TEXT,
        sku TEXT,
        lot TEXT,
        qty INTEGER,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hlc INTEGER NOT NULL,
        message TEXT
    )
"""

PRODUCT_FIELDS = ("name", "barcode", "unit", "price")
_document_encoder = msgspec.msgpack.Encoder()

Order = tuple[int, str, int]


class StockRow(msgspec.Struct, frozen=True):
    location: str
    sku: str
    lot: str | None
    qty: int


class CostRow(msgspec.Struct, frozen=True):
    location: str
    sku: str
    qty: int
    value: int
    last_cost: int | None


def apply(conn: sqlite3.Connection, event: Event) -> None:
    """Fold one verified event, wherever it falls in the order."""
    apply_all(conn, [event])


def apply_all(conn: sqlite3.Connection, events: list[Event]) -> None:
    """Fold verified events, wherever they fall in the order: the result is the reference
    fold of everything held. Work is per journal key, once per call."""
    batch = _Batch(conn)
    for event in sorted(events, key=lambda e: e.order_key):
        reason = fold.invalid_reason(event)
        if reason:
            conn.execute(
                "INSERT OR IGNORE INTO ignored(origin, seq, reason) VALUES (?, ?, ?)",
                (event.origin, event.seq, reason),
            )
            _alert(conn, "ignored_event", event.order_key, message=reason)
            continue
        match event.body:
            case Movement() as m:
                batch.movement(event.order_key, m)
            case Count() as c:
                batch.count(event.order_key, c)
            case Upsert() as u:
                _upsert(conn, u, event)
            case Document() as d:
                batch.documents.append(
                    (
                        d.doc,
                        d.type,
                        d.location,
                        event.origin,
                        event.seq,
                        event.hlc,
                        _document_encoder.encode(d),
                    )
                )
    batch.write()


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


class _Batch:
    """The stock and cost rows a set of events adds, gathered per key, then folded.

    Per key, new rows that all come after the journal's last row (the common case) are
    folded in memory from that last row and inserted with executemany; otherwise they are
    inserted at their places and the key's journal is re-folded from the earliest of them.
    A count's variance is known only after its stock key is folded, so stock goes first;
    counts whose variance changed mark their cost rows for re-folding.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.stock: dict[StockKey, list[tuple[Order, int | None, int | None]]] = {}
        self.cost: dict[CostKey, list[list]] = {}
        self.virtual: dict[StockKey, int] = {}
        self.lots: dict[tuple[str, str], tuple[str, Order]] = {}
        self.documents: list[tuple] = []
        self.doc_moves: list[tuple] = []
        self.variances: dict[tuple[StockKey, Order], int] = {}
        self.changed_counts: dict[CostKey, list[tuple[Order, int]]] = {}
        self.stock_appends: list[tuple] = []
        self.cost_appends: list[tuple] = []
        self.cost_states: list[tuple] = []

    def movement(self, order: Order, m: Movement) -> None:
        if m.lot is not None and m.expiry is not None and (m.sku, m.lot) not in self.lots:
            self.lots[(m.sku, m.lot)] = (m.expiry, order)  # events come in fold order
        if m.doc is not None:
            self.doc_moves.append((m.doc, order[1], order[2], m.sku, m.lot, m.qty, m.src, m.dst))
        for delta in fold.movement_deltas(m):
            key = (delta.location, m.sku, m.lot or "")
            if is_virtual(delta.location):
                self.virtual[key] = self.virtual.get(key, 0) + delta.qty
                continue
            self.stock.setdefault(key, []).append((order, delta.qty, None))
            unit_cost = m.unit_cost if delta.qty > 0 else None
            self.cost.setdefault((delta.location, m.sku), []).append(
                [order, delta.qty, unit_cost, m.doc, None]
            )

    def count(self, order: Order, c: Count) -> None:
        key = (c.location, c.sku, c.lot or "")
        self.stock.setdefault(key, []).append((order, None, c.qty))
        # qty is the variance, known once the stock key is folded
        self.cost.setdefault((c.location, c.sku), []).append([order, None, None, c.doc, key])

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
                [(sku, lot, expiry, *order) for (sku, lot), (expiry, order) in self.lots.items()],
            )
        if self.doc_moves:
            conn.executemany(
                "INSERT OR IGNORE INTO doc_movements(doc, origin, seq, sku, lot, qty, src, dst) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                self.doc_moves,
            )
        levels: list[tuple] = []
        for key, rows in self.stock.items():
            final, count_shift = self._fold_stock(key, rows)
            levels.append((*key, final))
            if count_shift:
                self.virtual[(COUNT, key[1], key[2])] = (
                    self.virtual.get((COUNT, key[1], key[2]), 0) + count_shift
                )
            if final < 0:
                _alert(conn, "negative_stock", rows[-1][0], key, final)
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
        for key in set(self.cost) | set(self.changed_counts):
            self._fold_cost(key, self.cost.get(key, []), self.changed_counts.get(key, []))
        # Appended rows of every key at once, in primary-key order: one statement each.
        conn.executemany(
            "INSERT INTO stock_journal(location, sku, lot, hlc, origin, seq, delta, counted, "
            "variance, level_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            sorted(self.stock_appends),
        )
        conn.executemany(
            "INSERT INTO cost_journal(location, sku, hlc, origin, seq, qty, unit_cost, doc, "
            "cogs, qty_after, value_after, last_cost_after) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            sorted(self.cost_appends, key=lambda row: row[:5]),
        )
        conn.executemany(
            "INSERT INTO cost(location, sku, qty, value, last_cost) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(location, sku) DO UPDATE SET qty = excluded.qty, "
            "value = excluded.value, last_cost = excluded.last_cost",
            self.cost_states,
        )

    def _fold_stock(
        self, key: StockKey, rows: list[tuple[Order, int | None, int | None]]
    ) -> tuple[int, int]:
        """Journal the new rows of one stock key; return its level and the change to @count."""
        conn = self.conn
        tail = conn.execute(
            f"SELECT hlc, origin, seq, level_after FROM stock_journal WHERE {_STOCK_KEY} "
            f"{_NEWEST_FIRST}",
            key,
        ).fetchone()
        if tail is None or (tail[0], tail[1], tail[2]) < rows[0][0]:
            level, count_shift, inserts = (tail[3] if tail else 0), 0, []
            for order, delta, counted in rows:
                if counted is None:
                    level += delta
                    inserts.append((*key, *order, delta, None, None, level))
                else:
                    variance = fold.count_variance(counted, level)
                    self.variances[(key, order)] = variance
                    count_shift -= variance
                    level = counted
                    inserts.append((*key, *order, None, counted, variance, level))
            self.stock_appends += inserts
            return level, count_shift
        # Late rows: insert them at their places, then re-fold the key from the earliest.
        conn.executemany(
            "INSERT INTO stock_journal(location, sku, lot, hlc, origin, seq, delta, counted, "
            "variance, level_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)",
            [(*key, *order, delta, counted) for order, delta, counted in rows],
        )
        first = rows[0][0]
        before = conn.execute(
            f"SELECT level_after FROM stock_journal WHERE {_STOCK_KEY} AND {_BEFORE} "
            f"{_NEWEST_FIRST}",
            (*key, *first),
        ).fetchone()
        level = before[0] if before else 0
        new = {order for order, _, _ in rows}
        count_shift, updates = 0, []
        for hlc, origin, seq, delta, counted, old_variance, old_level in conn.execute(
            f"SELECT hlc, origin, seq, delta, counted, variance, level_after FROM stock_journal "
            f"WHERE {_STOCK_KEY} AND {_FROM} {_OLDEST_FIRST}",
            (*key, *first),
        ).fetchall():
            order = (hlc, origin, seq)
            variance = None
            if counted is None:
                level += delta
            else:
                variance = fold.count_variance(counted, level)
                level = counted
                if order in new:
                    self.variances[(key, order)] = variance
                    count_shift -= variance
                elif variance != old_variance:
                    count_shift -= variance - old_variance
                    self.changed_counts.setdefault((key[0], key[1]), []).append(
                        (order, variance - old_variance)
                    )
            if order in new or level != old_level or variance != old_variance:
                updates.append((level, variance, *key, *order))
        conn.executemany(
            f"UPDATE stock_journal SET level_after = ?, variance = ? WHERE {_STOCK_KEY} AND {_AT}",
            updates,
        )
        return level, count_shift

    def _fold_cost(self, key: CostKey, rows: list[list], changed: list[tuple[Order, int]]) -> None:
        conn = self.conn
        for row in rows:
            if row[4] is not None:  # a count: its quantity is its variance
                row[1] = self.variances[(row[4], row[0])]
        tail = conn.execute(
            f"SELECT hlc, origin, seq, qty_after, value_after, last_cost_after FROM cost_journal "
            f"WHERE {_COST_KEY} {_NEWEST_FIRST}",
            key,
        ).fetchone()
        if not changed and (tail is None or (tail[0], tail[1], tail[2]) < rows[0][0]):
            state = CostState(*tail[3:]) if tail else CostState()
            inserts = []
            for order, qty, unit_cost, doc, _ in rows:
                state, cogs = fold.cost_step(state, qty, unit_cost)
                inserts.append((*key, *order, qty, unit_cost, doc, cogs, *state))
            self.cost_appends += inserts
        else:
            conn.executemany(
                "INSERT INTO cost_journal(location, sku, hlc, origin, seq, qty, unit_cost, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*key, *order, qty, unit_cost, doc) for order, qty, unit_cost, doc, _ in rows],
            )
            conn.executemany(
                f"UPDATE cost_journal SET qty = qty + ? WHERE {_COST_KEY} AND {_AT}",
                [(shift, *key, *order) for order, shift in changed],
            )
            first = min([r[0] for r in rows] + [order for order, _ in changed])
            state = _refold_cost(conn, key, first)
        self.cost_states.append((*key, *state))


def _refold_cost(conn: sqlite3.Connection, key: CostKey, first: Order) -> CostState:
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


def _alert(
    conn: sqlite3.Connection,
    kind: str,
    order: Order,
    key: StockKey | None = None,
    qty: int | None = None,
    message: str | None = None,
) -> None:
    location, sku, lot = key or (None, None, None)
    conn.execute(
        "INSERT INTO alerts(kind, location, sku, lot, qty, hlc, origin, seq, message) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, location, sku, lot or None, qty, *order, message),
    )


# ---- master data ------------------------------------------------------------------------


def _upsert(conn: sqlite3.Connection, upsert: Upsert, event: Event) -> None:
    for name, value in upsert.fields.items():
        conn.execute(
            "INSERT INTO registers(entity, key, field, value, hlc, origin) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(entity, key, field) DO UPDATE SET "
            "value = excluded.value, hlc = excluded.hlc, origin = excluded.origin "
            "WHERE (excluded.hlc, excluded.origin) > (registers.hlc, registers.origin)",
            (upsert.entity, upsert.key, name, json.dumps(value), event.hlc, event.origin),
        )
    if upsert.entity == "product":
        _refresh_product(conn, upsert.key)


def _refresh_product(conn: sqlite3.Connection, sku: str) -> None:
    values = dict.fromkeys(PRODUCT_FIELDS)
    for name, value in conn.execute(
        "SELECT field, value FROM registers WHERE entity = 'product' AND key = ?", (sku,)
    ):
        if name in values:
            values[name] = json.loads(value)
    conn.execute(
        "INSERT INTO products(sku, name, barcode, unit, price) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(sku) DO UPDATE SET name = excluded.name, barcode = excluded.barcode, "
        "unit = excluded.unit, price = excluded.price",
        (sku, values["name"], values["barcode"], values["unit"], values["price"]),
    )


# ---- reading ------------------------------------------------------------------------------


def lot_levels(conn: sqlite3.Connection, location: str, sku: str) -> list[LotLevel]:
    return [
        LotLevel(lot or None, expiry, qty)
        for lot, expiry, qty in conn.execute(
            "SELECT s.lot, l.expiry, s.qty FROM stock s "
            "LEFT JOIN lots l ON l.sku = s.sku AND l.lot = s.lot "
            "WHERE s.location = ? AND s.sku = ?",
            (location, sku),
        )
    ]


def stock(
    conn: sqlite3.Connection,
    location: str | None = None,
    sku: str | None = None,
    include_virtual: bool = False,
) -> list[StockRow]:
    where, args = _filters(location, sku)
    if not include_virtual:
        where += " AND location NOT LIKE '@%'"
    rows = conn.execute(
        f"SELECT location, sku, lot, qty FROM stock WHERE {where} ORDER BY location, sku, lot",
        args,
    )
    return [StockRow(loc, s, lot or None, q) for loc, s, lot, q in rows]


def _filters(location: str | None, sku: str | None) -> tuple[str, list[str]]:
    """A WHERE clause for the optional location and sku filters of the read queries."""
    where, args = "1=1", []
    for column, value in (("location", location), ("sku", sku)):
        if value is not None:
            where += f" AND {column} = ?"
            args.append(value)
    return where, args


def cost(
    conn: sqlite3.Connection, location: str | None = None, sku: str | None = None
) -> list[CostRow]:
    where, args = _filters(location, sku)
    rows = conn.execute(
        f"SELECT location, sku, qty, value, last_cost FROM cost WHERE {where} "
        "ORDER BY location, sku",
        args,
    )
    return [CostRow(*row) for row in rows]


def cogs(conn: sqlite3.Connection) -> dict[tuple[str, int, str], int]:
    """Cost of goods that left each real location, per event: (origin, seq, location)."""
    return {
        (origin, seq, location): value
        for origin, seq, location, value in conn.execute(
            "SELECT origin, seq, location, cogs FROM cost_journal WHERE qty < 0"
        )
    }


def variances(conn: sqlite3.Connection) -> dict[tuple[str, int], int]:
    return {
        (origin, seq): v
        for origin, seq, v in conn.execute(
            "SELECT origin, seq, variance FROM stock_journal WHERE counted IS NOT NULL"
        )
    }


_document_decoder = msgspec.msgpack.Decoder(Document)


def document_status(conn: sqlite3.Connection, doc: str) -> DocumentStatus | None:
    """The header and its derived status; movements may have arrived before the header."""
    row = conn.execute("SELECT body FROM documents WHERE doc = ?", (doc,)).fetchone()
    if row is None:
        return None
    movements = [
        DocMovement(sku, lot, qty, src, dst)
        for sku, lot, qty, src, dst in conn.execute(
            "SELECT sku, lot, qty, src, dst FROM doc_movements WHERE doc = ?", (doc,)
        )
    ]
    return documents.document_status(_document_decoder.decode(row[0]), movements)


def registers(conn: sqlite3.Connection) -> dict[tuple[str, str, str], tuple[int, str, object]]:
    return {
        (entity, key, name): (hlc, origin, json.loads(value))
        for entity, key, name, value, hlc, origin in conn.execute(
            "SELECT entity, key, field, value, hlc, origin FROM registers"
        )
    }
