"""node/lookup.py: search with pinyin, a product's stock here, and other stores' stock
asked of a hub over a real nats-server, kept for when the store is offline."""

from __future__ import annotations

import asyncio
import time

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeout

from hub.stock_service import serve_stock, stock_answer
from hub.store import HubStore
from node.errors import NodeError, UnknownProduct
from node.lookup import Lookup, pinyin_of
from node.permissions import User
from node.service import Node
from protocol import subjects
from replication.stock_query import (
    StockAnswer,
    decode_answer,
    decode_query,
    encode_answer,
    encode_query,
)

CLERK = User("u1", "Li", "clerk")
OFFLINE = "nats://127.0.0.1:1"


def store(tmp_path, name: str, url: str = OFFLINE) -> Node:
    node = Node.init(tmp_path / f"{name}.db", name, None, url)
    node.add_product("A100", "苹果 红富士", "6901234567892", "5.80")
    node.add_product("P200", "梨", "6901234567908", "3.20")
    node.add_product("M300", "Fresh Milk 1L", None, "12.00")
    node.add_product("B1.5", "苹果汁", None, "8.00")
    return node


def test_pinyin_of_names():
    assert pinyin_of("苹果") == ("pg", "pingguo")
    assert pinyin_of("苹果 红富士 1kg") == ("pghfs", "pingguohongfushi")
    assert pinyin_of("Fresh Milk") == ("", "")
    assert pinyin_of("") == ("", "")


def test_search_by_sku_barcode_name_and_pinyin(tmp_path):
    lookup = Lookup(store(tmp_path, "S01"), CLERK)
    assert [p.sku for p in lookup.search("pg")] == ["A100", "B1.5"]
    assert [p.sku for p in lookup.search("pingguo")] == ["A100", "B1.5"]
    assert [p.sku for p in lookup.search("pgz")] == ["B1.5"]
    assert [p.sku for p in lookup.search("6901234567908")] == ["P200"]
    assert [p.sku for p in lookup.search("milk")] == ["M300"]
    assert [p.sku for p in lookup.search("梨")] == ["P200"]
    assert [p.sku for p in lookup.search("")] == ["A100", "B1.5", "M300", "P200"]
    assert lookup.search("nothing") == []
    assert lookup.scanned("6901234567892").sku == "A100"  # type: ignore[union-attr]
    assert lookup.scanned("a100").sku == "A100"  # type: ignore[union-attr]
    assert lookup.scanned("pg") is None
    # a GTIN in another length than stored: UPC-A 12 digits for an EAN-13 with a leading 0
    lookup.node.add_product("U1", "Import Tea", "0012345678905", "30.00")
    lookup = Lookup(lookup.node, CLERK)
    assert [p.sku for p in lookup.search("012345678905")][:1] == ["U1"]
    assert lookup.scanned("012345678905").sku == "U1"  # type: ignore[union-attr]
    assert lookup.scanned("00000000") is None


def test_detail_shows_lots_by_expiry_price_and_last_movements(tmp_path):
    node = store(tmp_path, "S01")
    node.receive("A100", "10", cost="3.00", lot="L2", expiry="2027-03-01")
    node.receive("A100", "4", cost="3.00", lot="L1", expiry="2027-01-15")
    node.sell("A100", "2")  # first expiry first: from L1
    detail = Lookup(node, CLERK).detail("A100")
    assert detail.product.price == 580
    assert [(lot.lot, lot.expiry, lot.qty) for lot in detail.lots] == [
        ("L1", "2027-01-15", 2000),
        ("L2", "2027-03-01", 10000),
    ]
    assert detail.on_hand == 12000
    assert [(m.doc_type, m.lot, m.qty, m.after) for m in detail.movements] == [
        ("sale", "L1", -2000, 12000),
        ("receipt", "L1", 4000, 14000),
        ("receipt", "L2", 10000, 10000),
    ]
    assert all(m.doc and m.at_ms > 0 for m in detail.movements)
    assert len(Lookup(node, CLERK).detail("A100", movements=1).movements) == 1
    with pytest.raises(UnknownProduct):
        Lookup(node, CLERK).detail("NOPE")


def test_a_role_without_lookup_is_refused(tmp_path):
    with pytest.raises(NodeError, match="may not look products up"):
        Lookup(store(tmp_path, "S01"), User("x", "X", "nobody"))


def test_offline_with_nothing_kept_shows_nothing_and_returns_quickly(tmp_path):
    lookup = Lookup(store(tmp_path, "S01"), CLERK)
    assert lookup.ask_other_stores("A100", timeout=0.5) is None
    assert lookup.other_stores("A100", timeout=0.5) is None


def test_the_kept_answer_is_shown_offline_with_its_time(tmp_path):
    node = store(tmp_path, "S01")
    lookup = Lookup(node, CLERK)
    lookup.remember(StockAnswer("A100", 1_700_000_000_000, [("S01", 5000), ("S02", 7000)]))
    lookup.remember(StockAnswer("A100", 1_600_000_000_000, [("S02", 1)]))  # older: ignored
    kept = lookup.other_stores("A100", timeout=0.3)
    assert kept is not None and not kept.fresh
    assert kept.as_of_ms == 1_700_000_000_000
    assert kept.levels == [("S01", 5000), ("S02", 7000)]
    node.close()
    reopened = Lookup(Node.open(tmp_path / "S01.db"), CLERK)  # survives a restart
    assert reopened.cached_other_stores("A100") == kept
    assert reopened.cached_other_stores("P200") is None


