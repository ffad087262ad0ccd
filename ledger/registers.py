"""Master data: per-field last-writer-wins registers, and the tables built from them.

A field's value is the one with the greatest (hlc, origin): every replica picks the same
whatever order the upserts arrive in. The tables the node and hub read (products,
barcodes, price overrides, the master index the hub lists) are refreshed from the
registers of the record an upsert touched, so they too are the same everywhere.
"""

from __future__ import annotations

import json
import sqlite3

from protocol import masterdata
from protocol.events import Event, Upsert

PRODUCT_FIELDS = ("name", "barcode", "unit", "price", "category", "active")


def upsert(conn: sqlite3.Connection, change: Upsert, event: Event) -> None:
    for name, value in change.fields.items():
        conn.execute(
            "INSERT INTO registers(entity, key, field, value, hlc, origin) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(entity, key, field) DO UPDATE SET "
            "value = excluded.value, hlc = excluded.hlc, origin = excluded.origin "
            "WHERE (excluded.hlc, excluded.origin) > (registers.hlc, registers.origin)",
            (change.entity, change.key, name, json.dumps(value), event.hlc, event.origin),
        )
    if change.entity == "product":
        _refresh_product(conn, change.key)
    elif change.entity == "barcode":
        _refresh_barcode(conn, change.key)
    elif change.entity == "price":
        _refresh_price(conn, change.key)
    elif change.entity in masterdata.RECORD_ENTITIES:
        _refresh_index(conn, change.entity, change.key)


def _fields(conn: sqlite3.Connection, entity: str, key: str) -> dict[str, object]:
    return {
        name: json.loads(value)
        for name, value in conn.execute(
            "SELECT field, value FROM registers WHERE entity = ? AND key = ?", (entity, key)
        )
    }


def _refresh_product(conn: sqlite3.Connection, sku: str) -> None:
    values = dict.fromkeys(PRODUCT_FIELDS)
    values.update({k: v for k, v in _fields(conn, "product", sku).items() if k in values})
    category = values["category"] if isinstance(values["category"], str) else None
    conn.execute(
        "INSERT INTO products(sku, name, barcode, unit, price, category, active) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(sku) DO UPDATE SET name = excluded.name, barcode = excluded.barcode, "
        "unit = excluded.unit, price = excluded.price, category = excluded.category, "
        "active = excluded.active",
        (
            sku,
            values["name"],
            values["barcode"],
            values["unit"],
            values["price"],
            category or None,
            values["active"] is not False,
        ),
    )
    _refresh_index(conn, "product", sku)


def _refresh_barcode(conn: sqlite3.Connection, code: str) -> None:
    """The product a barcode names: its `sku` register, if it holds one. The products
    it left and joined are re-indexed (a list search finds a product by its barcodes)."""
    before = conn.execute("SELECT sku FROM barcodes WHERE code = ?", (code,)).fetchone()
    sku = _fields(conn, "barcode", code).get("sku")
    if isinstance(sku, str) and sku:
        conn.execute(
            "INSERT INTO barcodes(code, sku, gtin14) VALUES (?, ?, ?) "
            "ON CONFLICT(code) DO UPDATE SET sku = excluded.sku",
            (code, sku, masterdata.gtin14(code)),
        )
    else:
        sku = None
        conn.execute("DELETE FROM barcodes WHERE code = ?", (code,))
    for touched in {before[0] if before else None, sku} - {None}:
        if conn.execute("SELECT 1 FROM products WHERE sku = ?", (touched,)).fetchone():
            _refresh_index(conn, "product", touched)


def _refresh_price(conn: sqlite3.Connection, key: str) -> None:
    """A store's override: a row while its `price` register holds an amount."""
    parts = masterdata.split_price_key(key)
    if parts is None:
        return
    price = _fields(conn, "price", key).get("price")
    if isinstance(price, int) and not isinstance(price, bool):
        conn.execute(
            "INSERT INTO prices(location, sku, price) VALUES (?, ?, ?) "
            "ON CONFLICT(location, sku) DO UPDATE SET price = excluded.price",
            (*parts, price),
        )
    else:
        conn.execute("DELETE FROM prices WHERE location = ? AND sku = ?", parts)


def _refresh_index(conn: sqlite3.Connection, entity: str, key: str) -> None:
    fields = _fields(conn, entity, key)
    name = fields.get("name")
    name = name if isinstance(name, str) else None
    codes: list[str] = []
    if entity == "product":
        codes = [
            code
            for (code,) in conn.execute(
                "SELECT code FROM barcodes WHERE sku = ? ORDER BY code", (key,)
            )
        ]
        legacy = fields.get("barcode")
        if isinstance(legacy, str) and legacy:
            codes.append(legacy)
    active, category, kind, group = masterdata.record_flags(fields)
    conn.execute(
        "INSERT INTO master_index(entity, key, name, active, category, kind, grp, search) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(entity, key) DO UPDATE SET name = excluded.name, "
        "active = excluded.active, category = excluded.category, kind = excluded.kind, "
        "grp = excluded.grp, search = excluded.search",
        (
            entity,
            key,
            name,
            active,
            category,
            kind,
            group,
            masterdata.search_text(key, name, codes),
        ),
    )
