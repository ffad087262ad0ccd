"""The route table, the served app and the OpenAPI document agree with one another, and
what the live app sends decodes into the Struct each route declares."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api import make_app
from hub.routes import CORE, ROUTES, Route
from hub.schemas import NodesOut, Problem, ProductIn
from hub.service import HubService
from hub.store import HubStore
from protocol import codec
from protocol.events import Event, Movement
from replication.clock import wall_ms

#: the reads the seed below fills; the areas' own tests, the auth matrix
#: (test_hub_auth.py) and the schemathesis run cover every other route
SEEDED_READS = {
    "/healthz", "/api/v1/openapi.json", "/api/v1/documents/{doc}", "/api/v1/stock",
    "/api/v1/cost", "/api/v1/documents", "/api/v1/rejected", "/api/v1/nodes", "/api/v1/audit",
}  # fmt: skip
GET_ROUTES = [r for r in ROUTES if r.method == "GET" and r.path in SEEDED_READS]
#: the core's writes, whose bodies VALID_BODIES gives
POST_ROUTES = [r for r in CORE if r.method == "POST"]
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

#: a body each write route accepts; the bad-body tests spoil it
VALID_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/products": {"sku": "A", "name": "Apple", "unit": "pcs", "price": "2.50"},
    "/api/v1/purchase-orders": {
        "location": "S01",
        "supplier": "ACME",
        "lines": [{"sku": "A", "qty": "5", "unit_cost": "1.20"}],
    },
    "/api/v1/users": {"user": "li", "name": "李娜", "role": "cashier"},
    "/api/v1/corrections": {"location": "S01", "sku": "A", "qty": "3", "reason": "found"},
    "/api/v1/reorder-points": {"location": "S01", "sku": "A", "point": "5", "qty": "24"},
}


def chain(origin: str, hlcs: list[int], seqs: list[int] | None = None) -> list[bytes]:
    """Receipts of A into `origin`, chained; only the seqs listed are returned."""
    raws, prev = [], codec.GENESIS
    for seq, hlc in enumerate(hlcs, start=1):
        body = Movement(sku="A", qty=1000, src="@supplier", dst=origin, unit_cost=150)
        event = Event(origin=origin, seq=seq, hlc=hlc, prev=prev, user="u", body=body)
        raw = codec.encode(event)
        prev = codec.event_hash(raw)
        raws.append(raw)
    return [raws[s - 1] for s in seqs] if seqs else raws


def seed(store: HubStore) -> None:
    """Something in every list: stock and cost, a gap, a held event, a dead letter."""
    now = wall_ms()
    past, future = (now - 60_000) << 16, (now + 3_600_000) << 16
    store.events.ingest(chain("S01", [past, past + 1]), now)
    store.events.ingest(chain("S02", [past, past + 1, past + 2], seqs=[1, 3]), now)
    store.events.ingest(chain("S03", [future]), now)
    store.events.ingest([b"not an event"], now)
    store.conn.execute(
        "INSERT INTO ingest_log(origin, last_ingest_ms) VALUES ('S01', ?)", (now - 500,)
    )


@pytest.fixture
async def client(tmp_path):
    store, token = HubStore.init(tmp_path / "hub.db")
    HubService(store).put_product(ProductIn(sku="A", name="Apple"))  # what the orders order
    seed(store)
    async with TestClient(TestServer(make_app(store))) as c:
        c.token = token
        yield c


def auth(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.token}"}


async def spec_of(client: TestClient) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json", headers=auth(client))
    assert response.status == 200
    return await response.json()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            yield path, method, op


# ---- table, app and document list the same operations ----------------------------------


async def test_every_route_is_served_and_documented_and_nothing_else(client):
    table = {(r.method, r.path) for r in ROUTES}
    served = {
        (r.method, r.resource.canonical)
        for r in client.server.app.router.routes()
        if r.method != "HEAD"  # aiohttp answers HEAD for every GET
    }
    documented = {(m.upper(), p) for p, m, _ in operations(await spec_of(client))}
    assert len(table) == len(ROUTES)
    assert served == table
    assert documented == table


async def test_every_operation_declares_its_schemas(client):
    spec = await spec_of(client)
    by_key = {(r.method.lower(), r.path): r for r in ROUTES}
    for path, method, op in operations(spec):
        route = by_key[(method, path)]
        for status in (route.status, *route.also):
            success = op["responses"][str(status)]
            if route.content_type != "application/json":  # /metrics: Prometheus' text
                assert success["content"][route.content_type]["schema"] == {"type": "string"}
                continue
            ref = success["content"]["application/json"]["schema"]["$ref"]
            assert ref == f"#/components/schemas/{route.response.__name__}", (path, method)
        body_errors = (413, 415) if route.body is not None else ()
        successes = {route.status, *route.also}
        expected = {*map(str, successes), *map(str, route.errors), *map(str, body_errors)}
        assert set(op["responses"]) == expected
        if route.body is None:
            assert "requestBody" not in op
        else:
            body_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert body_ref.endswith(f"/{route.body.__name__}")
        assert (op.get("security") == []) == route.public


def test_a_route_must_list_the_errors_it_can_answer():
    def handler(call: Any) -> Problem:
        return Problem(type="about:blank", title="", status=400, detail="")

    with pytest.raises(ValueError, match="example"):
        Route(
            method="POST", path="/x", handler=handler, summary="x", body=Problem, response=Problem
        )
    with pytest.raises(ValueError, match="400"):
        Route(
            method="POST",
            path="/x",
            handler=handler,
            summary="x",
            body=Problem,
            response=Problem,
            example={},
            errors=(401,),
        )
    with pytest.raises(ValueError, match="403"):
        Route(
            method="GET",
            path="/x",
            handler=handler,
            summary="x",
            response=Problem,
            errors=(401,),
            roles=frozenset({"admin"}),
        )
    with pytest.raises(ValueError, match="401"):
        Route(method="GET", path="/x", handler=handler, summary="x", response=Problem, errors=())


# ---- what the live app sends is what the table declares --------------------------------


def concrete(path: str, doc: str) -> str:
    return path.replace("{doc}", doc)


@pytest.mark.parametrize("route", GET_ROUTES, ids=lambda r: r.path)
async def test_get_answers_decode_into_the_declared_struct(client, route):
    posted = await client.post(
        "/api/v1/purchase-orders",
        json=VALID_BODIES["/api/v1/purchase-orders"],
        headers=auth(client),
    )
    doc = (await posted.json())["doc"]
    response = await client.get(concrete(route.path, doc), headers=auth(client))
    assert response.status == route.status
    assert response.content_type == "application/json"
    value = msgspec.json.decode(await response.read(), type=route.response)
    items = getattr(value, "items", None)
    if items is not None:
        assert items, f"{route.path}: seed data should give at least one item"


async def test_nodes_show_every_kind_of_trouble(client):
    """The seed's gap, held event and ingest time reach the typed answer."""
    response = await client.get("/api/v1/nodes", headers=auth(client))
    nodes = {n.origin: n for n in msgspec.json.decode(await response.read(), type=NodesOut).items}
    assert nodes["S01"].ingested_seq == 2 and nodes["S01"].last_ingest_age_s is not None
    assert [(m.first, m.last) for m in nodes["S02"].missing] == [(2, 2)]
    assert nodes["S02"].waiting == 1
    assert [h.seq for h in nodes["S03"].held] == [1]


