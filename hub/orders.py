"""Online orders at the hub: take one (idempotent by the caller's id), route it to a
store as an "online_order" document on `hub-<store>`, derive its status from the
documents citing it, cancel it. Free of HTTP; hub/routes_orders.py renders the answers.

The caller's id is remembered per token name (ledger/order_tables.py) in the same unit
of work as the document, so an order is either taken and remembered or neither.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import msgspec

from hub import schemas_orders as so
from hub.route import Conflict
from hub.service import (
    HubService,
    NotFound,
    Refused,
    _key,
    _location,
    _money,
    _qty,
    _shown,
    _text,
    hub_doc_id,
)
from ledger.order_tables import OrderTables, TakenOrder
from ledger.orders_read import OrdersRead
from protocol import orders
from protocol.events import Body, DocLine, Document
from protocol.units import format_money, format_qty


def order_doc_id(location: str, header_seq: int) -> str:
    """ORD-<store>-<n>: see hub.service.hub_doc_id."""
    return hub_doc_id("ORD", location, header_seq)


def cancel_doc_id(location: str, header_seq: int) -> str:
    return hub_doc_id("CXL", location, header_seq)


def _checked(body: so.OrderIn) -> tuple[list[DocLine], dict[str, Any]]:
    """The order's lines as the ledger keeps them, and its values as compared when the
    same id comes again (parsed, so "1" and "1.000" are one quantity)."""
    _key(body.order_id, "order_id")
    _text(body.customer.name, "customer name", required=True)
    if body.customer.id is not None:
        _key(body.customer.id, "customer id")
    _text(body.customer.phone, "customer phone")
    _text(body.note, "note", one_line=False)
    _text(body.webhook_url, "webhook_url")
    if body.preferred_store is not None:
        _location(body.preferred_store)
    lines = []
    for i, line in enumerate(body.lines, start=1):
        price = None if line.price is None else _money(line.price, f"line {i} price")
        lines.append(
            DocLine(
                sku=_key(line.sku, f"line {i} sku"),
                qty=_qty(line.qty, f"line {i} qty"),
                unit_price=price,
            )
        )
    values = {
        "order_id": body.order_id,
        "customer": [body.customer.id, body.customer.name, body.customer.phone],
        "lines": [[x.sku, x.qty, x.unit_price] for x in lines],
        "fulfilment": body.fulfilment,
        "preferred_store": body.preferred_store,
        "webhook_url": body.webhook_url,
        "webhook_secret": body.webhook_secret,
        "note": body.note,
    }
    return lines, values


def take(hub: HubService, body: so.OrderIn, user: str) -> tuple[so.OrderTaken, bool]:
    """Route and write the order; (the answer, whether it was new). The same body under
    the same id again answers as the first time and writes nothing; another body under
    it is refused (Conflict, 409)."""
    lines, values = _checked(body)
    sent = orders.canonical(values)
    conn = hub.store.conn
    tables = OrderTables(conn)
    replica = hub.store.events
    with replica.work():
        prior = tables.taken(user, body.order_id)
        if prior is not None:
            if orders.same_order(prior.canonical, sent):
                return _taken(prior), False
            raise Conflict(
                f"order {_shown(body.order_id)} was already taken with another body "
                f"(as {prior.doc}): send a new order_id for a new order"
            )
        read = replica.read
        unknown = sorted({x.sku for x in lines if read.product(x.sku) is None})
        if unknown:
            shown = ", ".join(_shown(sku) for sku in unknown[:5])
            raise Refused(f"lines: no product {shown} at the hub: create it first")
        skus = sorted({x.sku for x in lines})
        routing = orders.route(
            [(x.sku, x.qty) for x in lines],
            OrdersRead(conn).candidates(skus),
            body.fulfilment,
            body.preferred_store,
        )
        if routing is None:
            raise Refused(
                "lines: no store holds any of this order, so none can pick it: "
                "send it again once stock has arrived"
            )
        note = orders.order_note(body.fulfilment, body.order_id, body.note)

        def bodies(doc: str) -> list[Body]:
            return [
                Document(
                    doc=doc,
                    type="online_order",
                    location=routing.store,
                    counterparty=body.customer.name,
                    lines=lines,
                    note=note,
                )
            ]

        doc = hub.post(routing.store, order_doc_id, bodies, user)
        state = "short" if routing.short else "routed"
        answer = so.OrderTaken(order=body.order_id, doc=doc, store=routing.store, status=state)
        tables.add(
            TakenOrder(
                caller=user,
                order_id=body.order_id,
                doc=doc,
                store=routing.store,
                canonical=sent,
                answer=_encode(answer),
                short=orders.canonical(routing.short),
                webhook_url=body.webhook_url,
                created_ms=hub.clock(),
            )
        )
        if body.webhook_secret is not None:
            tables.set_secret(doc, body.webhook_secret)
    hub.on_written()
    return answer, True


def _encode(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _taken(prior: TakenOrder) -> so.OrderTaken:
    return msgspec.json.decode(prior.answer, type=so.OrderTaken)


def _short(taken: TakenOrder) -> dict[str, int]:
    return {str(k): int(v) for k, v in json.loads(taken.short).items()}


def state_of(hub: HubService, taken: TakenOrder) -> tuple[Document, orders.State]:
    """The order's header and its status, derived from what cites it now."""
    read = OrdersRead(hub.store.conn)
    header = read.order(taken.doc)
    if header is None:  # written and folded with the row: only a broken database lacks it
        raise NotFound(f"order {_shown(taken.order_id)}: its document {taken.doc} is missing")
    return header, orders.status(header, read.citing(taken.doc), _short(taken))


