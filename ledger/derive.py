"""Folding verified events into derived tables, incrementally.

The rules are the pure step functions of `protocol.fold`; this module keeps, per real
location, a journal ordered by (hlc, origin, seq) so that an event arriving late is
inserted at its place and only what depends on it is re-folded:

* stock: rows after it up to the next count shift by its delta, and that count's variance
  absorbs the shift (a count is a reset, so nothing after it changes);
* cost: the (location, sku) cost journal is re-folded from its place to the end.

An event in order, the common case, touches one journal row per side and no others.
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
_AFTER = "(hlc, origin, seq) > (?, ?, ?)"
_BEFORE = "(hlc, origin, seq) < (?, ?, ?)"
_AT = "hlc = ? AND origin = ? AND seq = ?"
_STOCK_KEY = "location = ? AND sku = ? AND lot = ?"
_COST_KEY = "location = ? AND sku = ?"


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
    reason = fold.invalid_reason(event)
    if reason:
        conn.execute(
            "INSERT OR IGNORE INTO ignored(origin, seq, reason) VALUES (?, ?, ?)",
            (event.origin, event.seq, reason),
        )
        _alert(conn, "ignored_event", event, message=reason)
        return
    order = event.order_key
    match event.body:
        case Movement() as m:
            _apply_movement(conn, event, m, order)
        case Count() as c:
            _apply_count(conn, event, c, order)
        case Upsert() as u:
            _upsert(conn, u, event)
        case Document() as d:
            conn.execute(
                "INSERT OR IGNORE INTO documents(doc, type, location, origin, seq, hlc, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    d.doc,
                    d.type,
                    d.location,
                    event.origin,
                    event.seq,
                    event.hlc,
                    _document_encoder.encode(d),
                ),
            )


# ---- movements and counts -------------------------------------------------------------


def _apply_movement(conn: sqlite3.Connection, event: Event, m: Movement, order: Order) -> None:
    if m.lot is not None:
        conn.execute(
            "INSERT INTO lots(sku, lot, expiry) VALUES (?, ?, ?) "
            "ON CONFLICT(sku, lot) DO UPDATE SET expiry = coalesce(expiry, excluded.expiry)",
            (m.sku, m.lot, m.expiry),
        )
    if m.doc is not None:
        conn.execute(
            "INSERT OR IGNORE INTO doc_movements(doc, origin, seq, sku, lot, qty, src, dst) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (m.doc, event.origin, event.seq, m.sku, m.lot, m.qty, m.src, m.dst),
        )
    for delta in fold.movement_deltas(m):
        if is_virtual(delta.location):
            _add_level(conn, delta.location, m.sku, m.lot, delta.qty)
            continue
        key = (delta.location, m.sku, m.lot or "")
        before = _level_before(conn, key, order)
        conn.execute(
            "INSERT INTO stock_journal(location, sku, lot, hlc, origin, seq, delta, level_after) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*key, *order, delta.qty, before + delta.qty),
        )
        _propagate(conn, key, order, delta.qty)
        unit_cost = m.unit_cost if delta.qty > 0 else None
        _insert_cost_row(conn, delta.location, m.sku, order, delta.qty, unit_cost, m.doc)
        _refold_cost(conn, delta.location, m.sku, order)
        _alert_if_negative(conn, key, event)


def _apply_count(conn: sqlite3.Connection, event: Event, c: Count, order: Order) -> None:
    key = (c.location, c.sku, c.lot or "")
    variance = fold.count_variance(c.qty, _level_before(conn, key, order))
    conn.execute(
        "INSERT INTO stock_journal(location, sku, lot, hlc, origin, seq, counted, variance, "
        "level_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*key, *order, c.qty, variance, c.qty),
    )
    _add_level(conn, COUNT, c.sku, c.lot, -variance)
    _propagate(conn, key, order, variance)
    _insert_cost_row(conn, c.location, c.sku, order, variance, None, c.doc)
    _refold_cost(conn, c.location, c.sku, order)
    _alert_if_negative(conn, key, event)


def _level_before(conn: sqlite3.Connection, key: tuple[str, str, str], order: Order) -> int:
    row = conn.execute(
        f"SELECT level_after FROM stock_journal WHERE {_STOCK_KEY} AND {_BEFORE} "
        "ORDER BY hlc DESC, origin DESC, seq DESC LIMIT 1",
        (*key, *order),
    ).fetchone()
    return row[0] if row else 0


def _propagate(
    conn: sqlite3.Connection, key: tuple[str, str, str], order: Order, shift: int
) -> None:
    """Rows after `order` move by `shift` up to the next count, which absorbs it."""
    if shift == 0:
        return
    nxt = conn.execute(
        f"SELECT hlc, origin, seq FROM stock_journal WHERE {_STOCK_KEY} AND {_AFTER} "
        "AND counted IS NOT NULL ORDER BY hlc, origin, seq LIMIT 1",
        (*key, *order),
    ).fetchone()
    if nxt is None:
        conn.execute(
            f"UPDATE stock_journal SET level_after = level_after + ? "
            f"WHERE {_STOCK_KEY} AND {_AFTER}",
            (shift, *key, *order),
        )
        _add_level(conn, key[0], key[1], key[2] or None, shift)
        return
    conn.execute(
        f"UPDATE stock_journal SET level_after = level_after + ? "
        f"WHERE {_STOCK_KEY} AND {_AFTER} AND {_BEFORE}",
        (shift, *key, *order, *nxt),
    )
    conn.execute(
        f"UPDATE stock_journal SET variance = variance - ? WHERE {_STOCK_KEY} AND {_AT}",
        (shift, *key, *nxt),
    )
    _add_level(conn, COUNT, key[1], key[2] or None, shift)
    conn.execute(
        f"UPDATE cost_journal SET qty = qty - ? WHERE {_COST_KEY} AND {_AT}",
        (shift, key[0], key[1], *nxt),
    )


def _add_level(
    conn: sqlite3.Connection, location: str, sku: str, lot: str | None, qty: int
) -> None:
    conn.execute(
        "INSERT INTO stock(location, sku, lot, qty) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(location, sku, lot) DO UPDATE SET qty = qty + excluded.qty",
        (location, sku, lot or "", qty),
    )


def _alert_if_negative(conn: sqlite3.Connection, key: tuple[str, str, str], event: Event) -> None:
    row = conn.execute(f"SELECT qty FROM stock WHERE {_STOCK_KEY}", key).fetchone()
    if row and row[0] < 0:
        _alert(conn, "negative_stock", event, key, row[0])


def _alert(
    conn: sqlite3.Connection,
    kind: str,
    event: Event,
    key: tuple[str, str, str] | None = None,
    qty: int | None = None,
    message: str | None = None,
) -> None:
    location, sku, lot = key or (None, None, None)
    conn.execute(
        "INSERT INTO alerts(kind, location, sku, lot, qty, origin, seq, hlc, message) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (kind, location, sku, lot or None, qty, event.origin, event.seq, event.hlc, message),
    )


# ---- moving-average cost --------------------------------------------------------------


def _insert_cost_row(
    conn: sqlite3.Connection,
    location: str,
    sku: str,
    order: Order,
    qty: int,
    unit_cost: int | None,
    doc: str | None,
) -> None:
    conn.execute(
        "INSERT INTO cost_journal(location, sku, hlc, origin, seq, qty, unit_cost, doc) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (location, sku, *order, qty, unit_cost, doc),
    )


def _refold_cost(conn: sqlite3.Connection, location: str, sku: str, order: Order) -> None:
    """Recompute the cost journal of (location, sku) from `order` to its end."""
    prev = conn.execute(
        f"SELECT qty_after, value_after, last_cost_after FROM cost_journal "
        f"WHERE {_COST_KEY} AND {_BEFORE} ORDER BY hlc DESC, origin DESC, seq DESC LIMIT 1",
        (location, sku, *order),
    ).fetchone()
    state = CostState(*prev) if prev else CostState()
    rows = conn.execute(
        f"SELECT hlc, origin, seq, qty, unit_cost FROM cost_journal "
        f"WHERE {_COST_KEY} AND (hlc, origin, seq) >= (?, ?, ?) ORDER BY hlc, origin, seq",
        (location, sku, *order),
    ).fetchall()
    updates = []
    for hlc, origin, seq, qty, unit_cost in rows:
        state, cogs = fold.cost_step(state, qty, unit_cost)
        updates.append((cogs, *state, location, sku, hlc, origin, seq))
    conn.executemany(
        f"UPDATE cost_journal SET cogs = ?, qty_after = ?, value_after = ?, "
        f"last_cost_after = ? WHERE {_COST_KEY} AND {_AT}",
        updates,
    )
    conn.execute(
        "INSERT INTO cost(location, sku, qty, value, last_cost) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(location, sku) DO UPDATE SET qty = excluded.qty, value = excluded.value, "
        "last_cost = excluded.last_cost",
        (location, sku, *state),
    )


# ---- batches ------------------------------------------------------------------------------


class _Batch:
    """Folds events that land after everything already journaled for their keys in memory,
    and writes the results with executemany; anything else goes through `apply` one by one.

    The common case — a till's own sales, a store syncing in order — never reads a journal
    row per event, only the tail of each key once per batch.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.stock_tails: dict[tuple[str, str, str], tuple[Order, int]] = {}
        self.cost_tails: dict[tuple[str, str], tuple[Order, CostState]] = {}
        self.stock_rows: list[tuple] = []
        self.cost_rows: list[tuple] = []
        self.level_deltas: dict[tuple[str, str, str], int] = {}
        self.lots: list[tuple] = []
        self.doc_moves: list[tuple] = []
        self.alerts: list[tuple] = []

    def stock_tail(self, key: tuple[str, str, str]) -> tuple[Order, int]:
        tail = self.stock_tails.get(key)
        if tail is None:
            row = self.conn.execute(
                f"SELECT hlc, origin, seq, level_after FROM stock_journal WHERE {_STOCK_KEY} "
                "ORDER BY hlc DESC, origin DESC, seq DESC LIMIT 1",
                key,
            ).fetchone()
            tail = ((row[0], row[1], row[2]), row[3]) if row else ((-1, "", 0), 0)
            self.stock_tails[key] = tail
        return tail

    def cost_tail(self, key: tuple[str, str]) -> tuple[Order, CostState]:
        tail = self.cost_tails.get(key)
        if tail is None:
            row = self.conn.execute(
                f"SELECT hlc, origin, seq, qty_after, value_after, last_cost_after "
                f"FROM cost_journal WHERE {_COST_KEY} "
                "ORDER BY hlc DESC, origin DESC, seq DESC LIMIT 1",
                key,
            ).fetchone()
            tail = ((row[0], row[1], row[2]), CostState(*row[3:])) if row else (
                (-1, "", 0), CostState())
            self.cost_tails[key] = tail
        return tail

    def fits(self, event: Event) -> bool:
        """True when the event is after the journal tail of every key it touches."""
        order = event.order_key
        match event.body:
            case Movement() as m:
                sides = [loc for loc in (m.src, m.dst) if not is_virtual(loc)]
                return all(
                    self.stock_tail((loc, m.sku, m.lot or ""))[0] < order
                    and self.cost_tail((loc, m.sku))[0] < order
                    for loc in sides
                )
            case Count() as c:
                return (self.stock_tail((c.location, c.sku, c.lot or ""))[0] < order
                        and self.cost_tail((c.location, c.sku))[0] < order)
        return True

    def add(self, event: Event) -> None:
        order = event.order_key
        match event.body:
            case Movement() as m:
                if m.lot is not None:
                    self.lots.append((m.sku, m.lot, m.expiry))
                if m.doc is not None:
                    self.doc_moves.append((m.doc, event.origin, event.seq, m.sku, m.lot, m.qty,
                                           m.src, m.dst))
                for delta in fold.movement_deltas(m):
                    key = (delta.location, m.sku, m.lot or "")
                    self.level_deltas[key] = self.level_deltas.get(key, 0) + delta.qty
                    if is_virtual(delta.location):
                        continue
                    level = self.stock_tail(key)[1] + delta.qty
                    self.stock_tails[key] = (order, level)
                    self.stock_rows.append((*key, *order, delta.qty, None, None, level))
                    unit_cost = m.unit_cost if delta.qty > 0 else None
                    self._cost(delta.location, m.sku, order, delta.qty, unit_cost, m.doc)
                    if level < 0:
                        self.alerts.append(("negative_stock", *key[:2], key[2] or None, level,
                                            *order))
            case Count() as c:
                key = (c.location, c.sku, c.lot or "")
                variance = fold.count_variance(c.qty, self.stock_tail(key)[1])
                self.stock_tails[key] = (order, c.qty)
                self.stock_rows.append((*key, *order, None, c.qty, variance, c.qty))
                self.level_deltas[key] = self.level_deltas.get(key, 0) + variance
                count_key = (COUNT, c.sku, c.lot or "")
                self.level_deltas[count_key] = self.level_deltas.get(count_key, 0) - variance
                self._cost(c.location, c.sku, order, variance, None, c.doc)

    def _cost(self, location: str, sku: str, order: Order, qty: int, unit_cost: int | None,
              doc: str | None) -> None:
        state, cogs = fold.cost_step(self.cost_tail((location, sku))[1], qty, unit_cost)
        self.cost_tails[(location, sku)] = (order, state)
        self.cost_rows.append((location, sku, *order, qty, unit_cost, doc, cogs, *state))

    def flush(self) -> None:
        """Write what is buffered; afterwards the database is the truth again."""
        conn = self.conn
        if self.lots:
            conn.executemany(
                "INSERT INTO lots(sku, lot, expiry) VALUES (?, ?, ?) "
                "ON CONFLICT(sku, lot) DO UPDATE SET expiry = coalesce(expiry, excluded.expiry)",
                self.lots,
            )
        if self.doc_moves:
            conn.executemany(
                "INSERT OR IGNORE INTO doc_movements(doc, origin, seq, sku, lot, qty, src, dst) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                self.doc_moves,
            )
        if self.stock_rows:
            conn.executemany(
                "INSERT INTO stock_journal(location, sku, lot, hlc, origin, seq, delta, counted, "
                "variance, level_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self.stock_rows,
            )
        if self.cost_rows:
            conn.executemany(
                "INSERT INTO cost_journal(location, sku, hlc, origin, seq, qty, unit_cost, doc, "
                "cogs, qty_after, value_after, last_cost_after) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self.cost_rows,
            )
        if self.level_deltas:
            conn.executemany(
                "INSERT INTO stock(location, sku, lot, qty) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(location, sku, lot) DO UPDATE SET qty = qty + excluded.qty",
                [(*key, qty) for key, qty in self.level_deltas.items()],
            )
        costs = {key: state for key, (_, state) in self.cost_tails.items()}
        if self.cost_rows:
            touched = {(row[0], row[1]) for row in self.cost_rows}
            conn.executemany(
                "INSERT INTO cost(location, sku, qty, value, last_cost) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(location, sku) DO UPDATE SET qty = excluded.qty, "
                "value = excluded.value, last_cost = excluded.last_cost",
                [(*key, *costs[key]) for key in touched],
            )
        if self.alerts:
            conn.executemany(
                "INSERT INTO alerts(kind, location, sku, lot, qty, hlc, origin, seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                self.alerts,
            )
        self.stock_rows, self.cost_rows, self.lots, self.doc_moves, self.alerts = [], [], [], [], []
        self.level_deltas = {}

    def forget(self, event: Event) -> None:
        """Drop cached tails an event applied one by one may have changed."""
        match event.body:
            case Movement() as m:
                for loc in (m.src, m.dst):
                    self.stock_tails.pop((loc, m.sku, m.lot or ""), None)
                    self.cost_tails.pop((loc, m.sku), None)
            case Count() as c:
                self.stock_tails.pop((c.location, c.sku, c.lot or ""), None)
                self.cost_tails.pop((c.location, c.sku), None)


