"""The hub's HTTP edge (aiohttp): tokens, body decoding, errors and encoding.

What each route does is in hub/routes.py, the business rules in hub/service.py. Writes
(products, purchase orders, users, corrections) become events on the hub's own logs,
which the hub publishes to the nodes; nothing is edited in place.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import msgspec
from aiohttp import web

from hub import openapi
from hub.route import Call, Conflict, Forbidden, Principal, Route, Unavailable
from hub.routes import ROUTES
from hub.schemas import Error, OpenApiDocument
from hub.service import HubService, NotFound, Refused
from hub.store import HubStore

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SERVICE_KEY = web.AppKey("service", HubService)
#: the table row behind each registered handler, so the middleware knows who may call it
ENDPOINTS_KEY = web.AppKey("endpoints", dict)
#: the caller, set by the auth middleware for the handler
PRINCIPAL_KEY = web.RequestKey("principal", Principal)

_encoder = msgspec.json.Encoder()


def respond(value: msgspec.Struct, status: int = 200) -> web.Response:
    return web.Response(
        body=_encoder.encode(value),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def error(status: int, message: str) -> web.Response:
    return respond(Error(error=message), status)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A route is public only when its table row says so; everything else, unknown paths
    included, needs a valid token."""
    route: Route | None = request.app[ENDPOINTS_KEY].get(request.match_info.handler)
    if route is not None and route.public:
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return error(401, "missing bearer token: send 'Authorization: Bearer <token>'")
    principal = request.app[SERVICE_KEY].principal(token.strip())
    if principal is None:
        return error(401, "unknown or revoked token")
    if route is not None and route.roles is not None and principal.role not in route.roles:
        return error(
            403,
            f"a {principal.role} token may not {route.method} {route.path}: "
            f"it needs one of the roles {', '.join(sorted(route.roles))}",
        )
    request[PRINCIPAL_KEY] = principal
    return await handler(request)


async def _body(request: web.Request, route: Route) -> Any:
    """The route's request Struct, or None for a route without a body."""
    if route.body is None:
        return None
    try:
        return msgspec.json.decode(await request.read(), type=route.body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        message = str(exc)
        if _AMOUNT_AS_NUMBER.search(message):
            # JSON numbers are floats or unbounded ints: amounts travel as exact decimals
            message += '; send quantities and amounts as decimal strings, e.g. "1.250"'
        raise Refused(f"invalid request body: {message}") from None


#: msgspec's message for a JSON number where a quantity or amount string belongs
_AMOUNT_AS_NUMBER = re.compile(
    r"(got `(int|float)`|Number out of range) - at `\$[^`]*\.(qty|price|unit_cost)`"
)


def _inline(service: HubService) -> Execute:
    async def execute(work: Callable[[HubService], msgspec.Struct], route: Route) -> msgspec.Struct:
        return work(service)

    return execute


def _endpoint(route: Route, service: HubService, document: OpenApiDocument) -> Handler:
    """The aiohttp handler for one row: decode, call, encode what the row declares."""

    async def endpoint(request: web.Request) -> web.Response:
        try:
            call = Call(
                hub=service,
                body=await _body(request, route),
                query={q.name: v for q in route.query if (v := request.query.get(q.name))},
                path={name: request.match_info[name] for name in route.path_params},
                openapi=document,
                principal=request.get(PRINCIPAL_KEY, Principal("anonymous", "viewer")),
            )
            execute: Execute = request.app[EXECUTE_KEY]  # type: ignore[assignment]
            result = await execute(lambda hub: route.handler(replace(call, hub=hub)), route)
        except Forbidden as exc:
            return error(403, str(exc))
        except Conflict as exc:
            return error(409, str(exc))
        except Unavailable as exc:
            return error(503, str(exc))
        except NotFound as exc:
            return error(404, str(exc))
        except Refused as exc:
            return error(400, str(exc))
        if not isinstance(result, route.response):
            raise TypeError(f"{route.path} returned {type(result).__name__}")
        return respond(result, route.status)

    endpoint.__name__ = route.handler.__name__
    return endpoint


#: runs one handler's work against a HubService and returns its answer: by default at
#: once on the event loop with the app's own service; `hub serve` passes one that runs it
#: on a thread with its own connection, so SQLite never blocks the loop
Execute = Callable[[Callable[[HubService], msgspec.Struct], Route], Awaitable[msgspec.Struct]]
EXECUTE_KEY = web.AppKey("execute", object)


def make_app(
    store: HubStore,
    on_written: Callable[[], None] | None = None,
    *,
    middlewares: Sequence[Any] = (),
    execute: Execute | None = None,
) -> web.Application:
    """Serve every route of the table; `on_written` is called after each write;
    `middlewares` run before authentication (metrics, say); `execute` runs handlers."""
    service = HubService(store, on_written)
    document = openapi.build(ROUTES)
    app = web.Application(middlewares=[*middlewares, auth_middleware])
    app[EXECUTE_KEY] = execute or _inline(service)
    app[SERVICE_KEY] = service
    app[ENDPOINTS_KEY] = {}
    for route in ROUTES:
        handler = _endpoint(route, service, document)
        app[ENDPOINTS_KEY][handler] = route
        if route.method == "GET":
            app.router.add_get(route.path, handler)  # and HEAD, as aiohttp does
        else:
            app.router.add_route(route.method, route.path, handler)
    return app
