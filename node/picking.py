"""Picking online orders at a store: what is open, starting a pick, loading it into a sale
basket, recording what the store cannot supply.

The hub routes an order to a store as an "online_order" document on `hub-<store>`, which
every node of the store already reads. A till's "pick" (ref = the order) says someone is
picking it; the sale that hands the goods over cites it (`ref`, node.sales.post_sale
`order=`); a "pick_short" lists what the store cannot supply. No screen here: the till's
picks screen (node/till/picks.py) and `kucun node picks` call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.orders_read import OrdersRead
from node import permissions
from node.errors import NodeError
from node.service import Node
from protocol import i18n, orders
from protocol.basket import Basket, BasketLine
from protocol.events import Body, DocLine, Document
from protocol.units import format_qty

if TYPE_CHECKING:
    from node.till.session import TillSession

i18n.register(
    {
        "no online order {doc} at this store: choose one from the list of picks": (
            "本店没有线上订单 {doc}：请从拣货列表中选择"
        ),
        "order {doc} is {status}: there is nothing left to pick": (
            "订单 {doc} 状态为 {status}：没有需要拣货的商品"
        ),
        "{sku} is not a line of order {doc}": "{sku} 不是订单 {doc} 的商品",
        "{sku}: short {qty} is more than the {ordered} ordered": (
            "{sku}：缺货 {qty} 超过订购数量 {ordered}"
        ),
        "say what is short: at least one line": "请说明缺货的商品：至少一行",
        "{sku} has no price: ask a manager to set one": "{sku} 没有价格：请经理设置",
        "finish or suspend the current basket first": "请先结账或挂起当前购物篮",
    }
)


@dataclass(frozen=True)
class Pick:
    """One online order as the store sees it: its document, the shop's order id, pickup
    or delivery, the customer, what to pick, and its derived status."""

    doc: str
    order_id: str
    fulfilment: str
    customer: str | None
    note: str | None
    lines: list[DocLine]
    status: str
    picking: bool
    open: bool


def _pick(header: Document, state: orders.State) -> Pick:
    fulfilment, order_id, note = orders.parse_note(header.note)
    return Pick(
        doc=header.doc,
        order_id=order_id,
        fulfilment=fulfilment,
        customer=header.counterparty,
        note=note,
        lines=list(header.lines),
        status=state.status,
        picking=state.status == "picking",
        open=state.open,
    )


def picks(node: Node, *, every: bool = False) -> list[Pick]:
    """The orders routed to this store still to pick (`every`: all of them), oldest first."""
    read = OrdersRead(node.conn)
    out = []
    for header in read.orders_at(node.config.location):
        state = orders.status(header, read.citing(header.doc))
        if every or state.open:
            out.append(_pick(header, state))
    return out


def pick(node: Node, doc: str) -> Pick:
    """One order of this store, refused when it is not one."""
    read = OrdersRead(node.conn)
    header = read.order(doc)
    if header is None or header.location != node.config.location:
        raise NodeError(
            "no online order {doc} at this store: choose one from the list of picks", doc=doc
        )
    return _pick(header, orders.status(header, read.citing(doc)))


def _open(node: Node, doc: str) -> Pick:
    found = pick(node, doc)
    if not found.open:
        raise NodeError(
            "order {doc} is {status}: there is nothing left to pick", doc=doc, status=found.status
        )
    return found


def start(node: Node, doc: str) -> str:
    """Post a "pick" citing the order (its lines: what is to be picked); the pick's id.
    Two tills starting the same order both stand: the status is picking either way."""
    permissions.require(node, "lookup")  # anyone of the store picks; selling is a till's
    found = _open(node, doc)
    here = node.config.location
    events = node.post(
        lambda pick_doc: [
            Document(doc=pick_doc, type="pick", location=here, ref=doc, lines=found.lines)
        ]
    )
    header = events[0].body
    assert isinstance(header, Document)
    return header.doc


def basket(node: Node, doc: str) -> Basket:
    """The order's lines as a sale basket: at the price the shop sold at (head office's
    own price, so no override to approve), else the product's price here."""
    found = _open(node, doc)
    lines = []
    for line in found.lines:
        product = node.read.product(line.sku)
        price = line.unit_price
        if price is None and product is not None:
            price = product.price
        if price is None:
            raise NodeError("{sku} has no price: ask a manager to set one", sku=line.sku)
        lines.append(
            BasketLine(
                sku=line.sku,
                name=(product.name if product is not None else None) or line.sku,
                unit=product.unit if product is not None else "pcs",
                qty=line.qty,
                unit_price=price,
                list_price=price,
            )
        )
    return Basket(tuple(lines))


def short(node: Node, doc: str, lacking: dict[str, int], note: str | None = None) -> str:
    """Post a "pick_short" citing the order: per SKU, the milli-units the store cannot
    supply. The order shows short (and leaves the list of picks)."""
    permissions.require(node, "lookup")  # anyone of the store picks; selling is a till's
    found = _open(node, doc)
    ordered = orders.needed((x.sku, x.qty) for x in found.lines)
    if not lacking:
        raise NodeError("say what is short: at least one line")
    for sku, qty in lacking.items():
        if sku not in ordered:
            raise NodeError("{sku} is not a line of order {doc}", sku=sku, doc=doc)
        if qty <= 0 or qty > ordered[sku]:
            raise NodeError(
                "{sku}: short {qty} is more than the {ordered} ordered",
                sku=sku,
                qty=format_qty(qty),
                ordered=format_qty(ordered[sku]),
            )
    here = node.config.location

    def bodies(short_doc: str) -> list[Body]:
        return [
            Document(
                doc=short_doc,
                type="pick_short",
                location=here,
                ref=doc,
                note=note,
                lines=[DocLine(sku=sku, qty=qty) for sku, qty in sorted(lacking.items())],
            )
        ]

    header = node.post(bodies)[0].body
    assert isinstance(header, Document)
    return header.doc


def load(session: TillSession, doc: str) -> str:
    """Start picking `doc` at a till: post the pick and put the order's lines in the
    session's basket, so the sale it pays cites the order; the pick's id. Refused while
    another basket is being rung up."""
    if session.basket.lines:
        raise NodeError("finish or suspend the current basket first")
    filled = basket(session.node, doc)
    started = start(session.node, doc)
    session.basket = filled
    session.order = doc
    return started
