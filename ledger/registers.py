"""Master data: per-field last-writer-wins registers, and the product table built from them.

A field's value is the one with the greatest (hlc, origin): every replica picks the same
whatever order the upserts arrive in.
"""

from __future__ import annotations

import json
import sqlite3

from protocol.events import Event, Upsert

PRODUCT_FIELDS = ("name", "barcode", "unit", "price")


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
