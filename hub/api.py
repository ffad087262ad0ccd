"""The hub's HTTP API (aiohttp): JSON in the same shapes as the node's CLI.

Writes (products, purchase orders) become events on the hub's own logs, which the hub
publishes to the nodes; nothing is edited in place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from hub.store import HubStore
from protocol import units
from protocol.events import (
    COUNT,
    DocLine,
    Document,
    Movement,
    Upsert,
    hub_origin_for,
    valid_replica_id,
)
from protocol.hlc import physical_ms
from protocol.units import format_money, format_qty

log = logging.getLogger("kucun.hub.api")

STORE_KEY = web.AppKey("store", HubStore)
WRITTEN_KEY = web.AppKey("on_written", Callable)
PUBLIC_PATHS = frozenset({"/healthz"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: str
    name: str | None = None
    barcode: str | None = None
    unit: str | None = None
    price: str | None = None


class LineIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: str
    qty: str
    unit_cost: str | None = None


class PurchaseOrderIn(msgspec.Struct, forbid_unknown_fields=True):
    location: str
    supplier: str
    lines: list[LineIn]
    note: str | None = None


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    user: str
    name: str | None = None
    role: str | None = None
    locations: str | None = None
    active: bool | None = None


class CorrectionIn(msgspec.Struct, forbid_unknown_fields=True):
    location: str
    sku: str
    qty: str
    reason: str
    lot: str | None = None


ROLES = ("cashier", "clerk", "manager", "finance", "admin")


class BadRequest(Exception):
    pass


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return error(401, "missing bearer token: send 'Authorization: Bearer <token>'")
    if request.app[STORE_KEY].token_role(token.strip()) is None:
        return error(401, "unknown or revoked token")
    try:
        return await handler(request)
    except BadRequest as exc:
        return error(400, str(exc))


async def _body(request: web.Request, kind: type):
    try:
        return msgspec.json.decode(await request.read(), type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadRequest(f"invalid request body: {exc}") from None


def _qty(text: str, what: str) -> int:
    try:
        value = units.parse_qty(text)
    except units.AmountError as exc:
        raise BadRequest(f"{what}: {exc}") from None
    if value <= 0:
        raise BadRequest(f"{what}: quantity must be more than zero")
    return value


def _money(text: str, what: str) -> int:
    try:
        value = units.parse_money(text)
    except units.AmountError as exc:
        raise BadRequest(f"{what}: {exc}") from None
    if value < 0:
        raise BadRequest(f"{what}: must not be negative")
    return value


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    store.conn.execute("SELECT 1").fetchone()
    return web.json_response(
        {
            "status": "ok",
            # verified and confirmed to the node
            "origins": store.events.heads(),
            # shown in stock, cost and documents (folding may trail a large backlog)
            "folded": store.events.folded(),
            "unfolded": store.events.unfolded(),
        }
    )


async def get_stock(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    rows = store.events.stock(
        location=request.query.get("location") or None,
        sku=request.query.get("sku") or None,
    )
    return web.json_response(
        {
            "items": [
                {"location": r.location, "sku": r.sku, "lot": r.lot, "qty": format_qty(r.qty)}
                for r in rows
            ]
        }
    )


async def get_rejected(request: web.Request) -> web.Response:
    return web.json_response({"items": request.app[STORE_KEY].events.rejected()})


async def get_nodes(request: web.Request) -> web.Response:
    """Per origin: what the hub has, what it waits for, and how far behind it is."""
    store = request.app[STORE_KEY]
    now = wall_ms()
    gaps = store.events.gaps()
    held = {}
    for item in store.events.held():
        held.setdefault(item["origin"], []).append(item)
    last_ingest = dict(store.conn.execute("SELECT origin, last_ingest_ms FROM ingest_log"))
    heads = store.events.heads()
    folded = store.events.folded()
    # an origin whose seq 1 is held or missing has no head yet, and must show all the more
    known = sorted(set(heads) | set(gaps) | set(held) | set(last_ingest))
    items = []
    for origin in known:
        seq = heads.get(origin, 0)
        hlc = store.events.head_hlc(origin)
        (waiting,) = store.conn.execute(
            "SELECT count(*) FROM events WHERE origin = ? AND seq > ?", (origin, seq)
        ).fetchone()
        items.append(
            {
                "origin": origin,
                "ingested_seq": seq,
                "folded_seq": folded.get(origin, 0),
                "waiting": waiting,
                "missing": [{"first": a, "last": b} for a, b in gaps.get(origin, [])],
                "held": held.get(origin, []),
                "last_event_age_s": (
                    round(max(0, now - physical_ms(hlc)) / 1000, 3) if hlc is not None else None
                ),
                "last_ingest_age_s": (
                    round((now - last_ingest[origin]) / 1000, 3) if origin in last_ingest else None
                ),
            }
        )
    return web.json_response({"items": items})


async def post_product(request: web.Request) -> web.Response:
    body = await _body(request, ProductIn)
    if not body.sku.strip():
        raise BadRequest("sku must not be empty")
    fields: dict = {}
    if body.name is not None:
        fields["name"] = body.name
    if body.barcode is not None:
        fields["barcode"] = body.barcode
    if body.unit is not None:
        if body.unit not in ("pcs", "kg"):
            raise BadRequest("unit must be 'pcs' or 'kg'")
        fields["unit"] = body.unit
    if body.price is not None:
        fields["price"] = _money(body.price, "price")
    if not fields:
        raise BadRequest("nothing to change: give name, barcode, unit or price")
    store = request.app[STORE_KEY]
    (event,) = store.events.append(
        [Upsert(entity="product", key=body.sku, fields=fields)], "api", wall_ms()
    )
    request.app[WRITTEN_KEY]()
    return web.json_response(
        {"sku": body.sku, "origin": event.origin, "seq": event.seq}, status=201
    )


async def post_purchase_order(request: web.Request) -> web.Response:
    body = await _body(request, PurchaseOrderIn)
    if not valid_replica_id(body.location):
        raise BadRequest(f"location {body.location!r} is not a valid location id")
    if not body.lines:
        raise BadRequest("a purchase order needs at least one line")
    lines = [
        DocLine(
            sku=line.sku,
            qty=_qty(line.qty, f"line {i} qty"),
            unit_cost=_money(line.unit_cost, f"line {i} unit_cost")
            if line.unit_cost is not None
            else None,
        )
        for i, line in enumerate(body.lines, start=1)
    ]
    store = request.app[STORE_KEY]
    origin = hub_origin_for(body.location)
    doc = f"PO-{body.location}-{store.events.head_seq(origin) + 1}"
    header = Document(
        doc=doc,
        type="purchase_order",
        location=body.location,
        counterparty=body.supplier,
        lines=lines,
        note=body.note,
    )
    store.events.append([header], "api", wall_ms(), origin=origin)
    request.app[WRITTEN_KEY]()
    return web.json_response({"doc": doc}, status=201)


async def post_user(request: web.Request) -> web.Response:
    """Users and roles are master data: per-field last-writer-wins, sent to every node."""
    body = await _body(request, UserIn)
    if not body.user.strip():
        raise BadRequest("user must not be empty")
    if body.role is not None and body.role not in ROLES:
        raise BadRequest(f"role must be one of: {', '.join(ROLES)}")
    fields = {
        k: v for k, v in msgspec.structs.asdict(body).items() if k != "user" and v is not None
    }
    if not fields:
        raise BadRequest("nothing to change: give name, role, locations or active")
    store = request.app[STORE_KEY]
    (event,) = store.events.append(
        [Upsert(entity="user", key=body.user, fields=fields)], "api", wall_ms()
    )
    request.app[WRITTEN_KEY]()
    return web.json_response({"user": body.user, "seq": event.seq}, status=201)


async def post_correction(request: web.Request) -> web.Response:
    """A head-office stock correction: a new movement against @count, never an edit."""
    body = await _body(request, CorrectionIn)
    if not valid_replica_id(body.location):
        raise BadRequest(f"location {body.location!r} is not a valid location id")
    try:
        qty = units.parse_qty(body.qty)
    except units.AmountError as exc:
        raise BadRequest(f"qty: {exc}") from None
    if qty == 0:
        raise BadRequest("qty: a correction of zero changes nothing")
    if not body.reason.strip():
        raise BadRequest("reason: say why the stock is corrected")
    store = request.app[STORE_KEY]
    origin = hub_origin_for(body.location)
    doc = f"ADJ-{body.location}-{store.events.head_seq(origin) + 1}"
    src, dst = (COUNT, body.location) if qty > 0 else (body.location, COUNT)
    store.events.append(
        [
            Document(doc=doc, type="count", location=body.location, note=body.reason),
            Movement(sku=body.sku, qty=abs(qty), src=src, dst=dst, lot=body.lot, doc=doc),
        ],
        "api",
        wall_ms(),
        origin=origin,
    )
    request.app[WRITTEN_KEY]()
    return web.json_response({"doc": doc}, status=201)


async def get_document(request: web.Request) -> web.Response:
    status = request.app[STORE_KEY].events.document(request.match_info["doc"])
    if status is None:
        return error(404, f"no document {request.match_info['doc']!r} at the hub")
    return web.json_response(
        {
            "doc": status.doc,
            "type": status.type,
            "status": status.status,
            "lines": [
                {
                    "sku": line.sku,
                    "expected": format_qty(line.expected),
                    "done": format_qty(line.done),
                    "shipped": format_qty(line.shipped),
                    "discrepancy": format_qty(line.discrepancy),
                }
                for line in status.lines
            ],
        }
    )


async def get_cost(request: web.Request) -> web.Response:
    rows = request.app[STORE_KEY].events.cost(
        location=request.query.get("location") or None, sku=request.query.get("sku") or None
    )
    return web.json_response(
        {
            "items": [
                {
                    "location": r.location,
                    "sku": r.sku,
                    "qty": format_qty(r.qty),
                    "value": format_money(r.value),
                }
                for r in rows
            ]
        }
    )


async def get_openapi(request: web.Request) -> web.Response:
    from hub import openapi

    return web.json_response(openapi.build())


def make_app(store: HubStore, on_written: Callable[[], None] | None = None) -> web.Application:
    app = web.Application(middlewares=[auth_middleware])
    app[STORE_KEY] = store
    app[WRITTEN_KEY] = on_written or (lambda: None)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/stock", get_stock)
    app.router.add_get("/api/v1/cost", get_cost)
    app.router.add_get("/api/v1/rejected", get_rejected)
    app.router.add_get("/api/v1/nodes", get_nodes)
    app.router.add_post("/api/v1/products", post_product)
    app.router.add_post("/api/v1/purchase-orders", post_purchase_order)
    app.router.add_post("/api/v1/users", post_user)
    app.router.add_post("/api/v1/corrections", post_correction)
    app.router.add_get("/api/v1/documents/{doc}", get_document)
    app.router.add_get("/api/v1/openapi.json", get_openapi)
    return app
