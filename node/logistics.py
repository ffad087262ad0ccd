"""Documents that move stock between parties: transfers and purchase-order receipts.

A transfer is shipped by one store (its stock → @transit) and received by another
(@transit → its stock); the hub routes the header to the receiving store. A receipt
against a purchase order cites the order's document id, so the order's status at every
replica is derived from the receipts that exist, and whatever arrives differently from
what was shipped or ordered stays visible as a discrepancy.
"""

from __future__ import annotations

from collections.abc import Sequence

from node.errors import NodeError
from node.service import Node, wall_ms
from protocol.allocation import fefo
from protocol.documents import DocumentStatus
from protocol.events import SUPPLIER, TRANSIT, DocLine, Document, Event, Movement, valid_replica_id


def parse_lines(node: Node, items: Sequence[str]) -> list[tuple[str, int]]:
    """["A1=3", "RICE=1.250"] -> [("A1", 3000), ("RICE", 1250)], checked like the CLI's."""
    lines = []
    for item in items:
        sku, sep, qty = item.partition("=")
        if not sep or not sku:
            raise NodeError(f"{item!r}: write each line as SKU=QTY, e.g. A1=3")
        product = node.product(sku)
        lines.append((sku, node._quantity(qty, product, allow_zero=True)))
    return lines


def ship_transfer(node: Node, to: str, lines: Sequence[tuple[str, int]]) -> list[Event]:
    here = node.config.location
    if not valid_replica_id(to) or to == here:
        raise NodeError(f"cannot ship to {to!r}: give another store's location id")
    if not lines or any(qty <= 0 for _, qty in lines):
        raise NodeError("a transfer needs at least one line with a quantity above zero")

    def shipment(doc: str) -> list:
        bodies: list = [
            Document(
                doc=doc,
                type="transfer",
                location=here,
                counterparty=to,
                lines=[DocLine(sku=s, qty=q) for s, q in lines],
            )
        ]
        for sku, qty in lines:
            for lot, part in fefo(node.read.lot_levels(here, sku), qty):
                bodies.append(Movement(sku=sku, qty=part, src=here, dst=TRANSIT, lot=lot, doc=doc))
        return bodies

    return node.post(shipment)


def document(node: Node, doc: str) -> tuple[Document, DocumentStatus]:
    header = node.read.document_header(doc)
    status = node.read.document(doc)
    if header is None or status is None:
        raise NodeError(f"no document {doc!r} here yet: sync, or check the number")
    return header, status


def receive_transfer(
    node: Node, doc: str, lines: Sequence[tuple[str, int]] | None = None
) -> list[Event]:
    """Book what arrived; by default exactly what the transfer lists."""
    header, _ = document(node, doc)
    if header.type != "transfer" or header.counterparty != node.config.location:
        raise NodeError(f"{doc} is not a transfer to {node.config.location}")
    arrived = lines if lines is not None else [(line.sku, line.qty) for line in header.lines]
    return _book(node, doc, TRANSIT, arrived, {line.sku: None for line in header.lines})


def receive_purchase_order(
    node: Node, doc: str, lines: Sequence[tuple[str, int]] | None = None
) -> list[Event]:
    """Receive against an order; by default everything still outstanding."""
    header, status = document(node, doc)
    if header.type != "purchase_order" or header.location != node.config.location:
        raise NodeError(f"{doc} is not a purchase order for {node.config.location}")
    if lines is None:
        lines = [(s.sku, s.expected - s.done) for s in status.lines if s.expected > s.done]
    costs = {line.sku: line.unit_cost for line in header.lines}
    return _book(node, doc, SUPPLIER, lines, costs)


def _book(
    node: Node, doc: str, src: str, lines: Sequence[tuple[str, int]], costs: dict[str, int | None]
) -> list[Event]:
    moves = [
        Movement(
            sku=sku, qty=qty, src=src, dst=node.config.location, doc=doc, unit_cost=costs.get(sku)
        )
        for sku, qty in lines
        if qty > 0
    ]
    if not moves:
        raise NodeError(f"nothing to receive on {doc}")
    return node.store.append(moves, node.config.user, wall_ms())


def open_documents(node: Node) -> list[DocumentStatus]:
    """Orders and transfers that concern this location and are not finished."""
    out = []
    for doc in node.read.document_ids(("purchase_order", "transfer")):
        header, status = document(node, doc)
        mine = node.config.location in (header.location, header.counterparty)
        if mine and status.status not in ("received", "received_with_discrepancy"):
            out.append(status)
    return out
