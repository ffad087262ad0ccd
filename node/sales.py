"""The till's sales core: basket lines from scans, posting a sale, returns and voids.

Every operation checks first (role and approvals, quantities, tenders, what is left to
return) and then writes one document — its header and its movements — in one durable
transaction (`Node.post`): a refused action writes nothing, and a sale is on disk before
the till says it is done. The event's user is the acting user (`Node.user`, the cashier);
a manager's approval is recorded on the line or header (`approved_by`).

- A sale draws each line from the location's lots first-expiry-first-out (`@customer` is
  the destination). Selling more than the ledger holds is never refused — the shelf may
  be right and the ledger wrong — but the till must ask (`shortfalls`) and the sale
  records what the cashier confirmed (`DocLine.beyond_stock`).
- A return takes goods back from `@customer` to the shelf (or to `@scrap` when damaged)
  and refunds by the sale's own tenders; what may be returned is what was sold minus
  every return and void citing the sale that this till knows of, at whichever till
  (`protocol.returns`).
- A void is the return of everything left of a posted sale, as one "void" document: a
  manager's action (a cashier needs approval). A sale with nothing left cannot be voided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from node import permissions
from node.counter import Weigh, identify
from node.errors import NodeError
from node.service import Node
from protocol import i18n, returns
from protocol import tenders as tender_rules
from protocol.allocation import LotLevel, fefo, from_scanned_lot
from protocol.basket import Basket, BasketLine
from protocol.events import (
    CUSTOMER,
    SCRAP,
    Body,
    DocLine,
    Document,
    Event,
    Movement,
    Tender,
)
from protocol.units import MAX_MONEY, MAX_QTY, QTY_SCALE, format_money, format_qty, line_total

i18n.register(
    {
        "nothing scanned: scan a code or type a SKU": "没有扫到内容：请扫码或输入商品编号",
        "{sku} is no longer sold: head office deactivated it": "{sku} 已停售：总部已停用该商品",
        "{line!r}: write a code and at most one quantity, e.g. 'A1 2'": (
            "{line!r}：请写一个编码，最多再加一个数量，例如 'A1 2'"
        ),
        "{sku} is sold by weight and no scale is connected: type the weight, e.g. "
        "'{sku} 0.350'": "{sku} 按重量销售，但没有连接电子秤：请输入重量，例如 '{sku} 0.350'",
        "{sku} has no price yet: ask a manager to set one": "{sku} 还没有价格：请经理设置",
        "the basket is empty: scan a code first": "购物篮是空的：请先扫码",
        "the total {total} is more than one sale may record ({limit}): sell fewer at a time": (
            "总额 {total} 超过一笔销售的上限（{limit}）：请分开结账"
        ),
        "{sku}: selling {wanted} with {held} in stock: check the shelf, then confirm to sell "
        "anyway": "{sku}：要卖 {wanted}，账上库存只有 {held}：请核对货架，确认后仍可销售",
        "no sale {doc} here: check the receipt number, or sync first": (
            "这里没有销售单 {doc}：请核对小票号，或先同步"
        ),
        "{doc} is a {type}, not a sale: give the sale's receipt number": (
            "{doc} 是{type}单据，不是销售单：请输入销售小票号"
        ),
        "choose at least one line to return": "请至少选择一行退货",
        "sale {doc} did not sell {sku}: choose one of its lines": (
            "销售单 {doc} 没有卖出 {sku}：请选择单上的商品"
        ),
        "sale {doc} sold {sku} at several prices: give the price of the line to return": (
            "销售单 {doc} 以多个价格卖出 {sku}：请指明要退的那一行的价格"
        ),
        "return {qty} of {sku}: at most {left} is left to return on {doc}": (
            "退 {sku} {qty}：单据 {doc} 最多还能退 {left}"
        ),
        "quantity {qty} of {sku} must be more than zero": "{sku} 的数量 {qty} 必须大于零",
        "{sku} is counted in pieces: return a whole number": "{sku} 按件计：请退整数",
        "no product {sku!r} here: check the code": "这里没有商品 {sku!r}：请核对编码",
        "the price to refund for {sku} must not be negative": "{sku} 的退款单价不能为负数",
        "quantity {qty} of {sku} is too large: at most {limit}": (
            "{sku} 的数量 {qty} 太大：最多 {limit}"
        ),
        "the refund {total} is more than one return may record ({limit}): return fewer at a "
        "time": "退款 {total} 超过一笔退货的上限（{limit}）：请分开退",
        "nothing is left to void on {doc}: it was returned already": (
            "单据 {doc} 已全部退货，没有可作废的内容"
        ),
        "give the price to refund for {sku} (no receipt)": "无小票退货：请输入 {sku} 的退款单价",
    }
)


@dataclass(frozen=True)
class Shortfall:
    """Line `index` takes the basket's `sku` to `wanted`, beyond the `held` in stock."""

    index: int
    sku: str
    wanted: int
    held: int


