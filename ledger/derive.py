"""Folding one verified event into the derived tables.

What an event *means* (which levels move, which register a field lands in) is decided by the
pure rules in `protocol.fold`; this module only reads and writes the rows those rules need.
"""

from __future__ import annotations

import json
import sqlite3

import msgspec

from protocol import fold
from protocol.allocation import LotLevel
from protocol.events import Count, Document, Event, Movement, Upsert, is_virtual

SCHEMA = """
    CREATE TABLE stock(
        location TEXT NOT NULL,
        sku TEXT NOT NULL,
        lot TEXT NOT NULL DEFAULT '',
        qty INTEGER NOT NULL,
        PRIMARY KEY(location, sku, lot)
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
        body TEXT NOT NULL
    );
    CREATE TABLE alerts(
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        location TEXT,
        sku TEXT,
        lot TEXT,
        qty INTEGER,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hlc INTEGER NOT NULL
    )
"""

PRODUCT_FIELDS = ("name", "barcode", "unit", "price")


class StockRow(msgspec.Struct, frozen=True):
    location: str
    sku: str
    lot: str | None
    qty: int


def apply(conn: sqlite3.Connection, event: Event) -> None:
    match event.body:
        case Movement() as m:
            if m.lot is not None:
                conn.execute(
                    "INSERT INTO lots(sku, lot, expiry) VALUES (?, ?, ?) "
                    "ON CONFLICT(sku, lot) DO UPDATE "
                    "SET expiry = coalesce(expiry, excluded.expiry)",
                    (m.sku, m.lot, m.expiry),
                )
            for delta in fold.movement_deltas(m):
                _add(conn, delta.location, delta.sku, delta.lot, delta.qty, event)
        case Count() as c:
            level = _level(conn, c.location, c.sku, c.lot)
            for delta in fold.count_deltas(c, level):
                _add(conn, delta.location, delta.sku, delta.lot, delta.qty, event)
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
                    msgspec.json.encode(d).decode(),
                ),
            )


def _level(conn: sqlite3.Connection, location: str, sku: str, lot: str | None) -> int:
    row = conn.execute(
        "SELECT qty FROM stock WHERE location = ? AND sku = ? AND lot = ?",
        (location, sku, lot or ""),
    ).fetchone()
    return row[0] if row else 0


def _add(
    conn: sqlite3.Connection, location: str, sku: str, lot: str | None, qty: int, event: Event
) -> None:
    (level,) = conn.execute(
        "INSERT INTO stock(location, sku, lot, qty) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(location, sku, lot) DO UPDATE SET qty = qty + excluded.qty "
        "RETURNING qty",
        (location, sku, lot or "", qty),
    ).fetchone()
    if level < 0 and not is_virtual(location):
        conn.execute(
            "INSERT INTO alerts(kind, location, sku, lot, qty, origin, seq, hlc) "
            "VALUES ('negative_stock', ?, ?, ?, ?, ?, ?, ?)",
            (location, sku, lot, level, event.origin, event.seq, event.hlc),
        )


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
