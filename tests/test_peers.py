"""The peer exchange between the tills of one store, over the in-memory bus: real node
ledgers (SQLite files), no NATS. The same exchange over real nats-servers with the store's
link to head office cut is tests/test_leaf.py.
"""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from node.service import Node
from protocol import codec
from protocol.units import format_qty
from replication.peers import (
    MAX_REPLIES,
    Batch,
    ExchangeResult,
    MemoryPeerBus,
    PeerExchange,
    Want,
    peer_subject,
)
from tests.sync_helpers import days_ago_ms, fill

_encode = msgspec.msgpack.Encoder(order="deterministic").encode


def till(tmp_path, node: str, location: str = "S01") -> Node:
    return Node.init(tmp_path / f"{node}.db", node, location, "nats://127.0.0.1:1")


def peer(node: Node, hub: dict, **kwargs) -> PeerExchange:
    bus = MemoryPeerBus(hub)
    return PeerExchange(node.store, node.config.node, node.config.location, bus, **kwargs)


def stock(node: Node) -> list[tuple[str, str | None, str]]:
    return [(r.sku, r.lot, format_qty(r.qty)) for r in node.read.stock(location="S01")]


def exchange(p: PeerExchange) -> ExchangeResult:
    return asyncio.run(p.exchange())


def start(*peers: PeerExchange) -> None:
    async def all_() -> None:
        for p in peers:
            await p.start()

    asyncio.run(all_())


def trade(node: Node) -> None:
    node.add_product("A1", "Tea", price="5.00")
    node.receive("A1", "10", cost="2.00")
    node.sell("A1", "3")


def test_a_till_takes_what_it_lacks_of_the_other_tills_logs(tmp_path) -> None:
    hub: dict = {}
    one, two, three = till(tmp_path, "S01"), till(tmp_path, "S01-T2"), till(tmp_path, "S01-T3")
    p1, p2, p3 = peer(one, hub), peer(two, hub), peer(three, hub)
    start(p1, p2, p3)
    trade(one)
    three.add_product("B1", "Rice", price="9.00")
    three.receive("B1", "4")

    got = exchange(p2)

    assert got.applied == one.store.log.head_seq("S01") + three.store.log.head_seq("S01-T3")
    assert got.refused == 0
    assert stock(two) == [("A1", None, "7.000"), ("B1", None, "4.000")]
    # idempotent: nothing twice
    assert exchange(p2).applied == 0
    # and after a sale at till 2, till 1 takes till 2's and till 3's logs, not its own back
    two.sell("A1", "2")
    got = exchange(p1)
    assert got.applied == two.store.log.head_seq("S01-T2") + three.store.log.head_seq("S01-T3")
    assert stock(one) == stock(two) == [("A1", None, "5.000"), ("B1", None, "4.000")]


def test_a_long_log_comes_in_bounded_batches_over_several_requests(tmp_path) -> None:
    hub: dict = {}
    one, two = till(tmp_path, "S01"), till(tmp_path, "S01-T2")
    head = fill(one, 3_000, days_ago_ms(2), 3_600_000, seed=7)
    p1 = peer(one, hub, max_batch_bytes=4_096)
    p2 = peer(two, hub)
    start(p1)

    replies = p1.answer(_encode(Want("S01-T2", "S01", {})))
    assert len(replies) == MAX_REPLIES
    batches = [msgspec.msgpack.decode(r, type=Batch) for r in replies]
    assert all(len(b.events) <= 4_096 for b in batches)
    assert all(b.more for b in batches)

    got = exchange(p2)
    assert got.applied == head
    assert got.replies > MAX_REPLIES  # it had to ask more than once
    assert two.store.log.head_seq("S01") == head
    assert stock(two) == [(r.sku, r.lot, format_qty(r.qty)) for r in one.read.stock("S01")]


def test_answers_only_requests_of_its_location_from_another_node(tmp_path) -> None:
    one = till(tmp_path, "S01")
    trade(one)
    p1 = peer(one, {})
    assert p1.answer(_encode(Want("S02", "S02", {}))) == []
    assert p1.answer(_encode(Want("S01", "S01", {}))) == []  # itself
    assert p1.answer(b"\xc1 not msgpack") == []
    assert len(p1.answer(_encode(Want("S01-T2", "S01", {})))) == 1
    assert p1.answer(_encode(Want("S01-T2", "S01", {"S01": 99}))) == []  # nothing it lacks
    assert peer_subject("S01") == "kucun.peer.S01.want"


@pytest.mark.parametrize(
    "forge",
    [
        "garbage",
        "hub origin",
        "other location",
        "own log",
        "mixed origins",
        "flipped byte",
        "other ledger on the id",
    ],
)
def test_forged_or_garbled_replies_are_refused_and_the_round_goes_on(tmp_path, forge) -> None:
    hub: dict = {}
    one, two = till(tmp_path, "S01"), till(tmp_path, "S01-T2")
    trade(one)
    impostor = Node.init(tmp_path / "impostor.db", "S01", "S01", "nats://127.0.0.1:1")
    impostor.add_product("A1", "Tea", price="5.00")
    impostor.receive("A1", "1000")
    impostor.close()
    impostor = Node.open(tmp_path / "impostor.db")
    real = [raw for _, raw in one.store.log.raw_events("S01", 0)]
    fake = [raw for _, raw in impostor.store.log.raw_events("S01", 0)]
    two.add_product("Z9", "Bag", price="0.20")
    mine = [raw for _, raw in two.store.log.raw_events("S01-T2", 0)]

    def rogue(_payload: bytes) -> list[bytes]:
        def batch(origin: str, raws: list[bytes], location: str = "S01") -> bytes:
            return _encode(Batch(origin, location, codec.encode_batch(raws)))

        if forge == "garbage":
            return [b"\x00\x01garbage", _encode(Batch("S01", "S01", b"\xc1"))]
        if forge == "hub origin":
            return [batch("hub", real)]
        if forge == "other location":
            return [batch("S01", real, location="S02")]
        if forge == "own log":
            return [batch("S01-T2", mine)]
        if forge == "mixed origins":
            return [batch("S01-T3", real)]
        if forge == "flipped byte":  # garbled on the way: event 2 does not decode
            raws = list(real)
            raws[1] = raws[1][:-1]
            return [batch("S01", raws)]
        return [batch("S01", fake)]  # another ledger writing S01's id

    p2 = peer(two, hub)
    if forge == "other ledger on the id":
        # the forgery first: it is taken (nothing tells it from the real one yet: the
        # store's server has no auth, docs/architecture.md), then the real log conflicts
        # with it and is kept aside, never mixed into one chain
        hub.setdefault(p2.subject, []).append(rogue)
        exchange(p2)
        hub[p2.subject].remove(rogue)
        start(peer(one, hub))
        got = exchange(p2)
        assert got.applied == 0 and got.refused > 0
        reasons = [r["reason"] for r in two.store.quarantine.rejected()]
        assert reasons and all(("conflicting copy" in r or "chain broken" in r) for r in reasons)
        assert two.store.log.head_seq("S01") == impostor.store.log.head_seq("S01")
        return

    hub.setdefault(p2.subject, []).append(rogue)
    start(peer(one, hub))  # the honest till answers too
    got = exchange(p2)

    assert got.refused >= 1
    # the honest reply was taken all the same (a garbled batch before it stopped nothing)
    assert two.store.log.head_seq("S01") == one.store.log.head_seq("S01")
    assert stock(two) == stock(one) == [("A1", None, "7.000")]
    assert "hub" not in two.store.log.heads()
    if forge == "flipped byte":
        assert two.store.quarantine.rejected()