@dataclass(frozen=True)
class PostedSale:
    doc: str
    events: list[Event]
    total: int
    #: cash handed back (fen)
    change: int
    tenders: list[Tender]


@dataclass(frozen=True)
class ReturnableLine:
    """One (sku, price) of a sale: what was sold, returned (at any till known) and is left."""

    sku: str
    name: str
    unit: str
    #: fen refunded per base unit (the line's amount after discount / qty, half-up)
    unit_amount: int
    sold: int
    returned: int
    left: int
    unit_price: int | None = None
    #: more came back than was sold (returns at two tills that did not know each other)
    returned_twice: bool = False


@dataclass(frozen=True)
class ReturnLine:
    """What the customer brings back: `qty` of `sku`; `unit_price` picks the sale line when
    the sale sold `sku` at several prices (and is the refund price without a receipt)."""

    sku: str
    qty: int
    scrap: bool = False
    unit_price: int | None = None


@dataclass(frozen=True)
class PostedReturn:
    doc: str
    events: list[Event]
    refund: int
    tenders: list[Tender]


# ---- the basket -------------------------------------------------------------------------


def basket_line(node: Node, text: str, weigh: Weigh | None = None) -> BasketLine:
    """The basket line a scanned or typed "CODE [QTY]" names (see `node.counter`): the
    code's own weight or price label, else the typed quantity, else the scale's weight
    for a product sold by weight, else one piece."""
    parts = text.split()
    if not parts:
        raise NodeError("nothing scanned: scan a code or type a SKU")
    if len(parts) > 2:
        raise NodeError("{line!r}: write a code and at most one quantity, e.g. 'A1 2'", line=text)
    found = identify(node, parts[0])
    product = found.product
    if not product.active:
        raise NodeError("{sku} is no longer sold: head office deactivated it", sku=product.sku)
    label_total = None
    if len(parts) == 2:
        qty = node._quantity(parts[1], product, allow_zero=False)
    elif found.qty_milli is not None:
        qty = found.qty_milli
        label_total = found.label_total
    elif product.unit == "kg":
        if weigh is None:
            raise NodeError(
                "{sku} is sold by weight and no scale is connected: type the weight, e.g. "
                "'{sku} 0.350'",
                sku=product.sku,
            )
        qty = node._quantity(format_qty(weigh()), product, allow_zero=False)
    else:
        qty = QTY_SCALE
    if product.price is None and label_total is None:
        raise NodeError("{sku} has no price yet: ask a manager to set one", sku=product.sku)
    price = product.price if product.price is not None else 0
    lot = found.lot.strip() if found.lot and found.lot.strip() else None
    return BasketLine(
        sku=product.sku,
        name=product.name or product.sku,
        unit=product.unit,
        qty=qty,
        unit_price=price,
        list_price=product.price,
        label_total=label_total,
        lot=lot,
        expiry=node._expiry(found.expiry) if lot is not None else None,
    )


