"""The hub API routes for:
products, barcodes, prices per store and store group, suppliers, customers, stores.

Rows of the one route table (assembled in hub/routes.py); see hub/route.py for a row.
"""

from __future__ import annotations

from hub import schemas as s
from hub.route import BUYING, Call, Route

#: who may set reorder points of a store
STORE_BUYING = BUYING | {"store_manager"}


def post_product(call: Call[s.ProductIn]) -> s.ProductCreated:
    event = call.hub.put_product(call.body, call.user)
    return s.ProductCreated(sku=call.body.sku, origin=event.origin, seq=event.seq)


def post_reorder_point(call: Call[s.ReorderPointIn]) -> s.ReorderPointSet:
    call.require(call.body.location)
    event = call.hub.put_reorder_point(call.body, call.user)
    return s.ReorderPointSet(
        location=call.body.location, sku=call.body.sku, origin=event.origin, seq=event.seq
    )


ROUTES: tuple[Route, ...] = (
    Route(
        method="POST",
        path="/api/v1/products",
        handler=post_product,
        summary="create or change a product",
        body=s.ProductIn,
        response=s.ProductCreated,
        status=201,
        errors=(400, 401, 403),
        roles=BUYING,
        example={"sku": "A1", "name": "Apple", "unit": "pcs", "price": "2.50"},
    ),
    Route(
        method="POST",
        path="/api/v1/reorder-points",
        handler=post_reorder_point,
        summary="reorder point of a product at a store",
        body=s.ReorderPointIn,
        response=s.ReorderPointSet,
        status=201,
        errors=(400, 401, 403),
        roles=STORE_BUYING,
        scoped=True,
        example={"location": "S01", "sku": "A1", "point": "5", "qty": "24"},
    ),
)
