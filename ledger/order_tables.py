"""The hub's own tables for online orders (callers' order ids, webhook deliveries): a
migration component of their own ("hub-orders") beside ledger/hub_tables.py.

Append only: a released script is never edited.
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

MIGRATIONS: list[str] = [
    # one row per order taken: the caller (token name) and its id make the idempotency key;
    # `canonical` is the checked body compared when the id comes again, `answer` the JSON
    # answered the first time, `short` the routing's JSON {sku: milli-units lacking}
    """
    CREATE TABLE online_orders(
        caller TEXT NOT NULL,
        order_id TEXT NOT NULL,
        doc TEXT NOT NULL UNIQUE,
        store TEXT NOT NULL,
        canonical TEXT NOT NULL,
        answer TEXT NOT NULL,
        short TEXT NOT NULL,
        webhook_url TEXT,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY(caller, order_id)
    ) WITHOUT ROWID;
    CREATE INDEX online_orders_by_id ON online_orders(order_id);
    CREATE TABLE webhook_state(
        doc TEXT PRIMARY KEY,
        delivered TEXT,
        pending TEXT,
        tries INTEGER NOT NULL DEFAULT 0,
        next_ms INTEGER NOT NULL DEFAULT 0,
        first_ms INTEGER
    ) WITHOUT ROWID;
    CREATE TABLE webhook_attempts(
        id INTEGER PRIMARY KEY,
        doc TEXT NOT NULL,
        status TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        http_status INTEGER,
        error TEXT
    );
    CREATE INDEX webhook_attempts_by_doc ON webhook_attempts(doc, id);
    """,
    # the caller's secret for the webhook's HMAC signature (never answered back)
    "ALTER TABLE online_orders ADD COLUMN webhook_secret TEXT",
]


class TakenOrder(NamedTuple):
    caller: str
    order_id: str
    doc: str
    store: str
    canonical: str
    answer: str
    short: str
    webhook_url: str | None
    created_ms: int


class Delivery(NamedTuple):
    """Where the webhook of one order stands: the status last delivered, the one being
    tried, how many tries it took so far, when to try next and when trying began."""

    doc: str
    delivered: str | None
    pending: str | None
    tries: int
    next_ms: int
    first_ms: int | None


class Attempt(NamedTuple):
    status: str
    at_ms: int
    http_status: int | None
    error: str | None


_COLUMNS = "caller, order_id, doc, store, canonical, answer, short, webhook_url, created_ms"


class OrderTables:
    """Reads and writes of the orders tables; callers hold the unit of work for writes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, order: TakenOrder) -> None:
        self.conn.execute(
            f"INSERT INTO online_orders({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", order
        )

    def taken(self, caller: str, order_id: str) -> TakenOrder | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM online_orders WHERE caller = ? AND order_id = ?",
            (caller, order_id),
        ).fetchone()
        return TakenOrder(*row) if row else None

    def find(self, caller: str, order_id: str) -> TakenOrder | None:
        """The caller's own order of this id, else the order whose document it is, else
        the first taken under this id by any caller (a viewer reading a shop's order)."""
        own = self.taken(caller, order_id)
        if own is not None:
            return own
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM online_orders WHERE doc = ? "
            "UNION ALL SELECT * FROM (SELECT "
            f"{_COLUMNS} FROM online_orders WHERE order_id = ? ORDER BY created_ms, doc LIMIT 1)",
            (order_id, order_id),
        ).fetchone()
        return TakenOrder(*row) if row else None

    def page(self, store: str | None, after: str | None, limit: int) -> list[TakenOrder]:
        """Orders by document id after the cursor `after`, of one store or all."""
        query = f"SELECT {_COLUMNS} FROM online_orders WHERE doc > ?"
        args: list[object] = [after or ""]
        if store is not None:
            query += " AND store = ?"
            args.append(store)
        query += " ORDER BY doc LIMIT ?"
        args.append(limit)
        return [TakenOrder(*row) for row in self.conn.execute(query, args)]

    def all_after(self, after: str | None) -> list[TakenOrder]:
        return self.page(None, after, 10**9)

    # ---- webhooks -------------------------------------------------------------------------

    def set_secret(self, doc: str, secret: str) -> None:
        self.conn.execute(
            "UPDATE online_orders SET webhook_secret = ? WHERE doc = ?", (secret, doc)
        )

    def with_webhook(self, since_ms: int = 0) -> list[tuple[TakenOrder, str | None]]:
        """The orders with a webhook URL taken since `since_ms`, oldest first, each with
        its signing secret."""
        return [
            (TakenOrder(*row[:-1]), row[-1])
            for row in self.conn.execute(
                f"SELECT {_COLUMNS}, webhook_secret FROM online_orders "
                "WHERE webhook_url IS NOT NULL AND created_ms >= ? ORDER BY created_ms, doc",
                (since_ms,),
            )
        ]

    def delivery(self, doc: str) -> Delivery:
        row = self.conn.execute(
            "SELECT doc, delivered, pending, tries, next_ms, first_ms FROM webhook_state "
            "WHERE doc = ?",
            (doc,),
        ).fetchone()
        return Delivery(*row) if row else Delivery(doc, None, None, 0, 0, None)

    def save_delivery(self, d: Delivery) -> None:
        self.conn.execute(
            "INSERT INTO webhook_state(doc, delivered, pending, tries, next_ms, first_ms) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(doc) DO UPDATE SET delivered = "
            "excluded.delivered, pending = excluded.pending, tries = excluded.tries, "
            "next_ms = excluded.next_ms, first_ms = excluded.first_ms",
            d,
        )

    def record_attempt(
        self, doc: str, status: str, at_ms: int, http_status: int | None, error: str | None
    ) -> None:
        self.conn.execute(
            "INSERT INTO webhook_attempts(doc, status, at_ms, http_status, error) "
            "VALUES (?, ?, ?, ?, ?)",
            (doc, status, at_ms, http_status, error),
        )

    def attempts(self, doc: str) -> list[Attempt]:
        return [
            Attempt(*row)
            for row in self.conn.execute(
                "SELECT status, at_ms, http_status, error FROM webhook_attempts WHERE doc = ? "
                "ORDER BY id",
                (doc,),
            )
        ]