def _held(levels: Sequence[LotLevel]) -> int:
    return max(sum(lv.qty for lv in levels), 0)


def _shortfalls(basket: Basket, held: dict[str, int]) -> list[Shortfall]:
    wanted: dict[str, int] = {}
    found = []
    for i, line in enumerate(basket.lines):
        wanted[line.sku] = wanted.get(line.sku, 0) + line.qty
        if wanted[line.sku] > held[line.sku]:
            found.append(Shortfall(i, line.sku, wanted[line.sku], held[line.sku]))
    return found


def shortfalls(node: Node, basket: Basket) -> list[Shortfall]:
    """The lines that take more than the ledger holds here: the till warns and asks the
    cashier to confirm (never refuses: the shelf may be right and the ledger wrong)."""
    here = node.config.location
    held = {sku: _held(node.read.lot_levels(here, sku)) for sku in {x.sku for x in basket.lines}}
    return _shortfalls(basket, held)


def _check_approvals(node: Node, basket: Basket) -> None:
    permissions.require(node, "sell")
    for line in basket.lines:
        if line.overridden:
            permissions.require(node, "price_override", line.approved_by)
        if line.discount:
            permissions.require(node, "discount", line.approved_by)
        if permissions.is_large_quantity(line):
            permissions.require(node, "large_quantity", line.approved_by)


def _shortfall_error(short: Shortfall) -> NodeError:
    return NodeError(
        "{sku}: selling {wanted} with {held} in stock: check the shelf, then confirm to sell "
        "anyway",
        sku=short.sku,
        wanted=format_qty(short.wanted),
        held=format_qty(short.held),
    )


def post_sale(
    node: Node,
    basket: Basket,
    tenders: Sequence[str],
    *,
    shift: str | None = None,
    confirmed_beyond_stock: bool = False,
    order: str | None = None,
) -> PostedSale:
    """Post the basket as one sale paid with `tenders` (`cash:50`, `card`; see
    protocol.tenders: only cash gives change). Refused, writing nothing, when the acting
    user may not sell or a line lacks its approval, the tenders do not settle, or a line
    goes beyond stock and `confirmed_beyond_stock` is not set. `order`: the online order
    the sale fulfils (its `ref`, node/picking.py)."""
    if not basket.lines:
        raise NodeError("the basket is empty: scan a code first")
    _check_approvals(node, basket)
    total = basket.total
    if total > MAX_MONEY:
        raise NodeError(
            "the total {total} is more than one sale may record ({limit}): sell fewer at a time",
            total=format_money(total),
            limit=format_money(MAX_MONEY),
        )
    specs = list(tenders)
    recorded = node._tenders(specs, total)
    change = tender_rules.change(specs, total)
    if not confirmed_beyond_stock:
        missing = shortfalls(node, basket)
        if missing:
            raise _shortfall_error(missing[0])
    here = node.config.location

    def lines(doc: str) -> list[Body]:
        # inside the transaction: the lots are read and drawn from atomically
        levels = {
            sku: list(node.read.lot_levels(here, sku)) for sku in {x.sku for x in basket.lines}
        }
        missing = _shortfalls(basket, {sku: _held(lv) for sku, lv in levels.items()})
        if missing and not confirmed_beyond_stock:
            raise _shortfall_error(missing[0])
        doc_lines: list[DocLine] = []
        moves: list[Body] = []
        scanned_lot = None
        for line in basket.lines:
            have = levels[line.sku]
            beyond = max(line.qty - _held(have), 0)
            if line.lot is None:
                parts, mismatch = fefo(have, line.qty), False
            else:
                parts, mismatch = from_scanned_lot(have, line.lot, line.qty)
            if mismatch and scanned_lot is None:
                scanned_lot = line.lot
            levels[line.sku] = _drawn(have, parts)
            doc_lines.append(
                DocLine(
                    sku=line.sku,
                    qty=line.qty,
                    unit_price=line.unit_price,
                    lot=line.lot,
                    expiry=line.expiry,
                    discount=line.gross - line.total or None,
                    amount=line.total,
                    list_price=line.list_price if line.overridden else None,
                    approved_by=line.approved_by,
                    beyond_stock=beyond or None,
                )
            )
            moves.extend(
                Movement(
                    sku=line.sku,
                    qty=part,
                    src=here,
                    dst=CUSTOMER,
                    lot=part_lot,
                    expiry=line.expiry if part_lot == line.lot else None,
                    doc=doc,
                    unit_price=line.unit_price,
                )
                for part_lot, part in parts
            )
        header = Document(
            doc=doc,
            type="sale",
            location=here,
            lines=doc_lines,
            tenders=recorded,
            scanned_lot=scanned_lot,
            shift=shift if shift is not None else open_shift_doc(node),
            ref=order,
        )
        return [header, *moves]

    events = node.post(lines)
    header = events[0].body
    assert isinstance(header, Document)
    return PostedSale(header.doc, events, total, change, recorded)


