"""What online orders ask of a replica's folded state: the stock and store records routing
weighs, the orders at a store, and the documents citing an order (its picks, shorts,
sales and cancel). Read only; the hub and the node call it, never SQL of their own."""

from __future__ import annotations

import json
import sqlite3

from ledger.readmodel import ReadModel
from protocol.events import Document
from protocol.orders import CITING_TYPES, Candidate


class OrdersRead:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.read = ReadModel(conn)

    def candidates(self, skus: list[str]) -> list[Candidate]:
        """Every real location holding stock or having a store record, with what it holds
        of `skus` (all lots) and its record's kind and active flag (a location without a
        record is an active store: head office may not have described it yet)."""
        held: dict[str, dict[str, int]] = {}
        if skus:
            marks = ", ".join("?" * len(skus))
            for location, sku, qty in self.conn.execute(
                f"SELECT location, sku, sum(qty) FROM stock WHERE sku IN ({marks}) "
                "AND location NOT LIKE '@%' GROUP BY location, sku",
                skus,
            ):
                held.setdefault(location, {})[sku] = int(qty)
        records: dict[str, dict[str, object]] = {}
        for key, field, value in self.conn.execute(
            "SELECT key, field, value FROM registers WHERE entity = 'store'"
        ):
            records.setdefault(key, {})[field] = None if value is None else json.loads(value)
        out = []
        for location in sorted(set(held) | set(records)):
            record = records.get(location, {})
            kind = record.get("kind")
            out.append(
                Candidate(
                    location=location,
                    held=held.get(location, {}),
                    kind=kind if isinstance(kind, str) else "store",
                    active=record.get("active") is not False,
                )
            )
        return out

    def order(self, doc: str) -> Document | None:
        header = self.read.document_header(doc)
        return header if header is not None and header.type == "online_order" else None

    def citing(self, doc: str) -> list[Document]:
        """The picks, shorts, sales and cancels citing the order, in fold order."""
        return [r.header for r in self.read.documents_citing(doc, CITING_TYPES)]

    def orders_at(self, location: str) -> list[Document]:
        """The online orders routed to `location`, in fold order."""
        out = []
        for doc, _ in self.read.document_origins(("online_order",)):
            header = self.read.document_header(doc)
            if header is not None and header.location == location:
                out.append(header)
        return out
