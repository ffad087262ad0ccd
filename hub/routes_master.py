"""The hub API routes for:
products, barcodes, prices per store and store group, suppliers, customers, stores.

Rows of the one route table (assembled in hub/routes.py); see hub/route.py for a row.
The rules live in hub/master.py; handlers only pick parameters and shape answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from hub import master
from hub import schemas as s
from hub import schemas_master as m
from hub.route import ADMIN, ANY_ROLE, BUYING, Call, Query, Route

#: who may set reorder points of a store
STORE_BUYING = BUYING | {"store_manager"}

LIMIT = Query("limit", "page size, 1 to 1000 (default 100)")
CURSOR = Query("cursor", "next_cursor of the previous page; left out: the first page")
ACTIVE = Query("active", "true or false: only active, or only deactivated, records")
SEARCH = Query("q", "search key, name, barcode, or pinyin initials of a Chinese name")
PAGING = (LIMIT, CURSOR, ACTIVE, SEARCH)


def post_reorder_point(call: Call[s.ReorderPointIn]) -> s.ReorderPointSet:
    call.require(call.body.location)
    event = call.hub.put_reorder_point(call.body, call.user)
    return s.ReorderPointSet(
        location=call.body.location, sku=call.body.sku, origin=event.origin, seq=event.seq
    )


# ---- products and barcodes -------------------------------------------------------------


def post_product(call: Call[m.ProductNew]) -> m.ProductOut:
    return master.create_product(call.hub, call.body, call.user)


def list_products(call: Call[None]) -> m.ProductsOut:
    return master.products(call.hub, call.query)


def get_product(call: Call[None]) -> m.ProductOut:
    return master.product_out(master.product(call.hub, call.path["sku"]))


def patch_product(call: Call[m.ProductPatch]) -> m.ProductOut:
    return master.update_product(call.hub, call.path["sku"], call.body, call.user)


def delete_product(call: Call[None]) -> m.ProductOut:
    return master.deactivate_product(call.hub, call.path["sku"], call.user)


def get_barcode(call: Call[None]) -> m.BarcodeOut:
    return master.barcode(call.hub, call.path["code"])


def put_barcode(call: Call[m.BarcodeIn]) -> m.BarcodeOut:
    return master.move_barcode(call.hub, call.path["code"], call.body.sku, call.user)


def delete_barcode(call: Call[None]) -> m.BarcodeOut:
    return master.release_barcode(call.hub, call.path["code"], call.user)


# ---- prices ----------------------------------------------------------------------------


def post_price(call: Call[m.PriceIn]) -> m.PriceOut:
    return master.create_price(call.hub, call.body, call.user)


def list_prices(call: Call[None]) -> m.PricesOut:
    return master.prices(call.hub, call.query, call.scope(call.query.get("location")))


def get_price(call: Call[None]) -> m.PriceOut:
    call.require(call.path["location"])
    return master.price(call.hub, call.path["location"], call.path["sku"])


def patch_price(call: Call[m.PricePatch]) -> m.PriceOut:
    path = call.path
    return master.update_price(call.hub, path["location"], path["sku"], call.body, call.user)


def delete_price(call: Call[None]) -> m.PriceOut:
    return master.deactivate_price(call.hub, call.path["location"], call.path["sku"], call.user)


def post_price_change(call: Call[m.PriceChangeIn]) -> m.PriceChangeOut:
    return master.change_price(call.hub, call.body, call.user)


# ---- suppliers, customers, stores: one shape each --------------------------------------


def _records(
    kind: master.Kind,
    out: type[msgspec.Struct],
    page: type[msgspec.Struct],
    new: type[msgspec.Struct],
    patch: type[msgspec.Struct],
    writers: frozenset[str],
    example: dict[str, Any],
    filters: tuple[Query, ...] = (),
) -> tuple[Route, ...]:
    """create, list, get, update and deactivate routes of one kind of record."""
    base, one = f"/api/v1/{kind.path}", f"/api/v1/{kind.path}/{{key}}"

    def shaped(record: dict[str, Any]) -> Any:
        fields = {name: record.get(name) for name in out.__struct_fields__}
        try:
            return msgspec.convert(fields, out, strict=False)
        except msgspec.ValidationError:  # a register of an odd type (a node wrote it)
            return out(**{name: _typed(out, name, value) for name, value in fields.items()})

    def post(call: Call[Any]) -> Any:
        return shaped(master.create(call.hub, kind, call.body, call.user))

    def listed(call: Call[None]) -> Any:
        items, cursor = master.page(call.hub, kind, call.query)
        return page(items=[shaped(i) for i in items], next_cursor=cursor)

    def got(call: Call[None]) -> Any:
        return shaped(master.get(call.hub, kind, call.path["key"]))

    def patched(call: Call[Any]) -> Any:
        return shaped(master.update(call.hub, kind, call.path["key"], call.body, call.user))

    def deleted(call: Call[None]) -> Any:
        return shaped(master.deactivate(call.hub, kind, call.path["key"], call.user))

    handlers: dict[str, Callable[[Call[Any]], Any]] = {
        "post": post,
        "list": listed,
        "get": got,
        "patch": patched,
        "delete": deleted,
    }
    for name, handler in handlers.items():
        handler.__name__ = f"{name}_{kind.entity}"
    noun = kind.noun
    patch_example = {k: v for k, v in example.items() if k != kind.key}
    return (
        Route(
            method="POST",
            path=base,
            handler=post,
            summary=f"create a {noun} (409 if it exists)",
            body=new,
            response=out,
            status=201,
            errors=(400, 401, 403, 409),
            roles=writers,
            example=example,
        ),
        Route(
            method="GET",
            path=base,
            handler=listed,
            summary=f"{noun}s by {kind.key}, a page at a time",
            response=page,
            query=(*PAGING, *filters),
            errors=(400, 401),
            roles=ANY_ROLE,
        ),
        Route(
            method="GET",
            path=one,
            handler=got,
            summary=f"one {noun}",
            response=out,
            errors=(401, 404),
            roles=ANY_ROLE,
        ),
        Route(
            method="PATCH",
            path=one,
            handler=patched,
            summary=f"change a {noun}: fields left out keep their value",
            body=patch,
            response=out,
            errors=(400, 401, 403, 404),
            roles=writers,
            example=patch_example,
        ),
        Route(
            method="DELETE",
            path=one,
            handler=deleted,
            summary=f"deactivate a {noun} (it is kept, inactive)",
            response=out,
            errors=(401, 403, 404),
            roles=writers,
        ),
    )


def _typed(out: type[msgspec.Struct], name: str, value: Any) -> Any:
    """One field of a record as its Struct types it, or None when it cannot be."""
    kind = next(f.type for f in msgspec.structs.fields(out) if f.name == name)
    try:
        return msgspec.convert(value, kind, strict=False)
    except msgspec.ValidationError:
        return None


_SKU = "/api/v1/products/{sku}"
_CODE = "/api/v1/barcodes/{code}"
_PRICE = "/api/v1/prices/{location}/{sku}"

ROUTES: tuple[Route, ...] = (
    Route(
        method="POST",
        path="/api/v1/products",
        handler=post_product,
        summary="create a product (409 if the SKU or one of its barcodes is taken)",
        body=m.ProductNew,
        response=m.ProductOut,
        status=201,
        errors=(400, 401, 403, 409),
        roles=BUYING,
        example={
            "sku": "A1",
            "name": "苹果 Apple",
            "barcodes": ["6901234567892"],
            "category": "fruit",
            "unit": "pcs",
            "price": "2.50",
        },
    ),
    Route(
        method="GET",
        path="/api/v1/products",
        handler=list_products,
        summary="products by SKU, a page at a time",
        response=m.ProductsOut,
        query=(*PAGING, Query("category", "only products of this category")),
        errors=(400, 401),
        roles=ANY_ROLE,
    ),
    Route(
        method="GET",
        path=_SKU,
        handler=get_product,
        summary="one product",
        response=m.ProductOut,
        errors=(401, 404),
        roles=ANY_ROLE,
    ),
    Route(
        method="PATCH",
        path=_SKU,
        handler=patch_product,
        summary="change a product: fields left out keep their value",
        body=m.ProductPatch,
        response=m.ProductOut,
        errors=(400, 401, 403, 404, 409),
        roles=BUYING,
        example={"price": "2.80", "barcodes": ["6901234567892", "06901234567892"]},
    ),
    Route(
        method="DELETE",
        path=_SKU,
        handler=delete_product,
        summary="deactivate a product (it is kept, inactive)",
        response=m.ProductOut,
        errors=(401, 403, 404),
        roles=BUYING,
    ),
    Route(
        method="GET",
        path=_CODE,
        handler=get_barcode,
        summary="which product a barcode scans as",
        response=m.BarcodeOut,
        roles=ANY_ROLE,
        errors=(401,),
    ),
    Route(
        method="PUT",
        path=_CODE,
        handler=put_barcode,
        summary="a barcode scans as this product (moved from any other)",
        body=m.BarcodeIn,
        response=m.BarcodeOut,
        errors=(400, 401, 403, 404),
        roles=BUYING,
        example={"sku": "A1"},
    ),
    Route(
        method="DELETE",
        path=_CODE,
        handler=delete_barcode,
        summary="release a barcode: it scans as no product",
        response=m.BarcodeOut,
        errors=(401, 403, 404),
        roles=BUYING,
    ),
    Route(
        method="POST",
        path="/api/v1/prices",
        handler=post_price,
        summary="a store's own price for a product (409 if it has one)",
        body=m.PriceIn,
        response=m.PriceOut,
        status=201,
        errors=(400, 401, 403, 404, 409),
        roles=BUYING,
        example={"location": "S01", "sku": "A1", "price": "2.30"},
    ),
    Route(
        method="GET",
        path="/api/v1/prices",
        handler=list_prices,
        summary="stores' own prices, by store and SKU, a page at a time",
        response=m.PricesOut,
        query=(
            LIMIT,
            CURSOR,
            Query("location", "only this store's"),
            Query("sku", "only this product's"),
        ),
        errors=(400, 401, 403),
        roles=ANY_ROLE,
        scoped=True,
    ),
    Route(
        method="GET",
        path=_PRICE,
        handler=get_price,
        summary="a store's own price for a product, beside the default",
        response=m.PriceOut,
        errors=(401, 403, 404),
        roles=ANY_ROLE,
        scoped=True,
    ),
    Route(
        method="PATCH",
        path=_PRICE,
        handler=patch_price,
        summary="change a store's own price",
        body=m.PricePatch,
        response=m.PriceOut,
        errors=(400, 401, 403, 404),
        roles=BUYING,
        example={"price": "2.20"},
    ),
    Route(
        method="DELETE",
        path=_PRICE,
        handler=delete_price,
        summary="deactivate a store's own price: it sells at the default again",
        response=m.PriceOut,
        errors=(401, 403, 404),
        roles=BUYING,
    ),
    Route(
        method="POST",
        path="/api/v1/price-changes",
        handler=post_price_change,
        summary="change a price for a store group (one override per store) or for all",
        body=m.PriceChangeIn,
        response=m.PriceChangeOut,
        status=201,
        errors=(400, 401, 403, 404),
        roles=BUYING,
        example={"sku": "A1", "price": "2.40", "group": "pilot"},
    ),
    *_records(
        master.SUPPLIER,
        m.SupplierOut,
        m.SuppliersOut,
        m.SupplierNew,
        m.SupplierPatch,
        BUYING,
        {
            "code": "ACME",
            "name": "ACME 食品",
            "contact": "王经理",
            "phone": "021-5555-0100",
            "lead_time_days": 3,
        },
    ),
    *_records(
        master.CUSTOMER,
        m.CustomerOut,
        m.CustomersOut,
        m.CustomerNew,
        m.CustomerPatch,
        BUYING,
        {"id": "C1001", "name": "李娜", "phone": "13800000000", "address": "上海市 1 号"},
    ),
    *_records(
        master.STORE,
        m.StoreOut,
        m.StoresOut,
        m.StoreNew,
        m.StorePatch,
        ADMIN,
        {
            "id": "S01",
            "name": "一号店",
            "address": "上海市 2 号",
            "kind": "store",
            "group": "pilot",
        },
        filters=(
            Query("kind", "store or warehouse"),
            Query("group", "only stores of this roll-out group"),
        ),
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