def _drawn(levels: list[LotLevel], parts: list[tuple[str | None, int]]) -> list[LotLevel]:
    """The levels after `parts` were drawn (so the next line of the same sku sees them)."""
    taken: dict[str | None, int] = {}
    for lot, qty in parts:
        taken[lot] = taken.get(lot, 0) + qty
    after = [lv._replace(qty=lv.qty - taken.pop(lv.lot, 0)) for lv in levels]
    after.extend(LotLevel(lot, None, -qty) for lot, qty in taken.items())
    return after


# ---- returns and voids ------------------------------------------------------------------


def _sale(node: Node, sale_doc: str) -> Document:
    header = node.read.document_header(sale_doc)
    if header is None:
        raise NodeError("no sale {doc} here: check the receipt number, or sync first", doc=sale_doc)
    if header.type != "sale":
        raise NodeError(
            "{doc} is a {type}, not a sale: give the sale's receipt number",
            doc=sale_doc,
            type=header.type,
        )
    if header.lines:
        return header
    # a sale written before sales had lines (one product, `Node.sell`): its movements
    # and tenders say what was sold and paid
    sold: dict[tuple[str, int | None], int] = {}
    for e in node.read.document_movements(sale_doc):
        if e.src == header.location and e.dst == CUSTOMER:
            sold[(e.sku, None)] = sold.get((e.sku, None), 0) + e.qty
    paid = sum(t.amount for t in header.tenders)
    lines = [
        DocLine(sku=sku, qty=qty, amount=paid if len(sold) == 1 else None)
        for (sku, _), qty in sold.items()
    ]
    return Document(
        doc=header.doc,
        type="sale",
        location=header.location,
        lines=lines,
        tenders=header.tenders,
    )


def _returns(node: Node, sale_doc: str) -> list[Document]:
    return [r.header for r in node.read.documents_citing(sale_doc, returns.RETURN_TYPES)]


def returnable(node: Node, sale_doc: str) -> list[ReturnableLine]:
    """What of `sale_doc` may still be returned, per (sku, price), across every till whose
    returns this ledger holds; `returned_twice` flags a line returned beyond what was sold
    (both returns stand; see protocol.returns)."""
    sale = _sale(node, sale_doc)
    found = []
    for g in returns.groups(sale, _returns(node, sale_doc)):
        product = node.read.product(g.sku)
        found.append(
            ReturnableLine(
                sku=g.sku,
                name=(product.name if product else None) or g.sku,
                unit=product.unit if product else "pcs",
                unit_amount=g.unit_amount,
                sold=g.sold,
                returned=g.returned,
                left=g.left,
                unit_price=g.unit_price,
                returned_twice=g.returned_twice,
            )
        )
    return found


def return_alerts(node: Node, sale_doc: str) -> list[returns.ReturnAlert]:
    """`returned_twice` alerts of a sale (derived: every replica shows the same)."""
    return returns.alerts(_sale(node, sale_doc), _returns(node, sale_doc))


