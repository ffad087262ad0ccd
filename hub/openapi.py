"""The hub API's OpenAPI 3.1 document, built from the same msgspec types that validate
requests, so the description cannot drift from what the server accepts."""

from __future__ import annotations

import msgspec

from hub import api

_QUERY = {
    "location": "a location id, e.g. S01",
    "sku": "a product SKU",
}


def _query(*names: str) -> list[dict]:
    return [
        {
            "name": n,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": _QUERY[n],
        }
        for n in names
    ]


def _post(summary: str, schema: str) -> dict:
    return {
        "summary": summary,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        },
        "responses": {
            "201": {"description": "written as a hub event; nodes receive it"},
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
        },
    }


def _get(summary: str, params: list | None = None) -> dict:
    return {
        "summary": summary,
        "parameters": params or [],
        "responses": {
            "200": {"description": "JSON"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
        },
    }


def build() -> dict:
    (_, components) = msgspec.json.schema_components(
        [api.ProductIn, api.PurchaseOrderIn, api.UserIn, api.CorrectionIn],
        ref_template="#/components/schemas/{name}",
    )
    error = {"type": "object", "properties": {"error": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kucun hub API",
            "version": "1",
            "description": "Head office: stock, cost, documents, nodes, master data. "
            "Quantities and money are decimal strings.",
        },
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {
                "get": {
                    "summary": "liveness; per origin the seq ingested and the seq folded",
                    "security": [],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/api/v1/stock": {"get": _get("stock on hand", _query("location", "sku"))},
            "/api/v1/cost": {"get": _get("moving-average cost", _query("location", "sku"))},
            "/api/v1/nodes": {
                "get": _get("per-node lag, folded seq, missing seq ranges, held events")
            },
            "/api/v1/rejected": {"get": _get("dead letters: what ingest refused and why")},
            "/api/v1/documents/{doc}": {
                "get": {
                    **_get("a document and its derived status"),
                    "parameters": [
                        {
                            "name": "doc",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                }
            },
            "/api/v1/products": {"post": _post("create or change a product", "ProductIn")},
            "/api/v1/purchase-orders": {"post": _post("order for a store", "PurchaseOrderIn")},
            "/api/v1/users": {"post": _post("create or change a user and role", "UserIn")},
            "/api/v1/corrections": {"post": _post("stock correction at a store", "CorrectionIn")},
            "/api/v1/openapi.json": {"get": _get("this document")},
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "BadRequest": {
                    "description": "the request was refused; nothing was written",
                    "content": {"application/json": {"schema": error}},
                },
                "Unauthorized": {
                    "description": "missing or unknown token",
                    "content": {"application/json": {"schema": error}},
                },
            },
        },
    }
