"""The hub API's OpenAPI 3.1 document, built from the route table (hub/routes.py) and the
msgspec Structs the server decodes and encodes with (hub/schemas.py), so the description
cannot drift from what the server accepts and sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from hub.problems import MEDIA_TYPE
from hub.route import Route
from hub.schemas import FieldError, OpenApiDocument, Problem

REF = "#/components/schemas/{name}"

#: the error statuses a route may list, as shared response components
ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "the request was refused; nothing was written"),
    401: ("Unauthorized", "missing or unknown token"),
    403: ("Forbidden", "the token's role, or its store, does not allow this"),
    404: ("NotFound", "no such thing at the hub"),
    409: ("Conflict", "contradicts what the hub already holds; nothing was written"),
    413: ("TooLarge", "the body is over 1 MiB; nothing was read or written"),
    415: ("NotJson", "the body is not sent as application/json"),
    503: ("Unavailable", "the hub cannot answer this yet (e.g. NATS is away)"),
}
SUCCESS = {
    200: "the answer",
    201: "written as a hub event; nodes receive it",
}

INFO = {
    "title": "kucun hub API",
    "version": "1",
    "description": "Head office: stock, cost, documents, nodes, master data. "
    "Quantities and money are decimal strings.",
}


def _ref(struct: type[msgspec.Struct]) -> dict[str, str]:
    return {"$ref": REF.format(name=struct.__name__)}


def _json(struct: type[msgspec.Struct]) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(struct)}}


def _structs(routes: Sequence[Route]) -> list[type[msgspec.Struct]]:
    """Every Struct the routes read or send, once each, in table order."""
    found: list[type[msgspec.Struct]] = [Problem, FieldError]
    for route in routes:
        for struct in (route.body, route.response):
            if struct is not None and struct not in found:
                found.append(struct)
    return found


#: the paging parameters every list shares: whole numbers, sent as text
_WHOLE = {"type": "string", "pattern": "^[0-9]{1,12}$"}
_QUERY_SCHEMAS: dict[str, dict[str, Any]] = {"limit": _WHOLE, "offset": _WHOLE}


def _query_schema(name: str) -> dict[str, Any]:
    return dict(_QUERY_SCHEMAS.get(name, {"type": "string"}))


def _parameters(route: Route) -> list[dict[str, Any]]:
    path = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in route.path_params
    ]
    query = [
        {
            "name": q.name,
            "in": "query",
            "required": False,
            "schema": dict(q.schema) if q.schema is not None else _query_schema(q.name),
            "description": q.description,
        }
        for q in route.query
    ]
    return path + query


def _responses(route: Route) -> dict[str, Any]:
    if route.content_type != "application/json":
        content: dict[str, Any] = {route.content_type: {"schema": {"type": "string"}}}
    else:
        content = _json(route.response)
    responses: dict[str, Any] = {
        str(status): {"description": SUCCESS[status], "content": content}
        for status in sorted({route.status, *route.also})
    }
    # every body is decoded by one edge (hub/api.py): too big (413), not JSON (415)
    statuses = [*route.errors, *((413, 415) if route.body is not None else ())]
    for status in sorted(set(statuses)):
        responses[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
    return responses


def operation(route: Route) -> dict[str, Any]:
    """One route's operation object; `x-roles` is the roles the route allows."""
    op: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": route.summary,
        "parameters": _parameters(route),
        "responses": _responses(route),
    }
    if route.body is not None:
        content = _json(route.body)
        if route.example is not None:
            content["application/json"]["example"] = route.example
        op["requestBody"] = {"required": True, "content": content}
    if route.roles is None:
        op["security"] = []
    else:
        op["x-roles"] = sorted(route.roles)
    return op


def build(routes: Sequence[Route]) -> OpenApiDocument:
    (_, schemas) = msgspec.json.schema_components(_structs(routes), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    return OpenApiDocument(
        openapi="3.1.0",
        info=INFO,
        security=[{"bearer": []}],
        paths=paths,
        components={
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `kucun hub token create`; its role decides "
                    "what it may call (x-roles on each operation)",
                }
            },
            "responses": {
                name: {
                    "description": description,
                    "content": {MEDIA_TYPE: {"schema": _ref(Problem)}},
                }
                for name, description in ERRORS.values()
            },
        },
    )
