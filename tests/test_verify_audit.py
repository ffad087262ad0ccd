"""The audit trail can be read and checked: `node verify` / `hub verify` re-hash every
chain, the publisher re-hashes what it sends, the hub's hash in the watermark reveals an
edited synced event, and `node audit` / `GET /api/v1/audit` list who did what.

Ledgers are edited the way someone with the file would: with the `sqlite3` module."""

from __future__ import annotations

import json
import sqlite3

import msgspec
import nats
import pytest

from hub.store import HubStore
from ledger.replica import Replica
from ledger.sqlite import connect
from node.service import Node
from protocol import codec, subjects
from protocol.events import Event, Movement
from replication.nats_transport import NatsTransport
from replication.publisher import ChainBroken, Publisher
from replication.setup import ensure_streams
from tests.helpers import kucun, wait_until
from tests.sync_helpers import DAY_MS, days_ago_ms, nodes_item


def forge(db: str, origin: str, seq: int, qty: int, cover_head: bool = True) -> None:
    """Change the quantity of movement `origin`:`seq` in the file, re-encoded canonically
    with its hash column updated; `cover_head`: the head record too, if it is the newest
    (a careful editor)."""
    with sqlite3.connect(db) as conn:
        (raw,) = conn.execute(
            "SELECT raw FROM events WHERE origin = ? AND seq = ?", (origin, seq)
        ).fetchone()
        event = codec.decode(raw)
        assert isinstance(event.body, Movement)
        forged = codec.encode(
            msgspec.structs.replace(event, body=msgspec.structs.replace(event.body, qty=qty))
        )
        digest = codec.event_hash(forged)
        conn.execute(
            "UPDATE events SET raw = ?, hash = ? WHERE origin = ? AND seq = ?",
            (forged, digest, origin, seq),
        )
        if cover_head:
            conn.execute(
                "UPDATE heads SET hash = ? WHERE origin = ? AND seq = ?", (digest, origin, seq)
            )


def shop(db: str) -> None:
    """A product, a receipt and a sale: five events; 3 and 5 are movements."""
    kucun(
        "node", "product", "add", "--db", db, "A1", "--name", "Apple", "--price", "3.5", check=True
    )
    kucun("node", "receive", "--db", db, "A1", "10", "--cost", "2.00", check=True)
    kucun("node", "sell", "--db", db, "A1", "3", check=True)


def init(db: str, url: str = "nats://127.0.0.1:1", user: str = "admin") -> None:
    kucun("node", "init", "--db", db, "--node", "S01", "--nats", url, "--user", user, check=True)


# ---- node verify -------------------------------------------------------------------------


@pytest.mark.slow  # several `kucun` processes
def test_node_verify_finds_an_edited_event_and_names_it(tmp_path):
    db = str(tmp_path / "s.db")
    init(db)
    shop(db)
    ok = kucun("node", "verify", "--db", db)
    assert (ok.returncode, ok.stdout.strip()) == (0, "5 events of 1 origin verified")

    forge(db, "S01", 3, 1000)  # the receipt's movement: 10 became 1
    broken = kucun("node", "verify", "--db", db)
    assert broken.returncode == 1
    assert "hash chain broken at S01:4: it does not chain to S01:3" in broken.stderr
    assert "Traceback" not in broken.stderr


@pytest.mark.slow  # several `kucun` processes
def test_node_verify_sees_an_edited_newest_event_unless_the_head_was_edited_too(tmp_path):
    db = str(tmp_path / "s.db")
    init(db)
    shop(db)
    forge(db, "S01", 5, 1000, cover_head=False)
    careless = kucun("node", "verify", "--db", db)
    assert careless.returncode == 1
    assert "S01:5: it differs from the hash recorded" in careless.stderr

    # The one edit no chain reveals: the newest event, head record and all. Only the hub's
    # hash of a synced event can (test_edited_synced_newest_event_is_refused_at_sync).
    forge(db, "S01", 5, 1000, cover_head=True)
    assert kucun("node", "verify", "--db", db).returncode == 0


