"""Who may call what, for every route of the table as it is at run time (hub.routes.ROUTES):
a route another area adds is covered by its row alone. Through the real app on a real
SQLite file (aiohttp TestServer), with tokens made as `kucun hub token create` makes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api import make_app
from hub.route import TOKEN_ROLES, Route
from hub.routes import ROUTES
from hub.service import HubService
from hub.store import HubStore
from protocol import codec

PRIVATE = [r for r in ROUTES if not r.public]
#: a scoped route that names a store: in its query, its path or its example body
SCOPED = [
    r
    for r in ROUTES
    if r.scoped
    and (
        any(q.name == "location" for q in r.query)
        or "location" in r.path_params
        or "location" in (r.example or {})
    )
]


@dataclass
class Hub:
    client: TestClient
    store: HubStore
    #: a token per role; the store manager's is for S01
    tokens: dict[str, str]
    #: a store manager of S02's
    other_store: str
    revoked: str


@pytest.fixture
async def hub(tmp_path):
    store, admin = HubStore.init(tmp_path / "hub.db")
    tokens = {"admin": admin}
    for role in TOKEN_ROLES:
        if role != "admin":
            location = "S01" if role == "store_manager" else None
            tokens[role] = store.add_token(f"{role}-1", role, location)
    other = store.add_token("manager-S02", "store_manager", "S02")
    revoked = store.add_token("gone", "admin")
    assert store.revoke_token("gone")
    async with TestClient(TestServer(make_app(store))) as client:
        yield Hub(client, store, tokens, other, revoked)


def url(route: Route, location: str = "S01") -> str:
    """The route's path with every path parameter filled in, and `location` asked for."""
    path = re.sub(r"\{(\w+)\}", lambda m: location if m[1] == "location" else "X1", route.path)
    if any(q.name == "location" for q in route.query):
        path += f"?location={location}"
    return path


async def call(
    hub: Hub, route: Route, token: str | None, *, header: str | None = None, body: Any = None
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if route.body is not None:
        data = msgspec.json.encode(route.example if body is None else body)
    response = await hub.client.request(route.method, url(route), data=data, headers=headers)
    raw = await response.read()
    problem = msgspec.json.decode(raw) if response.content_type.endswith("json") else {}
    return response.status, problem


def test_the_table_has_routes_of_every_kind():
    """The matrix below is only as good as what it runs over."""
    assert len(PRIVATE) >= 10
    assert SCOPED
    assert any(r.roles is not None and "viewer" not in r.roles for r in PRIVATE)


async def test_without_a_valid_token_every_private_route_is_401(hub):
    cases = {
        "no token": dict(token=None),
        "malformed header": dict(token=None, header="Token abc"),
        "empty bearer": dict(token=None, header="Bearer "),
        "unknown token": dict(token="kc_nobody"),
        "revoked token": dict(token=hub.revoked),
    }
    wrong = []
    for route in PRIVATE:
        for name, kwargs in cases.items():
            status, problem = await call(hub, route, **kwargs)
            if status != 401 or problem.get("status") != 401:
                wrong.append(f"{route.method} {route.path} {name}: {status}")
            if name == "revoked token" and problem.get("detail") != "revoked token":
                wrong.append(f"{route.method} {route.path}: says {problem.get('detail')!r}")
    assert not wrong, "\n".join(wrong)


async def test_every_role_a_route_does_not_allow_is_403(hub):
    wrong = []
    for route in PRIVATE:
        assert route.roles is not None
        for role in set(TOKEN_ROLES) - route.roles:
            status, problem = await call(hub, route, hub.tokens[role])
            if status != 403:
                wrong.append(f"{route.method} {route.path} as {role}: {status}")
            elif role not in problem["detail"]:
                wrong.append(f"{route.method} {route.path}: {problem['detail']!r}")
    assert not wrong, "\n".join(wrong)


async def test_every_role_a_route_allows_gets_past_the_door(hub):
    """Neither 401 nor 403: what the handler then answers (200, 201, 400, 404, 409) is the
    areas' tests' business; a store manager asks for its own store, S01."""
    wrong = []
    for route in PRIVATE:
        assert route.roles is not None
        for role in sorted(route.roles):
            status, problem = await call(hub, route, hub.tokens[role])
            if status in (401, 403):
                wrong.append(f"{route.method} {route.path} as {role}: {status} {problem}")
    assert not wrong, "\n".join(wrong)


async def test_a_store_managers_token_cannot_name_another_store(hub):
    wrong = []
    for route in SCOPED:
        status, problem = await call(hub, route, hub.other_store)
        if status != 403:
            wrong.append(f"{route.method} {route.path} as S02's manager for S01: {status}")
        elif "S02" not in problem["detail"]:
            wrong.append(f"{route.method} {route.path}: {problem['detail']!r}")
    assert not wrong, "\n".join(wrong)


async def test_a_refused_store_writes_nothing(hub):
    heads = hub.store.events.log.heads()
    for route in SCOPED:
        if route.method != "GET":
            await call(hub, route, hub.other_store)
    assert hub.store.events.log.heads() == heads


async def test_every_write_records_the_tokens_name_as_its_user(hub):
    from hub.schemas import ProductIn

    HubService(hub.store).put_product(ProductIn(sku="A1", name="Apple"))
    token = hub.store.add_token("buyer-zhao", "buyer")
    body = {"location": "S01", "supplier": "ACME", "lines": [{"sku": "A1", "qty": "5"}]}
    response = await hub.client.post(
        "/api/v1/purchase-orders", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 201, await response.text()
    events = [codec.decode(raw) for _, raw in hub.store.events.log.raw_events("hub-S01", 0)]
    assert events and {e.user for e in events} == {"buyer-zhao"}

    correction = {"location": "S01", "sku": "A1", "qty": "1", "reason": "found"}
    response = await hub.client.post(
        "/api/v1/corrections",
        json=correction,
        headers={"Authorization": f"Bearer {hub.tokens['store_manager']}"},
    )
    assert response.status == 201, await response.text()
    last = codec.decode(hub.store.events.log.raw_events("hub-S01", 0)[-1][1])
    assert last.user == "store_manager-1"


async def test_a_token_made_again_after_revoking_works_and_the_old_one_does_not(hub):
    old = hub.store.add_token("till-report", "viewer")
    assert hub.store.revoke_token("till-report")
    new = hub.store.add_token("till-report", "viewer")
    for token, status in ((old, 401), (new, 200)):
        response = await hub.client.get(
            "/api/v1/stock", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status == status
