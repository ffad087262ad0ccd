"""Master data through the real hub API (aiohttp TestServer on a real SQLite file):
products with several barcodes, prices per store and per store group, suppliers,
customers, stores — create, update, deactivate, get, list with paging, filters, search."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api import SERVICE_KEY, make_app
from hub.store import HubStore
from protocol import codec
from protocol.events import Upsert


@pytest.fixture
async def client(tmp_path):
    store, token = HubStore.init(tmp_path / "hub.db")
    buyer = store.add_token("buyer-zhao", "buyer")
    viewer = store.add_token("viewer-qian", "viewer")
    async with TestClient(TestServer(make_app(store))) as c:
        c.tokens = {"admin": token, "buyer": buyer, "viewer": viewer}
        yield c


async def call(
    client: TestClient, method: str, path: str, body: Any = None, role: str = "admin"
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {client.tokens[role]}"}
    response = await client.request(method, path, json=body, headers=headers)
    return response.status, await response.json(content_type=None)


def message(body: dict) -> str:
    """What a refusal says (problem+json `detail`, or the older `error`)."""
    return body.get("detail") or body.get("error") or ""


def hub_upserts(client: TestClient) -> list[tuple[str, Upsert]]:
    """(user, upsert) of every event on the hub log, in order."""
    log = client.server.app[SERVICE_KEY].store.events.log
    return [
        (e.user, e.body)
        for _, raw in log.raw_events("hub", 0)
        if isinstance((e := codec.decode(raw)).body, Upsert)
    ]


# ---- products and barcodes -------------------------------------------------------------


async def test_a_product_is_created_read_changed_and_deactivated(client):
    body = {
        "sku": "A1",
        "name": "苹果 红富士",
        "barcodes": ["6901234567892", "2000000000015"],
        "category": "fruit",
        "unit": "kg",
        "price": "5.80",
    }
    status, created = await call(client, "POST", "/api/v1/products", body, role="buyer")
    assert status == 201, created
    assert created == {
        "sku": "A1",
        "name": "苹果 红富士",
        "barcodes": ["2000000000015", "6901234567892"],
        "category": "fruit",
        "unit": "kg",
        "price": "5.80",
        "active": True,
    }
    assert (await call(client, "POST", "/api/v1/products", body))[0] == 409
    status, got = await call(client, "GET", "/api/v1/products/A1", role="viewer")
    assert (status, got) == (200, created)

    status, changed = await call(client, "PATCH", "/api/v1/products/A1", {"price": "6.20"})
    assert status == 200 and changed["price"] == "6.20" and changed["name"] == "苹果 红富士"
    status, changed = await call(
        client, "PATCH", "/api/v1/products/A1", {"barcodes": ["6901234567892"]}
    )
    assert changed["barcodes"] == ["6901234567892"]  # the other one is released
    assert (await call(client, "GET", "/api/v1/barcodes/2000000000015"))[1]["sku"] is None

    status, gone = await call(client, "DELETE", "/api/v1/products/A1")
    assert status == 200 and gone["active"] is False
    assert (await call(client, "GET", "/api/v1/products/A1"))[1]["active"] is False
    # every write records the token's name
    users = {user for user, _ in hub_upserts(client)}
    assert users == {"buyer-zhao", "admin"}


async def test_product_refusals(client):
    await call(client, "POST", "/api/v1/products", {"sku": "A1", "name": "Apple"})
    cases = [
        ("POST", "/api/v1/products", {"sku": "B1"}, 400, "nothing to change"),
        ("POST", "/api/v1/products", {"sku": "B1", "price": "1.005"}, 400, "decimal"),
        ("POST", "/api/v1/products", {"sku": "B1", "name": "x\ny"}, 400, "control"),
        ("POST", "/api/v1/products", {"sku": "B1", "barcodes": ["x"] * 51}, 400, ""),
        ("POST", "/api/v1/products", {"sku": "B1", "category": "c" * 65}, 400, ""),
        ("PATCH", "/api/v1/products/NOPE", {"price": "1.00"}, 404, "no product"),
        ("PATCH", "/api/v1/products/A1", {}, 400, "nothing to change"),
        ("GET", "/api/v1/products/NOPE", None, 404, "no product"),
        ("DELETE", "/api/v1/products/NOPE", None, 404, "no product"),
        ("POST", "/api/v1/products", {"sku": "B1", "name": "B"}, 403, ""),  # a viewer
    ]
    for method, path, body, status, words in cases:
        role = "viewer" if status == 403 else "admin"
        got, reply = await call(client, method, path, body, role=role)
        assert got == status, (method, path, body, reply)
        assert words in message(reply), reply


async def test_a_barcode_belongs_to_one_product_and_is_moved_on_purpose(client):
    await call(client, "POST", "/api/v1/products", {"sku": "A1", "name": "A", "barcode": "111"})
    await call(client, "POST", "/api/v1/products", {"sku": "B1", "name": "B"})
    status, reply = await call(
        client, "POST", "/api/v1/products", {"sku": "C1", "name": "C", "barcodes": ["111"]}
    )
    assert status == 409 and "PUT /api/v1/barcodes/111" in message(reply)
    status, reply = await call(client, "PATCH", "/api/v1/products/B1", {"barcodes": ["111", "222"]})
    assert status == 409 and "belongs to product 'A1'" in message(reply)

    status, moved = await call(client, "PUT", "/api/v1/barcodes/111", {"sku": "B1"})
    assert (status, moved) == (200, {"code": "111", "sku": "B1"})
    assert (await call(client, "GET", "/api/v1/products/A1"))[1]["barcodes"] == []
    assert (await call(client, "GET", "/api/v1/products/B1"))[1]["barcodes"] == ["111"]
    assert (await call(client, "PUT", "/api/v1/barcodes/111", {"sku": "NOPE"}))[0] == 404

    status, released = await call(client, "DELETE", "/api/v1/barcodes/111")
    assert (status, released) == (200, {"code": "111", "sku": None})
    assert (await call(client, "DELETE", "/api/v1/barcodes/111"))[0] == 404


async def test_products_are_listed_in_pages_filtered_and_searched(client):
    for i in range(7):
        body = {
            "sku": f"P{i}",
            "name": "苹果" if i == 3 else f"Item {i}",
            "category": "fruit" if i % 2 else "dry",
            "barcodes": [f"69000000{i}"],
        }
        assert (await call(client, "POST", "/api/v1/products", body))[0] == 201
    await call(client, "DELETE", "/api/v1/products/P5")

    seen, cursor, pages = [], None, 0
    while True:
        path = "/api/v1/products?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, page = await call(client, "GET", path, role="viewer")
        assert status == 200, page
        seen += [p["sku"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"P{i}" for i in range(7)] and pages == 3

    async def skus(query: str) -> list[str]:
        status, page = await call(client, "GET", f"/api/v1/products?{query}")
        assert status == 200, page
        return [p["sku"] for p in page["items"]]

    assert await skus("category=fruit") == ["P1", "P3", "P5"]
    assert await skus("category=fruit&active=true") == ["P1", "P3"]
    assert await skus("active=false") == ["P5"]
    assert await skus("q=pg") == ["P3"]  # pinyin initials of 苹果
    assert await skus("q=pingguo") == ["P3"]
    assert await skus("q=690000004") == ["P4"]  # by barcode
    assert await skus("q=item%206") == ["P6"]  # spaces do not matter
    assert await skus("q=p2") == ["P2"]
    for bad in ("limit=0", "limit=1001", "limit=x", "cursor=nonsense", "active=yes"):
        assert (await call(client, "GET", f"/api/v1/products?{bad}"))[0] == 400, bad
    other = (await call(client, "GET", "/api/v1/suppliers?limit=1"))[1]  # no suppliers
    assert other == {"items": [], "next_cursor": None}


# ---- prices ----------------------------------------------------------------------------


async def stores(client: TestClient) -> None:
    for store, group in (("S01", "pilot"), ("S02", "pilot"), ("S03", None), ("S04", "pilot")):
        body = {"id": store, "name": f"Store {store}", **({"group": group} if group else {})}
        assert (await call(client, "POST", "/api/v1/stores", body))[0] == 201
    await call(client, "DELETE", "/api/v1/stores/S04")  # closed: no longer gets changes


async def test_a_group_price_change_writes_one_override_per_store_of_the_group(client):
    await stores(client)
    await call(client, "POST", "/api/v1/products", {"sku": "A1", "name": "A", "price": "2.50"})
    change = {"sku": "A1", "price": "2.40", "group": "pilot"}
    status, reply = await call(client, "POST", "/api/v1/price-changes", change, role="buyer")
    assert status == 201, reply
    assert reply == {
        "sku": "A1",
        "price": "2.40",
        "group": "pilot",
        "locations": ["S01", "S02"],
        "default": False,
    }
    read = client.server.app[SERVICE_KEY].store.events.read
    assert [read.price_at(s, "A1") for s in ("S01", "S02", "S03", "S04")] == [240, 240, 250, 250]
    assert read.product("A1").price == 250  # the hub's own view: the default

    status, reply = await call(
        client, "POST", "/api/v1/price-changes", {"sku": "A1", "price": "2.60"}
    )
    assert status == 201 and reply["default"] is True
    assert [read.price_at(s, "A1") for s in ("S01", "S03")] == [240, 260]

    status, reply = await call(
        client, "POST", "/api/v1/price-changes", {"sku": "A1", "price": "1", "group": "none"}
    )
    assert status == 400 and "no active store is in group" in message(reply)
    assert (await call(client, "POST", "/api/v1/price-changes", {"sku": "X", "price": "1"}))[
        0
    ] == 404


async def test_a_store_price_is_created_changed_listed_and_deactivated(client):
    await call(client, "POST", "/api/v1/products", {"sku": "A1", "name": "A", "price": "2.50"})
    await call(client, "POST", "/api/v1/products", {"sku": "B1", "name": "B", "price": "1.00"})
    body = {"location": "S01", "sku": "A1", "price": "2.30"}
    status, created = await call(client, "POST", "/api/v1/prices", body, role="buyer")
    assert (status, created) == (
        201,
        {"location": "S01", "sku": "A1", "price": "2.30", "default": "2.50"},
    )
    assert (await call(client, "POST", "/api/v1/prices", body))[0] == 409
    assert (await call(client, "POST", "/api/v1/prices", {**body, "sku": "NOPE"}))[0] == 404
    status, changed = await call(client, "PATCH", "/api/v1/prices/S01/A1", {"price": "2.20"})
    assert (status, changed["price"]) == (200, "2.20")
    assert (await call(client, "PATCH", "/api/v1/prices/S02/A1", {"price": "2.20"}))[0] == 404
    for loc, sku in (("S02", "A1"), ("S01", "B1"), ("S02", "B1")):
        await call(client, "POST", "/api/v1/prices", {"location": loc, "sku": sku, "price": "1.50"})

    status, page = await call(client, "GET", "/api/v1/prices?limit=3", role="viewer")
    assert [(p["location"], p["sku"]) for p in page["items"]] == [
        ("S01", "A1"),
        ("S01", "B1"),
        ("S02", "A1"),
    ]
    status, rest = await call(client, "GET", f"/api/v1/prices?limit=3&cursor={page['next_cursor']}")
    assert [(p["location"], p["sku"]) for p in rest["items"]] == [("S02", "B1")]
    assert rest["next_cursor"] is None
    status, only = await call(client, "GET", "/api/v1/prices?location=S02&sku=B1")
    assert [p["price"] for p in only["items"]] == ["1.50"]

    status, gone = await call(client, "DELETE", "/api/v1/prices/S01/A1")
    assert (status, gone["price"], gone["default"]) == (200, None, "2.50")
    assert (await call(client, "GET", "/api/v1/prices/S01/A1"))[0] == 404
    assert (await call(client, "GET", "/api/v1/prices/S02/A1"))[1]["price"] == "1.50"


async def test_a_store_manager_sees_only_its_own_stores_prices(client):
    await call(client, "POST", "/api/v1/products", {"sku": "A1", "name": "A", "price": "2.50"})
    for loc in ("S01", "S02"):
        await call(client, "POST", "/api/v1/prices", {"location": loc, "sku": "A1", "price": "2"})
    store = client.server.app[SERVICE_KEY].store
    client.tokens["manager"] = store.add_token("mgr-s02", "store_manager", "S02")
    status, page = await call(client, "GET", "/api/v1/prices", role="manager")
    assert status == 200 and [p["location"] for p in page["items"]] == ["S02"]
    assert (await call(client, "GET", "/api/v1/prices?location=S01", role="manager"))[0] == 403
    assert (await call(client, "GET", "/api/v1/prices/S01/A1", role="manager"))[0] == 403
    assert (await call(client, "GET", "/api/v1/prices/S02/A1", role="manager"))[0] == 200


# ---- suppliers, customers, stores ------------------------------------------------------


RECORDS = [
    (
        "suppliers",
        "code",
        {"code": "ACME", "name": "ACME 食品", "contact": "王", "lead_time_days": 3},
        {"lead_time_days": 5},
        {"phone": None},
    ),
    (
        "customers",
        "id",
        {"id": "C1", "name": "李娜", "phone": "138", "address": "上海\n1 号"},
        {"phone": "139"},
        {},
    ),
    (
        "stores",
        "id",
        {"id": "S01", "name": "一号店", "group": "pilot"},
        {"kind": "warehouse"},
        {"kind": "store", "address": None},
    ),
]


@pytest.mark.parametrize(("path", "key", "new", "patch", "defaults"), RECORDS, ids=lambda x: str(x))
async def test_a_record_is_created_read_changed_listed_and_deactivated(
    client, path, key, new, patch, defaults
):
    base = f"/api/v1/{path}"
    status, created = await call(client, "POST", base, new)
    assert status == 201, created
    assert created == {**created, **new, **defaults, "active": True}
    assert (await call(client, "POST", base, new))[0] == 409
    one = f"{base}/{new[key]}"
    assert (await call(client, "GET", one, role="viewer"))[1] == created
    status, changed = await call(client, "PATCH", one, patch)
    assert status == 200 and changed == {**created, **patch}
    assert (await call(client, "PATCH", one, {}))[0] == 400
    assert (await call(client, "PATCH", f"{base}/NOPE", patch))[0] == 404
    assert (await call(client, "GET", f"{base}/NOPE"))[0] == 404
    assert (await call(client, "DELETE", f"{base}/NOPE"))[0] == 404
    assert (await call(client, "POST", base, {**new, "name": ""}))[0] == 400
    assert (await call(client, "POST", base, {**new, "name": "x" * 201}))[0] == 400
    status, gone = await call(client, "DELETE", one)
    assert status == 200 and gone["active"] is False
    status, page = await call(client, "GET", f"{base}?active=false")
    assert [item[key] for item in page["items"]] == [new[key]]
    assert (await call(client, "GET", f"{base}?active=true"))[1]["items"] == []


async def test_stores_are_admins_and_filtered_by_kind_and_group(client):
    body = {"id": "W1", "name": "仓库", "kind": "warehouse"}
    assert (await call(client, "POST", "/api/v1/stores", body, role="buyer"))[0] == 403
    assert (await call(client, "POST", "/api/v1/stores", {**body, "id": "W 1"}))[0] == 400
    await stores(client)
    assert (await call(client, "POST", "/api/v1/stores", body))[0] == 201

    async def ids(query: str) -> list[str]:
        return [s["id"] for s in (await call(client, "GET", f"/api/v1/stores?{query}"))[1]["items"]]

    assert await ids("kind=warehouse") == ["W1"]
    assert await ids("group=pilot") == ["S01", "S02", "S04"]
    assert await ids("group=pilot&active=true") == ["S01", "S02"]
    assert await ids("q=cangku") == ["W1"]
    assert await ids("q=ck") == ["W1"]
    assert await ids("q=store%20s03") == ["S03"]


async def test_suppliers_page_over_several_pages(client):
    for i in range(5):
        assert (
            await call(client, "POST", "/api/v1/suppliers", {"code": f"SUP{i}", "name": f"S{i}"})
        )[0] == 201
    _, first = await call(client, "GET", "/api/v1/suppliers?limit=2")
    _, second = await call(
        client, "GET", f"/api/v1/suppliers?limit=2&cursor={first['next_cursor']}"
    )
    _, third = await call(
        client, "GET", f"/api/v1/suppliers?limit=2&cursor={second['next_cursor']}"
    )
    codes = [s["code"] for page in (first, second, third) for s in page["items"]]
    assert codes == [f"SUP{i}" for i in range(5)] and third["next_cursor"] is None
    # one list's cursor is not another's
    assert (await call(client, "GET", f"/api/v1/customers?cursor={first['next_cursor']}"))[0] == 400
