"""The hub's HTTP edge (aiohttp): tokens, body decoding, errors and encoding.

What each route does is in hub/routes.py, the business rules in hub/service.py. Writes
(products, purchase orders, users, corrections) become events on the hub's own logs,
which the hub publishes to the nodes; nothing is edited in place.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import msgspec
from aiohttp import web

from hub import openapi
from hub.errors import HubError
from hub.problems import decode_errors, field_error, problem, readable, refused_errors
from hub.route import Answer, Call, Conflict, Forbidden, Principal, Replayed, Route, Unavailable
from hub.routes import ROUTES
from hub.schemas import OpenApiDocument
from hub.service import HubService, NotFound, Refused
from hub.store import HubStore

log = logging.getLogger("kucun.hub.api")

#: the largest request body read: far above any valid one (a purchase order of 1,000
#: lines is ~100 kB), so a bigger one is refused (413) before it is decoded or written
MAX_BODY_BYTES = 1024 * 1024

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
    """A refusal without a field (problem+json)."""
    return problem(status, message)


_STATUS = {Forbidden: 403, Conflict: 409, Unavailable: 503, NotFound: 404, Refused: 400}


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own refusals (404, 405, 413) as problem+json too, and the last resort: an
    unexpected exception is logged with its traceback and answered 500, never a page."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow",)}
        return problem(exc.status, _http_detail(exc, request), headers=headers)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return problem(500, "the hub failed to answer this request; it is logged")


def _http_detail(exc: web.HTTPException, request: web.Request) -> str:
    if exc.status == 404:
        return f"no such path: {request.path[:200]}"
    if exc.status == 405:
        return f"{request.method} is not allowed here: use {exc.headers.get('Allow', '')}"
    if exc.status == 413:
        return f"the request body is larger than {MAX_BODY_BYTES:,} bytes; nothing was written"
    return exc.reason


def _unauthorized(detail: str) -> web.Response:
    """401 with the challenge RFC 6750 asks for, so a client knows which scheme to use."""
    return problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="kucun hub"'})


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A route is public only when its table row says so; everything else, unknown paths
    included, needs a valid token."""
    route: Route | None = request.app[ENDPOINTS_KEY].get(request.match_info.handler)
    if route is not None and route.public:
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    service = request.app[SERVICE_KEY]
    principal = service.principal(token)
    if principal is None:
        row = service.store.token_row(token)
        return _unauthorized("revoked token" if row is not None else "unknown token")
    if route is not None and route.roles is not None and principal.role not in route.roles:
        return error(
            403,
            f"a {principal.role} token may not {route.method} {route.path}: "
            f"it needs one of the roles {', '.join(sorted(route.roles))}",
        )
    request[PRINCIPAL_KEY] = principal
    return await handler(request)


class UnsupportedMediaType(HubError):
    """A body that is not sent as JSON (415)."""


async def _body(request: web.Request, route: Route) -> Any:
    """The route's request Struct, or None for a route without a body."""
    if route.body is None:
        return None
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"send the body as JSON (Content-Type: application/json), not "
            f"{request.content_type[:100]!r}"
        )
    raw = await request.read()  # past MAX_BODY_BYTES: aiohttp raises 413
    try:
        return msgspec.json.decode(raw, type=route.body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        errors = decode_errors(str(exc))
        message = readable(str(exc))
        if _AMOUNT_AS_NUMBER.search(message):
            # JSON numbers are floats or unbounded ints: amounts travel as exact decimals
            message += '; send quantities and amounts as decimal strings, e.g. "1.250"'
        raise Refused(
            f"invalid request body: {message}", field=errors[0].field if errors else None
        ) from None


#: msgspec's message for a JSON number where a quantity or amount string belongs
_AMOUNT_AS_NUMBER = re.compile(
    r"(got `(int|float)`|Number out of range) - at `\$[^`]*\.(qty|price|unit_cost)`"
)


def _inline(service: HubService) -> Execute:
    async def execute(work: Callable[[HubService], Answer], route: Route) -> Answer:
        return work(service)

    return execute


def _scoped(call: Call[Any]) -> None:
    """A store manager's token names only its own store, wherever the request names one:
    refused (403) before the handler runs, so no handler can forget it."""
    own = call.principal.location
    if own is None:
        return
    named = [call.query.get("location"), call.path.get("location")]
    named.append(getattr(call.body, "location", None))
    for location in named:
        if isinstance(location, str) and location != own:
            call.scope(location)


def _refusal(exc: HubError, route: Route) -> web.Response:
    """A handler's or the decoder's refusal, with the field it is about when known."""
    status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 400)
    if isinstance(exc, UnsupportedMediaType):
        status = 415
    message = str(exc)
    if exc.field is not None:
        errors = field_error(exc.field, message)
    else:
        fields = [] if route.body is None else list(route.body.__struct_fields__)
        errors = refused_errors(
            message, fields, [q.name for q in route.query] + list(route.path_params)
        )
    return problem(status, message, errors)


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
            if route.scoped:
                _scoped(call)
            execute: Execute = request.app[EXECUTE_KEY]  # type: ignore[assignment]
            result = await execute(lambda hub: route.handler(replace(call, hub=hub)), route)
        except HubError as exc:  # Refused, NotFound, Forbidden, Conflict, Unavailable…
            return _refusal(exc, route)
        status = route.status
        if isinstance(result, Replayed):
            result, status = result.value, result.status
        if not isinstance(result, route.response):
            raise TypeError(f"{route.path} returned {type(result).__name__}")
        if route.content_type != "application/json":
            text = getattr(result, "text")  # noqa: B009 - the row says its Struct has one
            response = web.Response(body=text.encode(), status=status)
            response.headers["Content-Type"] = route.content_type
            return response
        return respond(result, status)

    endpoint.__name__ = route.handler.__name__
    return endpoint


#: runs one handler's work against a HubService and returns its answer: by default at
#: once on the event loop with the app's own service; `hub serve` passes one that runs it
#: on a thread with its own connection, so SQLite never blocks the loop
Execute = Callable[[Callable[[HubService], Answer], Route], Awaitable[Answer]]
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
    app = web.Application(
        middlewares=[*middlewares, problem_middleware, auth_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
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
