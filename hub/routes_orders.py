"""The hub API routes for:
online orders: taken, routed to a store as a pick request, status, webhooks.

Rows of the one route table (assembled in hub/routes.py); see hub/route.py for a row.
"""

from __future__ import annotations

from hub import orders
from hub import schemas_orders as so
from hub.route import ANY_ROLE, BUYING, Call, Query, Replayed, Route
from hub.service import _count


def post_order(call: Call[so.OrderIn]) -> so.OrderTaken | Replayed:
    if call.body.preferred_store is not None:
        call.require(call.body.preferred_store)
    answer, new = orders.take(call.hub, call.body, call.user)
    return answer if new else Replayed(answer)  # sent again: the same answer, 200


def get_order(call: Call[None]) -> so.OrderOut:
    taken = orders.find(call.hub, call.path["order_id"], call.user)
    call.require(taken.store)
    return orders.view(call.hub, taken)


def get_orders(call: Call[None]) -> so.OrdersOut:
    store = call.scope(call.query.get("store"))
    limit = _count(call.query.get("limit"), "limit", 100, 1, 1000)
    items, cursor = orders.page(
        call.hub, call.query.get("status"), store, limit, call.query.get("cursor")
    )
    return so.OrdersOut(items=items, next_cursor=cursor)


def cancel_order(call: Call[so.CancelIn]) -> so.OrderCancelled:
    taken = orders.find(call.hub, call.path["order_id"], call.user)
    call.require(taken.store)
    return orders.cancel(call.hub, taken, call.body.reason, call.user)


_EXAMPLE = {
    "order_id": "WX-1001",
    "customer": {"id": "C88", "name": "Li Lei", "phone": "13800000000"},
    "lines": [{"sku": "A1", "qty": "2", "price": "2.50"}],
    "fulfilment": "pickup",
    "preferred_store": "S01",
    "note": "ring twice",
}

ROUTES: tuple[Route, ...] = (
    Route(
        method="POST",
        path="/api/v1/orders",
        handler=post_order,
        summary="take an online order (idempotent by order_id): routed to a store to pick",
        body=so.OrderIn,
        response=so.OrderTaken,
        status=201,
        also=(200,),
        errors=(400, 401, 403, 409),
        roles=BUYING,
        example=_EXAMPLE,
    ),
    Route(
        method="GET",
        path="/api/v1/orders",
        handler=get_orders,
        summary="online orders with their derived status, paged",
        response=so.OrdersOut,
        query=(
            Query("status", "routed, picking, fulfilled, short or cancelled"),
            Query("store", "a store id, e.g. S01"),
            Query("limit", "orders per page, 1 to 1000 (default 100)"),
            Query("cursor", "the previous page's next_cursor"),
        ),
        errors=(400, 401, 403),
        roles=ANY_ROLE,
        scoped=True,
    ),
    Route(
        method="GET",
        path="/api/v1/orders/{order_id}",
        handler=get_order,
        summary="one online order: status derived from the picks and sales citing it",
        response=so.OrderOut,
        errors=(400, 401, 403, 404),
        roles=ANY_ROLE,
        scoped=True,
    ),
    Route(
        method="POST",
        path="/api/v1/orders/{order_id}/cancel",
        handler=cancel_order,
        summary="cancel an online order (refused once a sale fulfils it)",
        body=so.CancelIn,
        response=so.OrderCancelled,
        status=201,
        errors=(400, 401, 403, 404, 409),
        roles=BUYING,
        example={"reason": "the customer called"},
    ),
)