def _check_qty(node: Node, line: ReturnLine) -> None:
    product = node.read.product(line.sku)
    if product is None:
        raise NodeError("no product {sku!r} here: check the code", sku=line.sku)
    if line.qty <= 0:
        raise NodeError(
            "quantity {qty} of {sku} must be more than zero",
            qty=format_qty(line.qty),
            sku=line.sku,
        )
    if product.unit == "pcs" and line.qty % QTY_SCALE:
        raise NodeError("{sku} is counted in pieces: return a whole number", sku=line.sku)
    if line.qty > MAX_QTY:
        raise NodeError(
            "quantity {qty} of {sku} is too large: at most {limit}",
            qty=format_qty(line.qty),
            sku=line.sku,
            limit=format_qty(MAX_QTY),
        )
    if line.unit_price is not None and line.unit_price < 0:
        raise NodeError("the price to refund for {sku} must not be negative", sku=line.sku)


def _pick(sale: Document, groups: list[returns.ReturnGroup], line: ReturnLine) -> int:
    candidates = [
        i
        for i, g in enumerate(groups)
        if g.sku == line.sku and (line.unit_price is None or g.unit_price == line.unit_price)
    ]
    if not candidates:
        raise NodeError(
            "sale {doc} did not sell {sku}: choose one of its lines", doc=sale.doc, sku=line.sku
        )
    if len(candidates) > 1:
        raise NodeError(
            "sale {doc} sold {sku} at several prices: give the price of the line to return",
            doc=sale.doc,
            sku=line.sku,
        )
    return candidates[0]


def open_shift_doc(node: Node) -> str | None:
    """The till's open shift, which a sale, return or void given no shift belongs to (read
    inside the posting's transaction): whatever posts them, the till's screen or
    `kucun node sell`, the Z report counts them."""
    from node.shifts import current_shift  # shifts builds on permissions, as sales does

    shift = current_shift(node)
    return shift.doc if shift is not None else None


