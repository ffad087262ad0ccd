"""Head office's master data reaches the tills: what the hub API writes, applied to node
ledgers from the hub's log, is scanned by any barcode, sold at the store's own price and
printed under the store's name; and a barcode claimed twice at once resolves the same on
every replica, whatever order the claims arrive in."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api import SERVICE_KEY, make_app
from hub.store import HubStore
from ledger.replica import Replica
from ledger.sqlite import connect
from node.counter import identify
from node.errors import NodeError
from node.lookup import Lookup, inactive_text
from node.permissions import User
from node.receipt import store_title
from node.sales import basket_line
from node.service import Node
from protocol.events import Upsert
from replication.clock import wall_ms

OFFLINE = "nats://127.0.0.1:1"


@pytest.fixture
async def client(tmp_path):
    store, token = HubStore.init(tmp_path / "hub.db")
    async with TestClient(TestServer(make_app(store))) as c:
        c.token = token  # type: ignore[attr-defined]
        yield c


async def send(client: TestClient, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {client.token}"}  # type: ignore[attr-defined]
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status in (200, 201), await response.text()
    return await response.json()


def till(client: TestClient, tmp_path, location: str) -> Node:
    """A node of `location` holding everything the hub's log carries."""
    hub = client.server.app[SERVICE_KEY].store.events  # type: ignore[attr-defined]
    node = Node.init(tmp_path / f"{location}.db", f"{location}-T1", location, OFFLINE)
    node.store.ingest([raw for _, raw in hub.log.raw_events("hub", 0)], wall_ms())
    return node


async def test_a_till_scans_a_second_barcode_at_its_stores_price_under_its_name(client, tmp_path):
    for store, group in (("S01", "pilot"), ("S02", None)):
        body = {"id": store, "name": "一号店" if store == "S01" else "二号店"}
        await send(
            client, "POST", "/api/v1/stores", {**body, **({"group": group} if group else {})}
        )
    await send(
        client,
        "POST",
        "/api/v1/products",
        {"sku": "TEA", "name": "绿茶", "barcodes": ["6901234567892"], "price": "4.50"},
    )
    await send(client, "PATCH", "/api/v1/products/TEA", {"barcodes": ["6901234567892", "12345"]})
    await send(
        client, "POST", "/api/v1/price-changes", {"sku": "TEA", "price": "3.90", "group": "pilot"}
    )
    await send(client, "POST", "/api/v1/products", {"sku": "OLD", "name": "旧货", "price": "1.00"})
    await send(client, "DELETE", "/api/v1/products/OLD")

    s01, s02 = till(client, tmp_path, "S01"), till(client, tmp_path, "S02")
    for node, price in ((s01, 390), (s02, 450)):
        assert identify(node, "12345").product.sku == "TEA"  # the second barcode
        assert identify(node, "06901234567892").product.sku == "TEA"  # as GTIN-14
        line = basket_line(node, "12345")
        assert (line.sku, line.unit_price) == ("TEA", price)
        assert node.product("TEA").price == price
        assert node.product("TEA").default_price == 450
    assert store_title(s01.read, "S01") == "一号店"
    assert store_title(s02.read, "S02") == "二号店"
    assert store_title(s02.read, "S09") == "S09"  # no record: the id

    lookup = Lookup(s01, User("u1", "Li", "clerk"))
    assert [p.sku for p in lookup.search("12345")] == ["TEA"]
    assert lookup.scanned("12345").sku == "TEA"  # type: ignore[union-attr]
    old = s01.product("OLD")
    assert old.active is False and "OLD" in (inactive_text(old, "en") or "")
    assert inactive_text(s01.product("TEA")) is None
    with pytest.raises(NodeError, match="no longer sold"):  # a deactivated product is not sold
        basket_line(s01, "OLD")

    # the override deactivated: the pilot store sells at the default again
    await send(client, "DELETE", "/api/v1/prices/S01/TEA")
    (tmp_path / "again").mkdir()
    assert till(client, tmp_path / "again", "S01").product("TEA").price == 450


def writer(tmp_path, origin: str) -> Replica:
    return Replica(connect(tmp_path / f"{origin}.db"), origin)


def test_a_barcode_claimed_by_two_products_at_once_resolves_alike_on_every_replica(tmp_path):
    """Two offices claim one code for different products without hearing of each other;
    every replica, whatever order it hears them in, gives the code to the same one (the
    greater (hlc, origin)), and the other keeps its other codes."""
    (tmp_path / "again").mkdir()
    now = wall_ms()
    writes = []
    for origin, sku, extra in (("hub", "A1", "111"), ("hub-b", "B1", "222")):
        replica = writer(tmp_path, origin)
        writes.append(
            [
                raw
                for e in replica.append(
                    [
                        Upsert(entity="product", key=sku, fields={"name": sku, "price": 100}),
                        Upsert(entity="barcode", key="999", fields={"sku": sku}),
                        Upsert(entity="barcode", key=extra, fields={"sku": sku}),
                    ],
                    "buyer",
                    now,
                )
                for raw in [replica.log.raw_events(origin, e.seq - 1, 1)[0][1]]
            ]
        )
    seen = set()
    for i, order in enumerate(itertools.permutations(writes)):
        replica = writer(tmp_path / "again", f"S0{i}")
        for raws in order:
            replica.ingest(raws, now)
        read = replica.read
        owner = read.product_by_barcode("999")
        assert owner is not None
        seen.add(
            (
                owner.sku,
                read.product("A1").barcodes,  # type: ignore[union-attr]
                read.product("B1").barcodes,  # type: ignore[union-attr]
            )
        )
    assert len(seen) == 1
    ((winner, a_codes, b_codes),) = seen
    assert winner in ("A1", "B1")
    assert ("999" in a_codes) == (winner == "A1") and ("999" in b_codes) == (winner == "B1")
    assert "111" in a_codes and "222" in b_codes
