"""Head office's master data: products and barcodes, prices per store and store group,
suppliers, customers, stores. Commands write `Upsert`s on the hub log (sent to every
node); nothing is deleted: deactivating sets `active: false`, releasing a barcode or a
price override sets its register to None.

Every record is per-field last-writer-wins (docs/master-data.md): a create refuses a key
the hub already holds (409), an update refuses one it does not (404); both write only the
fields given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from hub import schemas_master as m
from hub.route import Conflict
from hub.schemas import ProductIn
from hub.service import (
    API_USER,
    HubService,
    NotFound,
    Refused,
    _key,
    _location,
    _money,
    _publishable,
    _shown,
    _text,
)
from ledger.masterdata import MasterData, RecordFilter
from ledger.readmodel import Product
from protocol import masterdata, paging
from protocol.events import Body, Entity, Event, FieldValue, Upsert
from protocol.units import format_money

#: most barcodes one product may have
MAX_BARCODES = m.MAX_BARCODES


def _data(hub: HubService) -> MasterData:
    return MasterData(hub.store.events.conn)


def write(hub: HubService, bodies: Sequence[Body], user: str = API_USER) -> list[Event]:
    """Several upserts in one unit of work: all are written (and published) or none."""
    if not bodies:
        return []
    replica = hub.store.events
    with replica.work():  # an event too big to publish is never written
        events = replica.append(bodies, user, hub.clock())
        _publishable(events)
    hub.on_written()
    return events


# ---- checks --------------------------------------------------------------------------


def _fields(body: msgspec.Struct, texts: Sequence[str], skip: Sequence[str] = ()) -> dict:
    """The fields a body gives (None: left out), texts checked for control characters."""
    fields: dict[str, FieldValue] = {}
    for name, value in msgspec.structs.asdict(body).items():
        if value is None or name in skip:
            continue
        if name in texts:
            _text(value, name, required=name == "name", one_line=name != "address")
        fields[name] = value
    return fields


def _paging(query: Mapping[str, str], name: str) -> tuple[int, str | None]:
    try:
        limit = paging.parse_limit(query.get("limit"))
        cursor = paging.decode_cursor(name, query.get("cursor"), (str,))
    except paging.PagingError as exc:
        raise Refused(str(exc)) from None
    return limit, None if cursor is None else str(cursor[0])


def _flag(query: Mapping[str, str], name: str) -> bool | None:
    try:
        return paging.parse_bool(query.get(name), name)
    except paging.PagingError as exc:
        raise Refused(str(exc)) from None


def _filter(query: Mapping[str, str]) -> RecordFilter:
    return RecordFilter(
        active=_flag(query, "active"),
        category=query.get("category") or None,
        kind=query.get("kind") or None,
        group=query.get("group") or None,
        q=query.get("q") or None,
    )


# ---- generic records: suppliers, customers, stores -----------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of record: its entity, what its key is called, and its texts."""

    entity: Entity
    key: str
    texts: tuple[str, ...]
    noun: str
    path: str


SUPPLIER = Kind("supplier", "code", ("name", "contact", "phone"), "supplier", "suppliers")
CUSTOMER = Kind("customer", "id", ("name", "phone", "address"), "customer", "customers")
STORE = Kind("store", "id", ("name", "address", "group"), "store", "stores")


def create(hub: HubService, kind: Kind, body: msgspec.Struct, user: str) -> dict[str, Any]:
    key = getattr(body, kind.key)
    key = _location(key) if kind is STORE else _key(key, kind.key)
    fields = _fields(body, kind.texts, skip=(kind.key,))
    if _data(hub).exists(kind.entity, key):
        raise Conflict(
            f"{kind.noun} {_shown(key)} exists: change it with PATCH /api/v1/{kind.path}/{key}"
        )
    fields.setdefault("active", True)
    if kind is STORE:
        fields.setdefault("kind", "store")
    write(hub, [Upsert(entity=kind.entity, key=key, fields=fields)], user)
    return get(hub, kind, key)