def _return_doc(
    node: Node,
    sale_doc: str | None,
    lines: Sequence[ReturnLine],
    *,
    kind: str,
    shift: str | None,
    approved_by: str | None,
) -> PostedReturn:
    """Check and write a return or void (`kind`) in one transaction."""
    if not lines:
        raise NodeError("choose at least one line to return")
    for line in lines:
        _check_qty(node, line)
    here = node.config.location

    def plan() -> tuple[list[DocLine], list[Movement], list[Tender]]:
        if sale_doc is None:
            doc_lines = []
            for line in lines:
                if line.unit_price is None:
                    raise NodeError("give the price to refund for {sku} (no receipt)", sku=line.sku)
                doc_lines.append(
                    DocLine(
                        sku=line.sku,
                        qty=line.qty,
                        unit_price=line.unit_price,
                        amount=line_total(line.qty, line.unit_price),
                        scrap=line.scrap,
                    )
                )
            refund = sum(x.amount or 0 for x in doc_lines)
            if refund > MAX_MONEY:
                raise NodeError(
                    "the refund {total} is more than one return may record ({limit}): return "
                    "fewer at a time",
                    total=format_money(refund),
                    limit=format_money(MAX_MONEY),
                )
            moves = [
                Movement(sku=x.sku, qty=x.qty, src=CUSTOMER, dst=SCRAP if x.scrap else here, doc="")
                for x in doc_lines
            ]
            return doc_lines, moves, [Tender(method="cash", amount=refund)]
        sale = _sale(node, sale_doc)
        earlier = _returns(node, sale_doc)
        groups = returns.groups(sale, earlier)
        drawn: dict[str, list[tuple[str | None, int]]] = {}
        back: dict[str, list[tuple[str | None, int]]] = {}
        for m in node.read.document_movements(sale_doc):
            if m.src == sale.location and m.dst == CUSTOMER:
                drawn.setdefault(m.sku, []).append((m.lot, m.qty))
        for r in earlier:
            for m in node.read.document_movements(r.doc):
                if m.src == CUSTOMER:
                    back.setdefault(m.sku, []).append((m.lot, m.qty))
        doc_lines, moves = [], []
        for line in lines:
            i = _pick(sale, groups, line)
            g = groups[i]
            if line.qty > g.left:
                raise NodeError(
                    "return {qty} of {sku}: at most {left} is left to return on {doc}",
                    qty=format_qty(line.qty),
                    sku=line.sku,
                    left=format_qty(g.left),
                    doc=sale_doc,
                )
            amount = g.refund(line.qty)
            groups[i] = returns.ReturnGroup(
                g.sku, g.unit_price, g.sold, g.amount, g.returned + line.qty, g.refunded + amount
            )
            doc_lines.append(
                DocLine(
                    sku=line.sku,
                    qty=line.qty,
                    unit_price=g.unit_price,
                    amount=amount,
                    scrap=line.scrap,
                )
            )
            for lot, qty in returns.lots_back(
                drawn.get(line.sku, []), back.get(line.sku, []), line.qty
            ):
                back.setdefault(line.sku, []).append((lot, qty))
                moves.append(
                    Movement(
                        sku=line.sku,
                        qty=qty,
                        src=CUSTOMER,
                        dst=SCRAP if line.scrap else here,
                        lot=lot,
                        doc="",
                    )
                )
        refund = sum(x.amount or 0 for x in doc_lines)
        tenders = returns.refund_tenders(refund, sale.tenders, [r.tenders for r in earlier])
        return doc_lines, moves, tenders

    plan()  # check before writing: a refusal raises here, outside the transaction

    def bodies(doc: str) -> list[Body]:
        doc_lines, moves, tenders = plan()  # again inside: other writes cannot slip between
        header = Document(
            doc=doc,
            type="void" if kind == "void" else "return",
            location=here,
            lines=doc_lines,
            tenders=tenders,
            ref=sale_doc,
            approved_by=approved_by,
            shift=shift if shift is not None else open_shift_doc(node),
        )
        return [header, *(_cite(m, doc) for m in moves)]

    events = node.post(bodies)
    header = events[0].body
    assert isinstance(header, Document)
    return PostedReturn(
        header.doc, events, sum(x.amount or 0 for x in header.lines), header.tenders
    )


def _cite(move: Movement, doc: str) -> Movement:
    return Movement(sku=move.sku, qty=move.qty, src=move.src, dst=move.dst, lot=move.lot, doc=doc)


def post_return(
    node: Node,
    sale_doc: str | None,
    lines: Sequence[ReturnLine],
    *,
    shift: str | None = None,
    approved_by: str | None = None,
) -> PostedReturn:
    """Take `lines` back against `sale_doc` (never more than is left of it), refunded by
    its tenders; without a receipt (`sale_doc` None) only with `return_without_receipt`
    (a cashier needs `approved_by`), refunded in cash at each line's `unit_price`."""
    if sale_doc is None:
        approved_by = permissions.require(node, "return_without_receipt", approved_by)
    else:
        permissions.require(node, "return")
        approved_by = None
    return _return_doc(node, sale_doc, lines, kind="return", shift=shift, approved_by=approved_by)


def void_sale(
    node: Node, sale_doc: str, *, approved_by: str | None, shift: str | None = None
) -> PostedReturn:
    """Cancel what is left of a posted sale: one "void" document returning every line's
    remainder to the shelf and refunding it by the sale's tenders. A manager's action."""
    approved_by = permissions.require(node, "void_sale", approved_by)
    left = [
        ReturnLine(sku=x.sku, qty=x.left, unit_price=x.unit_price)
        for x in returnable(node, sale_doc)
        if x.left > 0
    ]
    if not left:
        raise NodeError("nothing is left to void on {doc}: it was returned already", doc=sale_doc)
    return _return_doc(node, sale_doc, left, kind="void", shift=shift, approved_by=approved_by)
