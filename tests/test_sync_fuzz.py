"""Garbage on the events stream: the hub sets it aside, says why, and never stops ingesting.

Everything is published with a raw nats-py JetStream client on `kucun.ev.<x>` subjects, as
any client of an unauthenticated NATS could. A genuine node syncing afterwards (and while
garbage keeps arriving) must still land exactly, and `GET /api/v1/rejected` must list
every unusable message with a reason.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import time
from collections import Counter

import msgspec
import nats
import pytest

from node.service import Node
from protocol import codec, subjects
from protocol.events import Movement, Upsert
from replication.nats_transport import NatsTransport
from replication.setup import ensure_streams
from tests.helpers import HubProcess, start_hub, wait_until
from tests.sync_helpers import (
    HOUR_MS,
    assert_converged,
    chain,
    child_env,
    days_ago_ms,
    fill,
    make_event,
    nodes_item,
    sync_cmd,
)

NOW = days_ago_ms(1)


def receipt(dst: str, qty: int = 5000) -> Movement:
    return Movement(sku="P00", qty=qty, src="@supplier", dst=dst, unit_cost=100)


def one(origin: str, seq: int = 1, prev: bytes = codec.GENESIS, body=None, hlc_ms=NOW) -> bytes:
    """A batch of one well-formed event (chain and all, unless told otherwise)."""
    event = make_event(origin, seq, prev, hlc_ms, body or receipt(origin))
    return codec.encode_batch([codec.encode(event)])


async def publish_all(url: str, items: list[tuple[str, bytes]]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    for subject, payload in items:
        await js.publish(subject, payload)
    await nc.close()


def not_a_batch(payload: bytes) -> bool:
    try:
        codec.decode_batch(payload)
    except codec.BadEvent:
        return True
    return False


def garbage(rng: random.Random) -> list[tuple[str, bytes, str]]:
    """(subject, payload, what) for every kind of unusable message, each rejected whole."""
    out: list[tuple[str, bytes, str]] = [("kucun.ev.X0", b"", "empty")]
    while len(out) < 31:
        payload = rng.randbytes(rng.randint(1, 3000))
        if not_a_batch(payload):
            out.append((f"kucun.ev.X{rng.randrange(4)}", payload, "random bytes"))
    wrong_schema = [
        msgspec.msgpack.encode({"origin": "X1", "seq": "one"}),
        msgspec.msgpack.encode([1, 2, 3]),
        msgspec.msgpack.encode(["not", "bytes"]),
        msgspec.msgpack.encode(None),
        msgspec.msgpack.encode([b"\x01\x02\x03"]),
        msgspec.msgpack.encode([{"origin": "X1", "seq": 1}]),
        msgspec.msgpack.encode(
            [
                msgspec.msgpack.encode(
                    {
                        "origin": "X1",
                        "seq": 1,
                        "hlc": NOW << 16,
                        "prev": codec.GENESIS,
                        "user": "u",
                        "body": {"kind": "teleport", "sku": "P00"},
                    }
                )
            ]
        ),
        msgspec.msgpack.encode(
            [
                msgspec.msgpack.encode(
                    {
                        "origin": "X1",
                        "seq": 1,
                        "hlc": NOW << 16,
                        "user": "u",
                        "body": {
                            "kind": "movement",
                            "sku": "P00",
                            "qty": 1,
                            "src": "a",
                            "dst": "b",
                        },
                    }
                )
            ]
        ),
    ]
    out += [("kucun.ev.X1", p, "wrong schema") for p in wrong_schema]
    # canonical bytes only: the same event with its dict keys in another order
    loose = make_event(
        "X2",
        1,
        codec.GENESIS,
        NOW,
        Upsert(entity="product", key="P00", fields={"price": 1, "name": "A"}),
    )
    out.append(
        ("kucun.ev.X2", codec.encode_batch([msgspec.msgpack.encode(loose)]), "not canonical")
    )
    # events of another origin than the subject's, one of them claiming the real node's
    out.append(("kucun.ev.X3", one("S09"), "origin differs"))
    out.append(("kucun.ev.X3", one("S01", body=receipt("S01", 999_000)), "origin differs"))
    mixed = [*chain("X3", [receipt("X3")] * 3, NOW)[:2], codec.decode_batch(one("S01"))[0]]
    out.append(("kucun.ev.X3", codec.encode_batch(mixed), "origin differs"))
    # truncated batches
    whole = codec.encode_batch(chain("X4", [receipt("X4")] * 20, NOW))
    for cut in sorted(rng.sample(range(1, len(whole)), 5)):
        out.append(("kucun.ev.X4", whole[:cut], "truncated"))
    # a subject with more tokens than kucun.ev.<origin>
    out.append(("kucun.ev.X5.extra", one("X5"), "bad subject"))
    return out


@pytest.mark.slow
def test_garbage_on_the_event_subjects_is_rejected_and_ingest_goes_on(tmp_path, nats_server, hub):
    seed = int(os.environ.get("KUCUN_FUZZ_SEED") or random.randrange(2**32))
    print(f"\nfuzz seed {seed} (replay: KUCUN_FUZZ_SEED={seed})")
    rng = random.Random(seed)
    junk = garbage(rng)
    rng.shuffle(junk)
    # a genuine S08:1, a forged S08:2 that does not chain to it, an S08:3 chained to the
    # forgery (so it waits behind the gap), and another S08:1 with different content
    genuine = one("S08")
    forged = one(
        "S08", 2, prev=b"\x07" * 16, body=Movement(sku="P00", qty=4000, src="S08", dst="@customer")
    )
    after_forged = one(
        "S08", 3, prev=codec.event_hash(codec.decode_batch(forged)[0]), hlc_ms=NOW + 2
    )
    conflicting = one("S08", body=receipt("S08", 9000))
    chained = [("kucun.ev.S08", p) for p in (genuine, forged, after_forged, conflicting)]

    db = tmp_path / "s01.db"
    node = Node.init(db, "S01", None, nats_server.url)
    fill(node, 3000, NOW - 3 * HOUR_MS, HOUR_MS, seed=seed)
    half = len(junk) // 2
    asyncio.run(publish_all(nats_server.url, [(s, p) for s, p, _ in junk[:half]] + chained))
    sync = subprocess.Popen(
        sync_cmd(db, "--confirm-timeout", "30"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    # more garbage while the genuine node syncs
    asyncio.run(publish_all(nats_server.url, [(s, p) for s, p, _ in junk[half:]]))
    _, err = sync.communicate(timeout=120)
    assert sync.returncode == 0, err
    assert_converged(hub, node, nats_server.url, rejected_ok=True)
    assert hub.proc.poll() is None

    status, body = hub.get("/api/v1/rejected")
    assert status == 200
    rejected = body["items"]
    assert all(item["reason"] for item in rejected)
    whole = Counter((item["origin"], item["size"]) for item in rejected if item["seq"] is None)
    expected = Counter((subjects.origin_of_subject(s), len(p)) for s, p, _ in junk)
    assert not expected - whole, f"not listed as rejected: {expected - whole}"
    reasons = " | ".join(item["reason"] for item in rejected)
    for needle in (
        "not a kucun event batch",
        "not a kucun event:",
        "not in canonical encoding",
        "event from 'S09' arrived on 'kucun.ev.X3'",
        "event from 'S01' arrived on 'kucun.ev.X3'",
        "arrived on 'kucun.ev.X5.extra'",
    ):
        assert needle in reasons, needle
    by_event = {(i["origin"], i["seq"]): i["reason"] for i in rejected if i["seq"] is not None}
    assert by_event == {
        ("S08", 2): "hash chain broken at S08:2",
        ("S08", 1): "conflicting copy of S08:1 (different content)",
    }
    # the genuine S08:1 still counts; the forgery is out and what follows it waits, visibly
    assert hub.stock(location="S08") == [
        {"location": "S08", "sku": "P00", "lot": None, "qty": "5.000"}
    ]
    item = nodes_item(hub, "S08")
    assert (item["ingested_seq"], item["waiting"], item["missing"]) == (
        1,
        1,
        [{"first": 2, "last": 2}],
    )
    origins = set(hub.get("/healthz", auth=False)[1]["origins"])
    assert origins == {"S01", "S08"}  # nothing of X0..X5 or S09 was folded


def poison_then_valid(url: str, poison: list[tuple[str, bytes]]) -> None:
    """Poison and a valid V1:1 land in the stream before the hub's first fetch."""

    async def go() -> None:
        nc = await nats.connect(url)
        js = nc.jetstream()
        await ensure_streams(NatsTransport(js))
        for subject, payload in [*poison, ("kucun.ev.V1", one("V1"))]:
            await js.publish(subject, payload)
        await nc.close()

    asyncio.run(go())