def update(hub: HubService, kind: Kind, key: str, body: msgspec.Struct, user: str) -> dict:
    get(hub, kind, key)  # 404 for an unknown record
    fields = _fields(body, kind.texts)
    if not fields:
        raise Refused(f"nothing to change: give one of {', '.join(body.__struct_fields__)}")
    write(hub, [Upsert(entity=kind.entity, key=key, fields=fields)], user)
    return get(hub, kind, key)


def deactivate(hub: HubService, kind: Kind, key: str, user: str) -> dict[str, Any]:
    """Sets `active: false`; the record stays (documents cite it)."""
    get(hub, kind, key)
    write(hub, [Upsert(entity=kind.entity, key=key, fields={"active": False})], user)
    return get(hub, kind, key)


def get(hub: HubService, kind: Kind, key: str) -> dict[str, Any]:
    """A record's fields, its key under `kind.key`; NotFound when never written."""
    data = _data(hub)
    if not data.exists(kind.entity, key):
        raise NotFound(f"no {kind.noun} {_shown(key)} at the hub")
    return _shaped(kind, key, data.records(kind.entity, [key])[key])


def _shaped(kind: Kind, key: str, fields: Mapping[str, object]) -> dict[str, Any]:
    active, _, record_kind, group = masterdata.record_flags(fields)
    out = {kind.key: key, **fields, "active": active}
    if kind is STORE:
        out.update(kind=record_kind or "store", group=group)
    return out