@pytest.mark.parametrize("route", POST_ROUTES, ids=lambda r: r.path)
async def test_writes_answer_in_the_declared_struct(client, route):
    response = await client.post(route.path, json=VALID_BODIES[route.path], headers=auth(client))
    assert response.status == route.status == 201
    msgspec.json.decode(await response.read(), type=route.response)


def spoilt(route: Route) -> Iterator[bytes]:
    """Bodies no write may accept: not JSON, not an object, unknown, mistyped or missing
    fields."""
    assert route.body is not None
    body = VALID_BODIES[route.path]
    yield from (b"", b"{not json", b"null", b"[]", b'"text"', b"\xff\xfe")
    yield msgspec.json.encode({**body, "colour": "red"})
    for name in body:
        yield msgspec.json.encode({**body, name: 12345})
    for field in msgspec.structs.fields(route.body):
        if field.required:
            yield msgspec.json.encode({k: v for k, v in body.items() if k != field.name})


@pytest.mark.parametrize("route", POST_ROUTES, ids=lambda r: r.path)
async def test_bad_bodies_are_400_and_write_nothing(client, route):
    heads = (await (await client.get("/healthz")).json())["origins"]
    for raw in spoilt(route):
        headers = {**auth(client), "Content-Type": "application/json"}
        response = await client.post(route.path, data=raw, headers=headers)
        assert response.status == 400, (raw, await response.text())
        msgspec.json.decode(await response.read(), type=Problem)
    assert (await (await client.get("/healthz")).json())["origins"] == heads


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.public], ids=lambda r: r.path)
async def test_every_non_public_route_wants_a_token(client, route):
    response = await client.request(route.method, concrete(route.path, "X"))
    assert response.status == 401
    msgspec.json.decode(await response.read(), type=Problem)