def test_out_of_range_integers_are_rejected_not_a_poison_message(tmp_path, nats_server):
    """msgspec decodes integers up to 2**64-1, SQLite stores up to 2**63-1. An event with
    seq, hlc or quantity beyond that is canonical and chains, so ingest stores it: the
    OverflowError (ledger/store.py `_stored_among` / ledger/derive.py `write`) escapes
    `ingest_messages`, the fetch is never acknowledged, the hub reconnects and gets it again
    after each 30 s ack wait, for ever, together with every valid message fetched with it."""
    poison = [
        ("kucun.ev.B1", one("B1", seq=2**63)),
        ("kucun.ev.B2", one("B2", body=receipt("B2", 2**63))),
        ("kucun.ev.B3", codec.encode_batch(chain("B3", [receipt("B3", 2**62)] * 2, NOW))),
    ]
    poison_then_valid(nats_server.url, poison)
    hub = start_hub(tmp_path, nats_server.url)
    try:
        assert wait_until(lambda: hub.ingested("V1") == 1, timeout=20), (
            "a valid event fetched together with the poison is never ingested"
        )
        rejected = {item["origin"] for item in hub.get("/api/v1/rejected")[1]["items"]}
        assert {"B1", "B2", "B3"} <= rejected
        assert "Traceback" not in hub.log.read_text()
    finally:
        hub.stop()