def test_codec_refuses_what_is_not_a_query_or_answer():
    assert decode_query(encode_query("A100")).sku == "A100"  # type: ignore[union-attr]
    assert decode_query(b"") is None
    assert decode_query(b"\xc1garbage") is None
    assert decode_query(encode_query("")) is None
    assert decode_query(encode_query("x" * 65)) is None
    answer = StockAnswer("A100", 5, [("S01", 1)])
    assert decode_answer(encode_answer(answer)) == answer
    assert decode_answer(encode_query("A100")) is None


def test_each_node_may_ask_on_its_own_subject_only():
    allowed = subjects.node_permissions("S01-T2", "S01")["publish"]["allow"]
    assert subjects.stock_query_subject("S01-T2") in allowed
    assert subjects.stock_query_subject("S02") not in allowed


def hub_with_stock(tmp_path, *nodes: Node) -> HubStore:
    """A hub store holding the nodes' logs, folded: what the hub would have ingested."""
    hub, _ = HubStore.init(tmp_path / "hub.db")
    for node in nodes:
        origin = node.config.node
        raws = [raw for _, raw in node.store.log.raw_events(origin, 0, limit=10**6)]
        hub.events.ingest(raws, int(time.time() * 1000))
    return hub


async def test_the_hub_answers_every_locations_stock_over_nats(tmp_path, nats_server):
    here = store(tmp_path, "S01", nats_server.url)
    there = store(tmp_path, "S02", nats_server.url)
    here.receive("A100", "10", lot="L1", expiry="2027-01-15")
    there.receive("A100", "3", lot="L1", expiry="2027-01-15")
    there.receive("A100", "4", lot="L2", expiry="2027-02-01")
    hub = hub_with_stock(tmp_path, here, there)
    assert stock_answer(hub, "A100").levels == [("S01", 10000), ("S02", 7000)]
    assert stock_answer(hub, "NOPE").levels == []

    nc = await nats.connect(nats_server.url)
    await serve_stock(nc, hub)
    await nc.flush()
    lookup = Lookup(here, CLERK)
    before = int(time.time() * 1000)
    answer = await asyncio.to_thread(lookup.ask_other_stores, "A100")  # the worker thread
    assert answer is not None and answer.levels == [("S01", 10000), ("S02", 7000)]
    assert answer.as_of_ms >= before
    shown = lookup.remember(answer)
    assert shown.fresh and shown.levels == answer.levels

    # a garbled query gets no answer; the service keeps answering the others
    with pytest.raises(NatsTimeout):
        await nc.request(subjects.stock_query_subject("S01"), b"\xc1", timeout=0.3)
    again = await asyncio.to_thread(lookup.ask_other_stores, "P200")
    assert again is not None and again.levels == []

    await nc.close()  # the hub is gone: the lookup says what it kept, and when
    assert await asyncio.to_thread(lookup.ask_other_stores, "A100", 0.5) is None
    kept = lookup.cached_other_stores("A100")
    assert kept is not None and not kept.fresh
    assert (kept.as_of_ms, kept.levels) == (answer.as_of_ms, answer.levels)
    hub.conn.close()


async def test_with_nkeys_a_node_asks_as_itself_and_the_hub_answers(tmp_path):
    """On a nats-server that requires each node's NKEY and its permissions: the node asks on
    its own subject and gets the answer on its own inbox; S02's subject is refused it."""
    from hub import identities
    from kucun import natsserver
    from kucun.natsserver import NatsServer

    hub, _ = HubStore.init(tmp_path / "hub.db")
    hub_key = identities.hub_seed(hub)
    seed = identities.add_node(hub, "S01", "S01")
    identities.add_node(hub, "S02", "S02")
    server = NatsServer(data_dir=tmp_path / "nats")
    server.authorization = natsserver.authorization_block(
        identities.hub_public_key(hub),
        [
            (n.public_key, subjects.node_permissions(n.node, n.location))
            for n in identities.nodes(hub)
        ],
    )
    server.start(log_file=(tmp_path / "nats.log").open("ab"))
    try:
        node = Node.init(tmp_path / "S01.db", "S01", None, server.url, nkey_seed=seed)
        node.add_product("A100", "苹果", None, "5.80")
        node.receive("A100", "3")
        raws = [raw for _, raw in node.store.log.raw_events("S01", 0, limit=100)]
        hub.events.ingest(raws, int(time.time() * 1000))
        nc = await nats.connect(server.url, nkeys_seed_str=hub_key)
        await serve_stock(nc, hub)
        await nc.flush()
        lookup = Lookup(node, CLERK)
        answer = await asyncio.to_thread(lookup.ask_other_stores, "A100")
        assert answer is not None and answer.levels == [("S01", 3000)]

        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc).lower())

        as_s01 = await nats.connect(server.url, error_cb=on_error, **node.config.nats_auth())
        with pytest.raises(NatsTimeout):
            await as_s01.request(
                subjects.stock_query_subject("S02"), encode_query("A100"), timeout=0.5
            )
        await as_s01.close()
        assert any("permissions violation" in e for e in errors), errors
        await nc.close()
    finally:
        server.close()
        hub.conn.close()


@pytest.mark.slow
async def test_kucun_hub_serve_answers_a_tills_lookup(tmp_path, nats_server, hub):
    """The real `kucun hub serve` process answers: S02's stock, synced to it, reaches S01's
    lookup."""
    from node import sync

    here = store(tmp_path, "S01", nats_server.url)
    there = store(tmp_path, "S02", nats_server.url)
    there.receive("A100", "7")
    await sync.sync_once(there)
    lookup = Lookup(here, CLERK)
    answer = None
    for _ in range(50):  # until the hub has folded S02's receipt
        answer = await asyncio.to_thread(lookup.ask_other_stores, "A100")
        if answer is not None and ("S02", 7000) in answer.levels:
            break
        await asyncio.sleep(0.1)
    assert answer is not None and ("S02", 7000) in answer.levels
