"""The ledger's tables, as versioned migrations: every replica (node or hub) has them.

Scripts are applied in order and never edited once released: a ledger file records how
many it has run (`schema_versions`), so a new script goes at the end.
"""

from __future__ import annotations

DERIVED_TABLES = """
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

MIGRATIONS = [
    """
    CREATE TABLE events(
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hlc INTEGER NOT NULL,
        kind TEXT NOT NULL,
        raw BLOB NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY(origin, seq)
    ) WITHOUT ROWID;
    CREATE TABLE heads(
        origin TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        hash BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE clock(id INTEGER PRIMARY KEY CHECK (id = 1), hlc INTEGER NOT NULL);
    INSERT INTO clock(id, hlc) VALUES (1, 0);
    CREATE TABLE held(
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        reason TEXT NOT NULL,
        since_ms INTEGER NOT NULL,
        PRIMARY KEY(origin, seq)
    ) WITHOUT ROWID;
    CREATE TABLE rejected(
        id INTEGER PRIMARY KEY,
        origin TEXT,
        seq INTEGER,
        reason TEXT NOT NULL,
        raw BLOB NOT NULL,
        at_hlc INTEGER NOT NULL
    );
    """
    + DERIVED_TABLES,
    """
    CREATE TABLE outbox(
        origin TEXT PRIMARY KEY,
        published_seq INTEGER NOT NULL DEFAULT 0,
        stream_seq INTEGER NOT NULL DEFAULT 0,
        last_ack_ms INTEGER,
        safe_seq INTEGER NOT NULL DEFAULT 0,
        last_safe_ms INTEGER
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE folded(origin TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO folded(origin, seq) SELECT origin, seq FROM heads;
    """,
    # which movement gave a lot its expiry: the earliest in fold order wins on every replica
    """
    ALTER TABLE lots ADD COLUMN expiry_hlc INTEGER;
    ALTER TABLE lots ADD COLUMN expiry_origin TEXT;
    ALTER TABLE lots ADD COLUMN expiry_seq INTEGER;
    """,
    # verified events still in the batch they arrived in (see EventLog.ingest_batch)
    """
    CREATE TABLE verified_batches(
        origin TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        last_hlc INTEGER NOT NULL,
        payload BLOB NOT NULL,
        PRIMARY KEY(origin, first_seq)
    ) WITHOUT ROWID;
    """,
    # documents keyed by their number alone: no rowid beside the key, one B-tree per insert
    """
    CREATE TABLE documents_by_number(
        doc TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        location TEXT NOT NULL,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hlc INTEGER NOT NULL,
        body BLOB NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO documents_by_number SELECT doc, type, location, origin, seq, hlc, body
        FROM documents;
    DROP TABLE documents;
    ALTER TABLE documents_by_number RENAME TO documents;
    """,
    # one journal row per stock change: its lot's level and its (location, sku)'s cost
    """
    CREATE TABLE journal(
        location TEXT NOT NULL,
        sku TEXT NOT NULL,
        hlc INTEGER NOT NULL,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        lot TEXT NOT NULL,
        delta INTEGER,
        counted INTEGER,
        variance INTEGER,
        level_after INTEGER NOT NULL,
        qty INTEGER NOT NULL,
        unit_cost INTEGER,
        doc TEXT,
        cogs INTEGER NOT NULL DEFAULT 0,
        qty_after INTEGER NOT NULL DEFAULT 0,
        value_after INTEGER NOT NULL DEFAULT 0,
        last_cost_after INTEGER,
        PRIMARY KEY(location, sku, hlc, origin, seq)
    ) WITHOUT ROWID;
    CREATE INDEX journal_lots ON journal(location, sku, lot, hlc, origin, seq)
        WHERE lot != '';
    INSERT INTO journal
        SELECT c.location, c.sku, c.hlc, c.origin, c.seq, s.lot, s.delta, s.counted,
            s.variance, s.level_after, c.qty, c.unit_cost, c.doc, c.cogs, c.qty_after,
            c.value_after, c.last_cost_after
        FROM cost_journal c JOIN stock_journal s ON s.location = c.location
            AND s.sku = c.sku AND s.hlc = c.hlc AND s.origin = c.origin AND s.seq = c.seq;
    DROP TABLE stock_journal;
    DROP TABLE cost_journal;
    """,
    # a document's own lines, folded with its header, inside its row (journals.py)
    """
    ALTER TABLE documents ADD COLUMN lines BLOB;
    """,
    # a count without a lot spreads over the lots (protocol.fold.whole_count): one event may
    # write several rows of one (location, sku), told apart by `part`; `whole` marks them
    """
    CREATE TABLE journal_parts(
        location TEXT NOT NULL,
        sku TEXT NOT NULL,
        hlc INTEGER NOT NULL,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        part INTEGER NOT NULL DEFAULT 0,
        lot TEXT NOT NULL,
        delta INTEGER,
        counted INTEGER,
        variance INTEGER,
        level_after INTEGER NOT NULL,
        qty INTEGER NOT NULL,
        unit_cost INTEGER,
        doc TEXT,
        cogs INTEGER NOT NULL DEFAULT 0,
        qty_after INTEGER NOT NULL DEFAULT 0,
        value_after INTEGER NOT NULL DEFAULT 0,
        last_cost_after INTEGER,
        whole INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY(location, sku, hlc, origin, seq, part)
    ) WITHOUT ROWID;
    INSERT INTO journal_parts(location, sku, hlc, origin, seq, part, lot, delta, counted,
            variance, level_after, qty, unit_cost, doc, cogs, qty_after, value_after,
            last_cost_after, whole)
        SELECT location, sku, hlc, origin, seq, 0, lot, delta, counted, variance,
            level_after, qty, unit_cost, doc, cogs, qty_after, value_after, last_cost_after,
            counted IS NOT NULL AND lot = ''
        FROM journal;
    DROP TABLE journal;
    ALTER TABLE journal_parts RENAME TO journal;
    CREATE INDEX journal_lots ON journal(location, sku, lot, hlc, origin, seq)
        WHERE lot != '';
    CREATE INDEX journal_whole ON journal(location, sku, hlc, origin, seq) WHERE whole = 1;
    """,
    # a till's shift is a stretch of its own log: its documents by (origin, seq)
    """
    CREATE INDEX documents_by_origin ON documents(origin, seq);
    """,
    # a till's open shift is its last shift_open without a Z report: found by type, not by
    # reading every sale the till wrote (one index for both: a document costs the fold one)
    """
    DROP INDEX documents_by_origin;
    CREATE INDEX documents_by_origin_type ON documents(origin, type, seq);
    """,
]
