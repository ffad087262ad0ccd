"""The hub's HTTP API (aiohttp): JSON in the same shapes as the node's CLI."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from hub.store import HubStore
from protocol.units import format_qty

log = logging.getLogger("kucun.hub.api")

STORE_KEY = web.AppKey("store", HubStore)
PUBLIC_PATHS = frozenset({"/healthz"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    return await handler(request)


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    store.conn.execute("SELECT 1").fetchone()
    return web.json_response({"status": "ok", "origins": store.events.heads()})


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


def make_app(store: HubStore) -> web.Application:
    app = web.Application(middlewares=[auth_middleware])
    app[STORE_KEY] = store
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/stock", get_stock)
    app.router.add_get("/api/v1/rejected", get_rejected)
    return app