def apply_all(conn: sqlite3.Connection, events: list[Event]) -> None:
    """Fold many verified events: same result as `apply` on each in (hlc, origin, seq) order."""
    batch = _Batch(conn)
    for event in sorted(events, key=lambda e: e.order_key):
        if not isinstance(event.body, Movement | Count):
            apply(conn, event)  # master data and headers touch no stock or cost rows
        elif fold.invalid_reason(event) is None and batch.fits(event):
            batch.add(event)
        else:
            batch.flush()
            apply(conn, event)
            batch.forget(event)
    batch.flush()


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
    sql = "SELECT location, sku, lot, qty FROM stock WHERE 1=1"
    args: list = []
    if location is not None:
        sql += " AND location = ?"
        args.append(location)
    if sku is not None:
        sql += " AND sku = ?"
        args.append(sku)
    if not include_virtual:
        sql += " AND location NOT LIKE '@%'"
    sql += " ORDER BY location, sku, lot"
    return [StockRow(loc, s, lot or None, q) for loc, s, lot, q in conn.execute(sql, args)]


def cost(
    conn: sqlite3.Connection, location: str | None = None, sku: str | None = None
) -> list[CostRow]:
    sql = "SELECT location, sku, qty, value, last_cost FROM cost WHERE 1=1"
    args: list = []
    if location is not None:
        sql += " AND location = ?"
        args.append(location)
    if sku is not None:
        sql += " AND sku = ?"
        args.append(sku)
    return [CostRow(*row) for row in conn.execute(sql + " ORDER BY location, sku", args)]


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