def ingest_then(hub: HubProcess, url: str, items: list[tuple[str, bytes]]) -> None:
    """Publish items, then a valid V1:1; once V1 is in, the hub has handled every item."""
    asyncio.run(publish_all(url, [*items, ("kucun.ev.V1", one("V1"))]))
    assert wait_until(lambda: hub.ingested("V1") == 1, timeout=20)


def test_the_hubs_own_logs_cannot_arrive_on_the_events_stream(tmp_path, nats_server, hub):
    """Node ids may not be "hub" or start with "hub-": those are the hub's own logs, which
    it folds and publishes to every node (kucun.hub.all) or to one store's nodes
    (kucun.hub.to.<location>). ingest_messages only checks that an event's origin equals
    its subject's, so an event of origin "hub-S01" on kucun.ev.hub-S01 is folded into the
    hub's stock and re-published by the hub to S01's tills as if the hub had written it."""
    price = Upsert(entity="product", key="P00", fields={"price": 1})
    gift = Movement(sku="P00", qty=1_000_000, src="@supplier", dst="S01")
    ingest_then(
        hub,
        nats_server.url,
        [
            ("kucun.ev.hub", one("hub", body=price)),
            ("kucun.ev.hub-S01", one("hub-S01", body=gift)),
        ],
    )
    origins = set(hub.get("/healthz", auth=False)[1]["origins"])
    rejected = {item["origin"] for item in hub.get("/api/v1/rejected")[1]["items"]}
    assert hub.stock(location="S01") == []
    assert origins == {"V1"}, origins
    assert {"hub", "hub-S01"} <= rejected


@pytest.mark.parametrize("seq", [0, -5])
def test_events_numbered_below_one_are_rejected(tmp_path, nats_server, hub, seq):
    """Logs start at seq 1. An event numbered 0 or below is stored but can never join the
    verified prefix, and appears nowhere: not in /api/v1/rejected, not in /api/v1/nodes."""
    ingest_then(hub, nats_server.url, [("kucun.ev.Z1", one("Z1", seq=seq))])
    rejected = hub.get("/api/v1/rejected")[1]["items"]
    assert [(i["origin"], i["seq"]) for i in rejected] == [("Z1", seq)]


def test_an_origin_whose_first_event_is_held_or_missing_is_listed(tmp_path, nats_server, hub):
    """A till whose clock runs a day ahead from its first sale: the hub holds F1:1, as it
    should, but GET /api/v1/nodes lists only origins with a verified head, so F1 and its
    held reason appear nowhere in the API. Same for G1, whose seq 1 never arrived."""
    future = int(time.time() * 1000) + 24 * HOUR_MS
    ingest_then(
        hub,
        nats_server.url,
        [
            ("kucun.ev.F1", one("F1", hlc_ms=future)),
            ("kucun.ev.G1", one("G1", seq=2, prev=b"\x01" * 16)),
        ],
    )
    held = nodes_item(hub, "F1")
    assert held is not None, "a held first event is invisible in /api/v1/nodes"
    assert held["ingested_seq"] == 0 and "clock of F1 is ahead" in held["held"][0]["reason"]
    waiting = nodes_item(hub, "G1")
    assert waiting is not None, "an origin waiting for its seq 1 is invisible"
    assert waiting["missing"] == [{"first": 1, "last": 1}] and waiting["waiting"] == 1
