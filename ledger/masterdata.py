"""The hub's questions about master data: records by key, lists in key order with
filters and search, the stores of a group, price overrides.

Lists page by key (keyset: the page after the last key shown), never by OFFSET, so a
record added between two pages is neither shown twice nor skipped before it. The tables
read here are derived from the registers (ledger/registers.py, ledger/schema_master.py).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from protocol import masterdata


@dataclass(frozen=True)
class RecordFilter:
    """What a list keeps: None means any."""

    active: bool | None = None
    category: str | None = None
    kind: str | None = None
    group: str | None = None
    #: searched in key, name, barcodes and pinyin of a Chinese name (protocol/masterdata)
    q: str | None = None


@dataclass(frozen=True)
class Override:
    location: str
    sku: str
    price: int


class MasterData:
    """Reads over one replica's master-data tables."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def exists(self, entity: str, key: str) -> bool:
        """Whether a record (product, supplier, customer, store) was ever written."""
        return (
            self.conn.execute(
                "SELECT 1 FROM master_index WHERE entity = ? AND key = ?", (entity, key)
            ).fetchone()
            is not None
        )

    def keys(self, entity: str, after: str | None, limit: int, where: RecordFilter) -> list[str]:
        """Up to `limit` keys of `entity` after `after`, in key order, that pass `where`."""
        query = "SELECT key FROM master_index WHERE entity = ?"
        args: list[object] = [entity]
        if after is not None:
            query += " AND key > ?"
            args.append(after)
        if where.active is not None:
            query += " AND active = ?"
            args.append(int(where.active))
        for column, value in (
            ("category", where.category),
            ("kind", where.kind),
            ("grp", where.group),
        ):
            if value is not None:
                query += f" AND {column} = ?"
                args.append(value)
        needle = masterdata.normalise(where.q or "")
        if needle:
            query += " AND instr(search, ?) > 0"
            args.append(needle)
        query += " ORDER BY key LIMIT ?"
        args.append(limit)
        return [key for (key,) in self.conn.execute(query, args)]

    def records(self, entity: str, keys: list[str]) -> dict[str, dict[str, object]]:
        """The current fields of each of these records (one query for a page)."""
        found: dict[str, dict[str, object]] = {key: {} for key in keys}
        for start in range(0, len(keys), 500):  # SQLite's bound on parameters
            chunk = keys[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for key, field, value in self.conn.execute(
                f"SELECT key, field, value FROM registers WHERE entity = ? AND key IN ({marks})",
                (entity, *chunk),
            ):
                found[key][field] = json.loads(value)
        return found

    def stores(self) -> list[masterdata.StoreRecord]:
        """Every store record, with its group and whether it is active."""
        return [
            masterdata.StoreRecord(key, grp, bool(active))
            for key, grp, active in self.conn.execute(
                "SELECT key, grp, active FROM master_index WHERE entity = 'store' ORDER BY key"
            )
        ]

    def barcode_owner(self, code: str) -> str | None:
        """The SKU a barcode names (its register's claim, else an old `barcode` field)."""
        row = self.conn.execute("SELECT sku FROM barcodes WHERE code = ?", (code,)).fetchone()
        if row is None:
            row = self.conn.execute(
                "SELECT sku FROM products WHERE barcode = ? ORDER BY sku LIMIT 1", (code,)
            ).fetchone()
        return row[0] if row else None

    def override(self, location: str, sku: str) -> int | None:
        row = self.conn.execute(
            "SELECT price FROM prices WHERE location = ? AND sku = ?", (location, sku)
        ).fetchone()
        return row[0] if row else None

    def overrides(
        self,
        after: tuple[str, str] | None,
        limit: int,
        location: str | None = None,
        sku: str | None = None,
    ) -> list[Override]:
        """Up to `limit` price overrides after `after` in (location, sku) order."""
        query = "SELECT location, sku, price FROM prices WHERE 1 = 1"
        args: list[object] = []
        if after is not None:
            query += " AND (location, sku) > (?, ?)"
            args.extend(after)
        for column, value in (("location", location), ("sku", sku)):
            if value is not None:
                query += f" AND {column} = ?"
                args.append(value)
        query += " ORDER BY location, sku LIMIT ?"
        args.append(limit)
        return [Override(*row) for row in self.conn.execute(query, args)]