def test_hub_verify_walks_both_storage_forms(tmp_path):
    node = Replica(connect(tmp_path / "node.db"), "S01")
    start = days_ago_ms(1)
    moves = [Movement(sku="A1", qty=1000 * (i + 1), src="S01", dst="@customer") for i in range(6)]
    node.append(moves[:3], "till", start)
    node.append(moves[3:], "till", start + 1000)
    raws = [raw for _, raw in node.log.raw_events("S01", 0)]
    hub_db = tmp_path / "hub.db"
    kucun("hub", "init", "--db", str(hub_db), check=True)
    store = HubStore.open(hub_db)
    batch = codec.encode_batch(raws[:4])
    assert store.events.ingest_batch("S01", batch, raws[:4], start + DAY_MS)  # kept whole
    store.events.ingest(raws[4:], start + DAY_MS)  # a row each
    store.conn.close()
    ok = kucun("hub", "verify", "--db", str(hub_db))
    assert (ok.returncode, ok.stdout.strip()) == (0, "6 events of 1 origin verified")

    # Edit the second event inside the stored batch.
    with sqlite3.connect(hub_db) as conn:
        (payload,) = conn.execute("SELECT payload FROM verified_batches").fetchone()
        inside = codec.decode_batch(payload)
        event: Event = codec.decode(inside[1])
        body = msgspec.structs.replace(event.body, qty=1)
        inside[1] = codec.encode(msgspec.structs.replace(event, body=body))
        conn.execute("UPDATE verified_batches SET payload = ?", (codec.encode_batch(inside),))
    broken = kucun("hub", "verify", "--db", str(hub_db))
    assert broken.returncode == 1
    assert "hash chain broken at S01:3" in broken.stderr


# ---- the publisher re-hashes what it sends -----------------------------------------------


@pytest.mark.slow  # several `kucun` processes
async def test_publisher_refuses_a_broken_chain_and_leaves_an_alert(tmp_path, nats_server):
    db = str(tmp_path / "s.db")
    init(db)
    shop(db)
    nc = await nats.connect(nats_server.url)
    try:
        transport = NatsTransport(nc.jetstream())
        await ensure_streams(transport)
        node = Node.open(db)
        assert await Publisher(node.store, transport, "S01").publish_backlog() == 5
        kucun("node", "sell", "--db", db, "A1", "1", check=True)  # 6 and 7, not yet sent
        kucun("node", "sell", "--db", db, "A1", "1", check=True)  # 8 and 9
        forge(db, "S01", 7, 5000)  # an unsynced middle event
        node = Node.open(db)
        with pytest.raises(ChainBroken, match=r"broken at S01:8: it does not chain to S01:7"):
            await Publisher(node.store, transport, "S01").publish_backlog()
        subject = subjects.events_subject("S01")
        last = await transport.last_message(subjects.EVENTS_STREAM, subject)
        assert last is not None and last.seq == 1  # nothing after the first batch
    finally:
        await nc.close()
    alerts = [a for a in Node.open(db).read.alerts() if a.kind == "chain_broken"]
    assert [(a.origin, a.seq) for a in alerts] == [("S01", 8)]


@pytest.mark.slow  # several `kucun` processes
async def test_a_one_off_sync_rehashes_the_history_it_already_sent(tmp_path, nats_server):
    db = str(tmp_path / "s.db")
    init(db)
    shop(db)
    nc = await nats.connect(nats_server.url)
    try:
        transport = NatsTransport(nc.jetstream())
        await ensure_streams(transport)
        assert await Publisher(Node.open(db).store, transport, "S01").publish_backlog() == 5
        forge(db, "S01", 3, 1000)  # a synced event, not the newest
        store = Node.open(db).store
        # A counter's long-lived rounds only re-hash what they send (here: nothing) ...
        assert await Publisher(store, transport, "S01").publish_backlog() == 0
        # ... a `sync --once` re-hashes everything once.
        with pytest.raises(ChainBroken, match=r"broken at S01:4"):
            await Publisher(store, transport, "S01", verify_history=True).publish_backlog()
    finally:
        await nc.close()


# ---- node audit --------------------------------------------------------------------------