# ---- the document is OpenAPI 3.1, structurally -----------------------------------------


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow a local `$ref` (JSON pointer), once; anything else is returned as is."""
    if not (isinstance(node, dict) and "$ref" in node):
        return node
    ref = node["$ref"]
    assert ref.startswith("#/"), f"not a local ref: {ref}"
    target: Any = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(target, dict) and part in target, f"{ref} does not resolve"
        target = target[part]
    return target


async def test_openapi_document_is_structurally_valid(client):
    spec = await spec_of(client)
    assert re.fullmatch(r"3\.1\.\d+", spec["openapi"])
    assert isinstance(spec["info"]["title"], str) and isinstance(spec["info"]["version"], str)
    for ref in refs(spec):
        resolve(spec, {"$ref": ref})
    schemes = spec["components"]["securitySchemes"]
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids))
    for path, method, op in operations(spec):
        assert path.startswith("/") and method in METHODS
        params = [resolve(spec, p) for p in op.get("parameters", [])]
        assert all({"name", "in", "schema"} <= set(p) for p in params)
        in_path = {p["name"] for p in params if p["in"] == "path"}
        assert in_path == set(re.findall(r"\{(\w+)\}", path)), path
        assert all(p["required"] for p in params if p["in"] == "path")
        responses = {code: resolve(spec, r) for code, r in op["responses"].items()}
        assert all("description" in r for r in responses.values())
        assert any(c.startswith("2") and "content" in r for c, r in responses.items())
        if "requestBody" in op:
            assert "application/json" in resolve(spec, op["requestBody"])["content"]
        for requirement in op.get("security", spec["security"]):
            assert set(requirement) <= set(schemes)


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.body is not None], ids=lambda r: f"{r.method} {r.path}"
)
def test_every_example_is_a_body_the_decoder_accepts(route):
    """The document shows it and the auth matrix sends it: it must pass the bounds."""
    msgspec.json.decode(msgspec.json.encode(route.example), type=route.body)


async def test_the_document_shows_examples_roles_and_problems(client):
    spec = await spec_of(client)
    for route in ROUTES:
        op = spec["paths"][route.path][route.method.lower()]
        if route.body is not None:
            assert op["requestBody"]["content"]["application/json"]["example"] == route.example
        assert op.get("x-roles") == (None if route.public else sorted(route.roles or ()))
    responses = spec["components"]["responses"]
    assert all(set(r["content"]) == {"application/problem+json"} for r in responses.values())
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    bounded = spec["components"]["schemas"]["LineIn"]["properties"]["sku"]
    assert bounded["maxLength"] == 64 and bounded["minLength"] == 1
