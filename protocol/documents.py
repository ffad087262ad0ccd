"""Document status, derived from the movements that cite a document: never stored.

A purchase order is "partly received" because receipt movements for it exist, not because
someone set a flag; so every replica that holds the same movements agrees on the status,
and a late receipt changes it without anyone editing the order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Literal, NamedTuple

import msgspec

from protocol.events import SUPPLIER, TRANSIT, Document

Status = Literal[
    "ordered",
    "partly_received",
    "received",  # purchase orders
    "planned",
    "in_transit",
    "received_with_discrepancy",  # transfers (and "received")
    "completed",
    "posted",  # sales, receipts, counts
]


class DocMovement(NamedTuple):
    sku: str
    lot: str | None
    qty: int
    src: str
    dst: str


class LineStatus(msgspec.Struct, frozen=True):
    sku: str
    expected: int
    done: int
    shipped: int = 0

    @property
    def discrepancy(self) -> int:
        """Received minus shipped (transfers) or received minus ordered (orders)."""
        return self.done - (self.shipped or self.expected)


class DocumentStatus(msgspec.Struct, frozen=True):
    doc: str
    type: str
    status: Status
    lines: list[LineStatus]


def _sum_by_sku(movements: Iterable[DocMovement], src: str | None, dst: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for m in movements:
        if m.dst == dst and (src is None or m.src == src):
            totals[m.sku] += m.qty
    return totals


def document_status(header: Document, movements: list[DocMovement]) -> DocumentStatus:
    ordered: dict[str, int] = defaultdict(int)
    for line in header.lines:
        ordered[line.sku] += line.qty
    match header.type:
        case "purchase_order":
            received = _sum_by_sku(movements, SUPPLIER, header.location)
            skus = sorted(set(ordered) | set(received))
            lines = [LineStatus(s, ordered.get(s, 0), received.get(s, 0)) for s in skus]
            if not any(received.values()):
                status: Status = "ordered"
            elif all(received.get(s, 0) >= q for s, q in ordered.items()):
                status = "received"
            else:
                status = "partly_received"
        case "transfer":
            shipped = _sum_by_sku(movements, header.location, TRANSIT)
            if not shipped:  # the receiving store sees the shipment only through the hub
                for line in header.shipped:
                    shipped[line.sku] += line.qty
            received = _sum_by_sku(movements, TRANSIT, header.counterparty or "")
            skus = sorted(set(ordered) | set(shipped) | set(received))
            lines = [
                LineStatus(s, ordered.get(s, 0), received.get(s, 0), shipped.get(s, 0))
                for s in skus
            ]
            if not any(shipped.values()):
                status = "planned"
            elif not any(received.values()):
                status = "in_transit"
            elif all(shipped.get(s, 0) == received.get(s, 0) for s in skus):
                status = "received"
            else:
                status = "received_with_discrepancy"
        case "count":
            lines, status = [], "posted"
        case _:
            lines, status = [], "completed"
    return DocumentStatus(header.doc, header.type, status, lines)
