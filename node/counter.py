"""What the counter does with a line the cashier scanned or typed, without any UI.

A line is a code, optionally followed by a quantity ("A1 2", "6901234567892", "APPLE 0.350").
The code may be a SKU, a barcode stored on the product, a GTIN in any length, a GS1 element
string (its lot is sold from when the store holds it, its expiry kept), or a label-scale code
with the weight or price printed in it. A product sold by weight with no weight in the code
or the line is weighed on the scale. The sale is committed before the outcome exists; the
UI only shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from devices import interpret
from node.errors import NodeError, UnknownProduct
from node.i18n import language
from node.service import Node, Product
from protocol import i18n
from protocol.basket import Basket
from protocol.units import format_money, format_qty

i18n.register(
    {
        "unknown code {code!r}: {reason}": "未知编码 {code!r}：{reason}",
        "unknown code {code!r}: no product here has this barcode or PLU {plu}": (
            "未知编码 {code!r}：本店没有此条码或 PLU {plu} 的商品"
        ),
        "unknown code {code!r}: no product here has this barcode": (
            "未知编码 {code!r}：本店没有此条码的商品"
        ),
        "scale: {message}": "电子秤：{message}",
    }
)

#: Reads a stable weight in milli-kg from the scale, or raises NodeError with the reason.
Weigh = Callable[[], int]


@dataclass(frozen=True)
class SaleOutcome:
    doc: str
    sku: str
    qty: str
    total: str


@dataclass(frozen=True)
class Identified:
    """A product and whatever the code itself said about this sale."""

    product: Product
    qty_milli: int | None = None
    label_total: int | None = None
    lot: str | None = None
    #: the code's expiry (GS1 AI 17, else best-before AI 15) as an ISO date
    expiry: str | None = None


def identify(node: Node, code: str) -> Identified:
    """A stored barcode or SKU first; then the code's own meaning."""
    product = node.product_by_barcode(code)
    if product is None:
        try:
            product = node.product(code)
        except UnknownProduct:
            product = None
    if product is not None:
        return Identified(product)
    result = interpret(code)
    if not result.ok:
        reason = result.reason_zh if language() == "zh-CN" and result.reason_zh else result.reason
        if result.kind == "unknown":
            raise UnknownProduct("unknown code {code!r}: {reason}", code=code, reason=reason)
        raise UnknownProduct("{reason}", reason=str(reason))
    found = node.read.product_by_gtin(result.gtin14) if result.gtin14 else None
    if found is None and result.plu:
        found = node.read.product_by_plu(result.plu)
    if found is None:
        if result.plu:
            raise UnknownProduct(
                "unknown code {code!r}: no product here has this barcode or PLU {plu}",
                code=code,
                plu=result.plu,
            )
        raise UnknownProduct("unknown code {code!r}: no product here has this barcode", code=code)
    qty = label_total = None
    if result.weight is not None:
        qty = int((result.weight * 1000).to_integral_value(ROUND_HALF_UP))
    if result.price is not None:
        label_total = int((result.price * 100).to_integral_value(ROUND_HALF_UP))
        if qty is None and found.price:
            qty = int((Decimal(label_total) * 1000 / found.price).to_integral_value(ROUND_HALF_UP))
    dated = result.expiry or result.best_before
    return Identified(
        found, qty, label_total, result.lot, dated.isoformat() if dated is not None else None
    )


def needs_weight(node: Node, line: str) -> bool:
    """True when selling `line` means reading the scale (sold by weight, no weight given)."""
    parts = line.split()
    if len(parts) != 1:
        return False
    try:
        found = identify(node, parts[0])
    except NodeError:
        return False
    return found.qty_milli is None and found.product.unit == "kg"


def weight_from_scale(reading) -> int:
    """Milli-kg from a devices Reading, or NodeError with the scale's own advice."""
    message = getattr(reading, "message", None)
    if message is not None:
        raise NodeError("scale: {message}", message=message)
    return reading.to_milli("kg", rounding=ROUND_HALF_UP)


def sell_line(
    node: Node, line: str, weigh: Weigh | None = None, tender: str | Sequence[str] = "cash"
) -> SaleOutcome:
    """Sell what `line` names as a sale of one line, paid with `tender`: the basket line
    (`node.sales.basket_line`) posted at once (`node.sales.post_sale`). The one-line
    counter has no one to ask, so what it sells beyond stock is recorded as confirmed."""
    from node import sales  # sales builds on identify(): imported here, not at the top

    item = sales.basket_line(node, line, weigh)
    basket, _ = Basket().add(item)
    posted = sales.post_sale(
        node,
        basket,
        [tender] if isinstance(tender, str) else tender,
        confirmed_beyond_stock=True,
    )
    return SaleOutcome(posted.doc, item.sku, format_qty(item.qty), format_money(posted.total))
