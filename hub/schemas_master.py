"""The bodies of the master-data routes: products and their barcodes, prices per store and
store group, suppliers, customers, stores.

A create body names the record's key and may give any field; an update body (PATCH) has
no key and changes only the fields it gives (per-field last-writer-wins: the others keep
their value). Every field is bounded by its type (hub/schemas.py); the service checks
what a type cannot (control characters, blank names, amounts).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from hub.schemas import Amount, Barcode, Key, LocationId, Name, Note, Strict, Unit

#: most barcodes one product may have (an event per code: the change stays publishable)
MAX_BARCODES = 50
Barcodes = Annotated[list[Barcode], Meta(max_length=MAX_BARCODES)]
#: a category, a store group: short ids a list filters on
Tag = Annotated[str, Meta(min_length=1, max_length=64, description="one line, e.g. drinks")]
Phone = Annotated[str, Meta(max_length=32, description="a phone number as dialled")]
LeadDays = Annotated[int, Meta(ge=0, le=365, description="days from order to delivery")]
Cursor = str | None
StoreKind = Literal["store", "warehouse"]


# ---- products --------------------------------------------------------------------------


class ProductNew(Strict):
    """A new product. `barcodes` are all the codes that scan as it (`barcode`, one more,
    is kept for older callers); `price` is the default, in yuan, that every store sells
    at unless it has its own (POST /api/v1/prices)."""

    sku: Key
    name: Name | None = None
    barcode: Barcode | None = None
    barcodes: Barcodes | None = None
    category: Tag | None = None
    unit: Unit | None = None
    price: Amount | None = None
    active: bool | None = None


class ProductPatch(Strict):
    """Change a product: only the fields given. `barcodes` replaces the product's list
    (codes left out are released; a code another product holds is refused: move it with
    PUT /api/v1/barcodes/{code})."""

    name: Name | None = None
    barcodes: Barcodes | None = None
    category: Tag | None = None
    unit: Unit | None = None
    price: Amount | None = None
    active: bool | None = None


class ProductOut(Strict):
    """A product as head office holds it; `price` is the default price."""

    sku: str
    name: str | None
    barcodes: list[str]
    category: str | None
    unit: str
    price: str | None
    active: bool


class ProductsOut(Strict):
    """A page of products by SKU; pass `next_cursor` as `cursor` for the next (None: last)."""

    items: list[ProductOut]
    next_cursor: Cursor


class BarcodeIn(Strict):
    """The product a barcode scans as: claiming it moves it from any other product."""

    sku: Key


class BarcodeOut(Strict):
    """Which product a barcode names (None: released, or never claimed)."""

    code: str
    sku: str | None


# ---- prices ----------------------------------------------------------------------------


class PriceIn(Strict):
    """A store's own price for a product, instead of the default."""

    location: LocationId
    sku: Key
    price: Amount


class PricePatch(Strict):
    price: Amount


class PriceOut(Strict):
    """A store's price for a product: its override (`price`, None once deactivated) and
    what it sells at without one (`default`)."""

    location: str
    sku: str
    price: str | None
    default: str | None


class PricesOut(Strict):
    """A page of price overrides by store and SKU; `next_cursor` as for products."""

    items: list[PriceOut]
    next_cursor: Cursor


class PriceChangeIn(Strict):
    """A price change: for one store group (the pilot roll-out: one override per store
    the group has now), or without `group` for every store (the default price)."""

    sku: Key
    price: Amount
    group: Tag | None = None


class PriceChangeOut(Strict):
    """Where the change went: the stores given an override, or `default` for all."""

    sku: str
    price: str
    group: str | None
    locations: list[str]
    default: bool


# ---- suppliers, customers, stores ------------------------------------------------------


class SupplierNew(Strict):
    code: Key
    name: Name
    contact: Name | None = None
    phone: Phone | None = None
    lead_time_days: LeadDays | None = None
    active: bool | None = None


class SupplierPatch(Strict):
    name: Name | None = None
    contact: Name | None = None
    phone: Phone | None = None
    lead_time_days: LeadDays | None = None
    active: bool | None = None


class SupplierOut(Strict):
    code: str
    name: str | None
    contact: str | None
    phone: str | None
    lead_time_days: int | None
    active: bool


class SuppliersOut(Strict):
    items: list[SupplierOut]
    next_cursor: Cursor


class CustomerNew(Strict):
    """A customer of online orders."""

    id: Key
    name: Name
    phone: Phone | None = None
    address: Note | None = None
    active: bool | None = None


class CustomerPatch(Strict):
    name: Name | None = None
    phone: Phone | None = None
    address: Note | None = None
    active: bool | None = None


class CustomerOut(Strict):
    id: str
    name: str | None
    phone: str | None
    address: str | None
    active: bool


class CustomersOut(Strict):
    items: list[CustomerOut]
    next_cursor: Cursor


class StoreNew(Strict):
    """A store or warehouse; `group` names the roll-out group a price change may go to
    first (e.g. "pilot")."""

    id: LocationId
    name: Name
    address: Note | None = None
    kind: StoreKind | None = None
    group: Tag | None = None
    active: bool | None = None


class StorePatch(Strict):
    name: Name | None = None
    address: Note | None = None
    kind: StoreKind | None = None
    group: Tag | None = None
    active: bool | None = None


class StoreOut(Strict):
    id: str
    name: str | None
    address: str | None
    kind: str
    group: str | None
    active: bool


class StoresOut(Strict):
    items: list[StoreOut]
    next_cursor: Cursor