def page(
    hub: HubService, kind: Kind, query: Mapping[str, str]
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of records in key order, and the cursor of the next (None: the last)."""
    limit, after = _paging(query, kind.entity)
    data = _data(hub)
    keys = data.keys(kind.entity, after, limit + 1, _filter(query))
    more, keys = len(keys) > limit, keys[:limit]
    records = data.records(kind.entity, keys)
    items = [_shaped(kind, key, records[key]) for key in keys]
    return items, paging.encode_cursor(kind.entity, (keys[-1],)) if more else None


# ---- products ------------------------------------------------------------------------


def product_out(product: Product) -> m.ProductOut:
    price = product.default_price
    if not isinstance(price, int) or isinstance(price, bool):
        price = None  # a register of an odd type (a node wrote it) shows as no price
    return m.ProductOut(
        sku=product.sku,
        name=product.name if isinstance(product.name, str) else None,
        barcodes=list(product.barcodes),
        category=product.category if isinstance(product.category, str) else None,
        unit=str(product.unit),
        price=None if price is None else format_money(price),
        active=product.active,
    )


def product(hub: HubService, sku: str) -> Product:
    found = hub.store.events.read.product(sku)
    if found is None:
        raise NotFound(f"no product {_shown(sku)} at the hub")
    return found


def _product_fields(body: ProductIn | m.ProductNew | m.ProductPatch) -> dict[str, FieldValue]:
    fields: dict[str, FieldValue] = {}
    if body.name is not None:
        fields["name"] = _text(body.name, "name")
    if body.unit is not None:
        if body.unit not in ("pcs", "kg"):
            raise Refused("unit must be 'pcs' or 'kg'")
        fields["unit"] = body.unit
    if body.price is not None:
        fields["price"] = _money(body.price, "price")
    for name in ("category", "active"):
        value = getattr(body, name, None)
        if value is not None:
            fields[name] = _text(value, name) if name == "category" else value
    return fields


def _codes(body: ProductIn | m.ProductNew | m.ProductPatch) -> list[str] | None:
    """The barcodes a body gives: its list, and the single `barcode` of older callers."""
    codes = list(getattr(body, "barcodes", None) or [])
    single = getattr(body, "barcode", None)
    if single is not None:
        codes.append(single)
    if not codes and getattr(body, "barcodes", None) is None:
        return None
    for code in codes:
        _key(code, "barcode")
    if len(set(codes)) > MAX_BARCODES:
        raise Refused(f"barcodes: at most {MAX_BARCODES} per product")
    return list(dict.fromkeys(codes))


def _claims(hub: HubService, sku: str, codes: list[str], replace: bool) -> list[Body]:
    """The barcode upserts that give `sku` these codes (and, replacing, only these);
    a code another product holds is refused: moving one is its own request."""
    data = _data(hub)
    for code in codes:
        owner = data.barcode_owner(code)
        if owner is not None and owner != sku:
            raise Conflict(
                f"barcode {_shown(code)} belongs to product {_shown(owner)}: move it with "
                f"PUT /api/v1/barcodes/{code}"
            )
    current = hub.store.events.read.product(sku)
    have = list(current.barcodes) if current is not None else []
    wanted = codes if replace else [*have, *codes]
    return [
        Upsert(entity="barcode", key=code, fields={"sku": owner})
        for code, owner in masterdata.barcode_changes(sku, have, wanted).items()
    ]


def put_product(hub: HubService, body: ProductIn | m.ProductNew, user: str = API_USER) -> Event:
    """Create or change a product (fields left out keep their value); its barcodes are
    added as barcode registers. Returns the product's own event."""
    _key(body.sku, "sku")
    fields = _product_fields(body)
    codes = _codes(body)
    if not fields and not codes:
        raise Refused("nothing to change: give name, barcode, unit or price")
    bodies: list[Body] = [Upsert(entity="product", key=body.sku, fields=fields or {})]
    bodies += _claims(hub, body.sku, codes or [], replace=False)
    return write(hub, bodies, user)[0]


def create_product(hub: HubService, body: m.ProductNew, user: str) -> m.ProductOut:
    _key(body.sku, "sku")
    _product_fields(body)  # a bad field is refused before a taken SKU
    _codes(body)
    if _data(hub).exists("product", body.sku):
        raise Conflict(
            f"product {_shown(body.sku)} exists: change it with PATCH /api/v1/products/{body.sku}"
        )
    put_product(hub, body, user)
    return product_out(product(hub, body.sku))


def update_product(hub: HubService, sku: str, body: m.ProductPatch, user: str) -> m.ProductOut:
    product(hub, sku)
    fields = _product_fields(body)
    codes = _codes(body)
    if not fields and codes is None:
        raise Refused("nothing to change: give name, barcodes, category, unit, price or active")
    bodies: list[Body] = [Upsert(entity="product", key=sku, fields=fields)] if fields else []
    if codes is not None:
        bodies += _claims(hub, sku, codes, replace=True)
    write(hub, bodies, user)
    return product_out(product(hub, sku))


def deactivate_product(hub: HubService, sku: str, user: str) -> m.ProductOut:
    product(hub, sku)
    write(hub, [Upsert(entity="product", key=sku, fields={"active": False})], user)
    return product_out(product(hub, sku))


def products(hub: HubService, query: Mapping[str, str]) -> m.ProductsOut:
    limit, after = _paging(query, "product")
    keys = _data(hub).keys("product", after, limit + 1, _filter(query))
    more, keys = len(keys) > limit, keys[:limit]
    read = hub.store.events.read
    items = [product_out(p) for key in keys if (p := read.product(key)) is not None]
    cursor = paging.encode_cursor("product", (keys[-1],)) if more else None
    return m.ProductsOut(items=items, next_cursor=cursor)


def barcode(hub: HubService, code: str) -> m.BarcodeOut:
    return m.BarcodeOut(code=code, sku=_data(hub).barcode_owner(code))


def move_barcode(hub: HubService, code: str, sku: str, user: str) -> m.BarcodeOut:
    """Claim a barcode for `sku`, from whichever product held it."""
    _key(code, "barcode")
    product(hub, _key(sku, "sku"))
    write(hub, [Upsert(entity="barcode", key=code, fields={"sku": sku})], user)
    return barcode(hub, code)


def release_barcode(hub: HubService, code: str, user: str) -> m.BarcodeOut:
    if _data(hub).barcode_owner(code) is None:
        raise NotFound(f"no product has barcode {_shown(code)}")
    write(hub, [Upsert(entity="barcode", key=code, fields={"sku": None})], user)
    return barcode(hub, code)


# ---- prices --------------------------------------------------------------------------


def price_out(hub: HubService, location: str, sku: str) -> m.PriceOut:
    override = _data(hub).override(location, sku)
    found = hub.store.events.read.product(sku)
    default = found.default_price if found is not None else None
    return m.PriceOut(
        location=location,
        sku=sku,
        price=None if override is None else format_money(override),
        default=None if default is None else format_money(default),
    )


def _override(hub: HubService, location: str, sku: str, price: str, user: str) -> m.PriceOut:
    fen = _money(price, "price")
    key = masterdata.price_key(location, sku)
    write(hub, [Upsert(entity="price", key=key, fields={"price": fen})], user)
    return price_out(hub, location, sku)


def create_price(hub: HubService, body: m.PriceIn, user: str) -> m.PriceOut:
    location, sku = _location(body.location), _key(body.sku, "sku")
    product(hub, sku)
    if _data(hub).override(location, sku) is not None:
        raise Conflict(
            f"{location} has its own price for {_shown(sku)}: change it with "
            f"PATCH /api/v1/prices/{location}/{sku}"
        )
    return _override(hub, location, sku, body.price, user)


def price(hub: HubService, location: str, sku: str) -> m.PriceOut:
    if _data(hub).override(location, sku) is None:
        raise NotFound(f"{_shown(location)} has no price of its own for {_shown(sku)}")
    return price_out(hub, location, sku)


def update_price(
    hub: HubService, location: str, sku: str, body: m.PricePatch, user: str
) -> m.PriceOut:
    price(hub, location, sku)
    return _override(hub, location, sku, body.price, user)


def deactivate_price(hub: HubService, location: str, sku: str, user: str) -> m.PriceOut:
    """The store sells at the default price again (its override register becomes None)."""
    price(hub, location, sku)
    key = masterdata.price_key(location, sku)
    write(hub, [Upsert(entity="price", key=key, fields={"price": None})], user)
    return price_out(hub, location, sku)


def prices(hub: HubService, query: Mapping[str, str], location: str | None) -> m.PricesOut:
    try:
        limit = paging.parse_limit(query.get("limit"))
        cursor = paging.decode_cursor("price", query.get("cursor"), (str, str))
    except paging.PagingError as exc:
        raise Refused(str(exc)) from None
    after = None if cursor is None else (str(cursor[0]), str(cursor[1]))
    rows = _data(hub).overrides(after, limit + 1, location, query.get("sku") or None)
    more, rows = len(rows) > limit, rows[:limit]
    items = [price_out(hub, r.location, r.sku) for r in rows]
    last = (rows[-1].location, rows[-1].sku) if more else None
    return m.PricesOut(
        items=items, next_cursor=None if last is None else paging.encode_cursor("price", last)
    )


def change_price(hub: HubService, body: m.PriceChangeIn, user: str) -> m.PriceChangeOut:
    """A group's stores each get an override (the pilot roll-out); without a group the
    default price changes, for every store without its own."""
    sku = _key(body.sku, "sku")
    product(hub, sku)
    fen = _money(body.price, "price")
    if body.group is None:
        write(hub, [Upsert(entity="product", key=sku, fields={"price": fen})], user)
        return m.PriceChangeOut(
            sku=sku, price=format_money(fen), group=None, locations=[], default=True
        )
    stores = masterdata.rollout(_data(hub).stores(), body.group)
    if not stores:
        raise Refused(
            f"group: no active store is in group {_shown(body.group)}: give stores a group "
            "with PATCH /api/v1/stores/{id}"
        )
    write(
        hub,
        [
            Upsert(entity="price", key=masterdata.price_key(s, sku), fields={"price": fen})
            for s in stores
        ],
        user,
    )
    return m.PriceChangeOut(
        sku=sku, price=format_money(fen), group=body.group, locations=stores, default=False
    )