@pytest.mark.slow  # several `kucun` processes
def test_node_audit_lists_who_did_what_newest_first(tmp_path):
    db = str(tmp_path / "s.db")
    init(db, user="wang")
    node = Node.open(db)  # first, li's receipt of three days ago
    move = Movement(sku="A1", qty=2000, src="@supplier", dst="S01", doc="X-1")
    node.store.append([move], "li", days_ago_ms(3))
    node.conn.close()
    kucun("node", "product", "add", "--db", db, "A1", "--name", "Apple", "--price", "3.5")
    kucun("node", "sell", "--db", db, "A1", "1", check=True)

    out = kucun("node", "audit", "--db", db, "--json", check=True)
    items = json.loads(out.stdout)["items"]
    assert [(i["seq"], i["user"], i["kind"]) for i in items] == [
        (4, "wang", "movement"),
        (3, "wang", "document"),
        (2, "wang", "upsert"),
        (1, "li", "movement"),
    ]
    assert items[0]["doc"] == "S01-3" and items[0]["summary"] == "A1 1.000 S01 -> @customer"
    assert items[3]["summary"] == "A1 2.000 @supplier -> S01" and items[3]["doc"] == "X-1"
    assert items[1]["summary"] == "sale at S01, paid 3.50"

    by_li = json.loads(kucun("node", "audit", "--db", db, "--json", "--user", "li").stdout)
    assert [i["seq"] for i in by_li["items"]] == [1]
    since = kucun("node", "audit", "--db", db, "--json", "--since", _day(days_ago_ms(1)))
    assert [i["seq"] for i in json.loads(since.stdout)["items"]] == [4, 3, 2]
    page = kucun("node", "audit", "--db", db, "--json", "--limit", "2", "--offset", "1")
    assert [i["seq"] for i in json.loads(page.stdout)["items"]] == [3, 2]

    text = kucun("node", "audit", "--db", db, check=True).stdout.splitlines()
    assert text[0].startswith("TIME (UTC)") and "S01:4" in text[1] and "wang" in text[1]
    bad = kucun("node", "audit", "--db", db, "--since", "yesterday")
    assert bad.returncode == 1 and "use e.g. 2026-12-01" in bad.stderr
    assert "Traceback" not in bad.stderr


def _day(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


# ---- against the hub ----------------------------------------------------------------------


@pytest.mark.slow
def test_edited_synced_newest_event_is_refused_at_sync(tmp_path, nats_server, hub):
    db = str(tmp_path / "s.db")
    init(db, nats_server.url)
    shop(db)
    kucun("node", "sync", "--db", db, "--once", check=True)
    assert wait_until(lambda: hub.ingested("S01") == 5)

    forge(db, "S01", 5, 1000)  # the sale of 3 now says 1, head record and all
    assert kucun("node", "verify", "--db", db).returncode == 0  # the chain cannot tell
    synced = kucun("node", "sync", "--db", db, "--once")
    assert synced.returncode == 4, (synced.stdout, synced.stderr)
    assert "the hub: its event S01:5 differs from this ledger's" in synced.stderr
    assert "Traceback" not in synced.stderr
    assert wait_until(lambda: (nodes_item(hub, "S01") or {}).get("conflict"))

    # The hub's own copy still verifies, and its audit trail shows the genuine sale.
    assert kucun("hub", "verify", "--db", str(hub.db)).stdout.strip().startswith("5 events")
    status, body = hub.get("/api/v1/audit?user=admin&limit=2")
    assert status == 200, body
    assert [(i["origin"], i["seq"]) for i in body["items"]] == [("S01", 5), ("S01", 4)]
    assert body["items"][0]["summary"] == "A1 3.000 S01 -> @customer"
    assert body["next_offset"] == 2
    status, body = hub.get("/api/v1/audit?since=someday")
    assert status == 400 and "2026-12-01" in body["detail"]


@pytest.mark.slow
def test_edited_unsynced_middle_event_never_reaches_the_hub(tmp_path, nats_server, hub):
    db = str(tmp_path / "s.db")
    init(db, nats_server.url)
    shop(db)
    kucun("node", "sync", "--db", db, "--once", check=True)
    assert wait_until(lambda: hub.ingested("S01") == 5)
    kucun("node", "sell", "--db", db, "A1", "1", check=True)  # 6, 7
    kucun("node", "sell", "--db", db, "A1", "1", check=True)  # 8, 9
    forge(db, "S01", 7, 5000)

    synced = kucun("node", "sync", "--db", db, "--once")
    assert synced.returncode == 4, (synced.stdout, synced.stderr)
    assert "broken at S01:8" in synced.stderr and "kucun node verify" in synced.stderr
    alerts = [a for a in Node.open(db).read.alerts() if a.kind == "chain_broken"]
    assert [(a.origin, a.seq) for a in alerts] == [("S01", 8)]
    verified = kucun("node", "verify", "--db", db)
    assert verified.returncode == 1 and "S01:8" in verified.stderr

    # Nothing of it reached the hub: no forged 7 folded, no honest 8 blamed.
    assert wait_until(lambda: (nodes_item(hub, "S01") or {}).get("conflict"))
    assert hub.ingested("S01") == 5
    assert hub.get("/api/v1/rejected")[1]["items"] == []
    assert hub.stock(sku="A1")[0]["qty"] == "7.000"
