"""What the counter does with a line the cashier scanned or typed, without any UI.

A line is a barcode or SKU, optionally followed by a quantity ("A1 2", "6901234567892").
The UI shows the returned outcome; the sale is committed before the outcome exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.errors import NodeError, UnknownProduct
from node.service import Node, Product
from protocol.units import format_money, format_qty


@dataclass(frozen=True)
class SaleOutcome:
    doc: str
    sku: str
    qty: str
    total: str


def resolve(node: Node, code: str) -> Product:
    """A scanned barcode first, then a typed SKU."""
    product = node.product_by_barcode(code)
    if product is not None:
        return product
    try:
        return node.product(code)
    except UnknownProduct:
        raise UnknownProduct(
            f"unknown code {code!r}: not a barcode or SKU of any product here"
        ) from None


def sell_line(node: Node, line: str) -> SaleOutcome:
    parts = line.split()
    if not parts:
        raise NodeError("nothing scanned: scan a code or type a SKU")
    if len(parts) > 2:
        raise NodeError(f"{line!r}: write a code and at most one quantity, e.g. 'A1 2'")
    product = resolve(node, parts[0])
    qty = parts[1] if len(parts) == 2 else "1"
    events = node.sell(product.sku, qty)
    header = events[0].body
    sold = sum(e.body.qty for e in events[1:])
    total = sum(t.amount for t in header.tenders)
    return SaleOutcome(header.doc, product.sku, format_qty(sold), format_money(total))