def view(hub: HubService, taken: TakenOrder) -> so.OrderOut:
    header, state = state_of(hub, taken)
    prices: dict[str, int] = {}
    for line in header.lines:
        if line.unit_price is not None:
            prices.setdefault(line.sku, line.unit_price)
    return so.OrderOut(
        order=taken.order_id,
        doc=taken.doc,
        store=taken.store,
        status=state.status,
        fulfilment=orders.parse_note(header.note)[0],
        customer=header.counterparty,
        lines=[
            so.OrderLineOut(
                sku=x.sku,
                qty=format_qty(x.ordered),
                sold=format_qty(x.sold),
                short=format_qty(x.short),
                price=format_money(prices[x.sku]) if x.sku in prices else None,
            )
            for x in state.lines
        ],
        alerts=[
            so.OrderAlertOut(a.kind, a.sku, format_qty(a.extra) if a.sku else None)
            for a in state.alerts
        ],
        sales=state.sales,
    )


def find(hub: HubService, order_id: str, caller: str) -> TakenOrder:
    _key(order_id, "order_id")
    taken = OrderTables(hub.store.conn).find(caller, order_id)
    if taken is None:
        raise NotFound(f"no online order {_shown(order_id)} at the hub")
    return taken


_CURSOR = "orders:"


def _cursor(doc: str) -> str:
    return base64.urlsafe_b64encode((_CURSOR + doc).encode()).decode().rstrip("=")


def _after(text: str | None) -> str | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raw = ""
    if len(text) > 200 or not raw.startswith(_CURSOR):
        raise Refused("cursor is not one this list gave: pass next_cursor unchanged")
    return raw[len(_CURSOR) :]


def page(
    hub: HubService,
    status: str | None,
    store: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[so.OrderOut], str | None]:
    """A page of orders by document id, of one status and store or all."""
    if status is not None and status not in orders.STATUSES:
        raise Refused(f"status must be one of: {', '.join(orders.STATUSES)}")
    if store is not None:
        _location(store)
    after = _after(cursor)
    tables = OrderTables(hub.store.conn)
    found: list[so.OrderOut] = []
    while len(found) < limit:
        batch = tables.page(store, after, 200)
        if not batch:
            return found, None
        for taken in batch:
            after = taken.doc
            out = view(hub, taken)
            if status is None or out.status == status:
                found.append(out)
                if len(found) == limit:
                    break
    more = bool(tables.page(store, after, 1))
    return found, _cursor(after) if more and after else None


def cancel(hub: HubService, taken: TakenOrder, reason: str | None, user: str) -> so.OrderCancelled:
    """Write "order_cancel" (ref = the order) on the store's log; refused (409) once a sale
    cites the order (the goods left); cancelled already: answered with that cancel."""
    _text(reason, "reason", one_line=False)
    read = OrdersRead(hub.store.conn)
    with hub.store.events.work():
        _header, state = state_of(hub, taken)
        if state.sales:
            raise Conflict(
                f"order {_shown(taken.order_id)} is {state.status}: sold by "
                f"{', '.join(state.sales)}, it can no longer be cancelled (take a return)"
            )
        for doc in read.citing(taken.doc):
            if doc.type == "order_cancel":
                return so.OrderCancelled(taken.order_id, taken.doc, doc.doc, "cancelled")

        def bodies(doc: str) -> list[Body]:
            return [
                Document(
                    doc=doc, type="order_cancel", location=taken.store, ref=taken.doc, note=reason
                )
            ]

        done = hub.post(taken.store, cancel_doc_id, bodies, user)
    hub.on_written()
    return so.OrderCancelled(taken.order_id, taken.doc, done, "cancelled")
