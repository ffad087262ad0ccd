"""Replica tables of the hub API's master area, as their own migration component
("ledger-master"), so that its scripts never interleave with another area's.

All of them are derived from the registers (ledger/registers.py keeps them current as
upserts fold), so every replica, node and hub, holds the same:

- products gain `category` and `active`;
- `barcodes`: which product each barcode names (`Upsert(entity="barcode")`), with the
  code as 14 digits when it is a GTIN, for scans in another length;
- `prices`: each store's price override (`Upsert(entity="price", key="<loc>/<sku>")`);
  an override set to None has no row;
- `master_index`: one row per product, supplier, customer and store record: what the
  hub's lists page through (by key), filter (active, category, kind, group) and search.

Append only: a released script is never edited (ledger/schema.py says why).
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    """
    ALTER TABLE products ADD COLUMN category TEXT;
    ALTER TABLE products ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE barcodes(
        code TEXT PRIMARY KEY,
        sku TEXT NOT NULL,
        gtin14 TEXT
    ) WITHOUT ROWID;
    CREATE INDEX barcodes_sku ON barcodes(sku);
    CREATE INDEX barcodes_gtin ON barcodes(gtin14);
    CREATE TABLE prices(
        location TEXT NOT NULL,
        sku TEXT NOT NULL,
        price INTEGER NOT NULL,
        PRIMARY KEY(location, sku)
    ) WITHOUT ROWID;
    CREATE INDEX prices_sku ON prices(sku);
    CREATE TABLE master_index(
        entity TEXT NOT NULL,
        key TEXT NOT NULL,
        name TEXT,
        active INTEGER NOT NULL,
        category TEXT,
        kind TEXT,
        grp TEXT,
        search TEXT NOT NULL,
        PRIMARY KEY(entity, key)
    ) WITHOUT ROWID;
    INSERT INTO master_index(entity, key, name, active, category, kind, grp, search)
        SELECT 'product', sku, name, 1, NULL, NULL, NULL,
               lower(sku || char(31) || replace(coalesce(name, ''), ' ', '')
                     || char(31) || coalesce(barcode, ''))
        FROM products;
    INSERT INTO master_index(entity, key, name, active, category, kind, grp, search)
        SELECT entity, key, max(CASE WHEN field = 'name' THEN json_extract(value, '$') END),
               coalesce(min(CASE WHEN field = 'active' THEN json_extract(value, '$') END), 1),
               NULL,
               max(CASE WHEN field = 'kind' THEN json_extract(value, '$') END),
               max(CASE WHEN field = 'group' THEN json_extract(value, '$') END),
               lower(key || char(31) || replace(coalesce(
                   max(CASE WHEN field = 'name' THEN json_extract(value, '$') END), ''), ' ', ''))
        FROM registers WHERE entity IN ('supplier', 'customer', 'store')
        GROUP BY entity, key;
    INSERT INTO prices(location, sku, price)
        SELECT substr(key, 1, instr(key, '/') - 1), substr(key, instr(key, '/') + 1),
               json_extract(value, '$')
        FROM registers
        WHERE entity = 'price' AND field = 'price' AND instr(key, '/') > 1
          AND json_type(value) = 'integer'
    """,
]
