"""One ledger per node id: a second ledger claiming an id that already has a log is refused
at `node init` (when NATS answers) and at its first sync, before it pulls anything, and the
hub lists the conflict. Real nats-server, real hub process, real CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import tomllib

import nats
import pytest

from kucun.cli import nats_authorization
from kucun.natsserver import NatsServer
from ledger.replica import Replica
from ledger.sqlite import connect
from protocol import subjects
from protocol.events import Movement
from replication.nats_transport import NatsTransport
from replication.publisher import IdentityConflict, Publisher, claim_conflict, log_exists
from replication.pull import Watermark
from replication.setup import ensure_streams
from tests.helpers import kucun, start_hub, wait_until
from tests.sync_helpers import days_ago_ms, nodes_item
from tests.test_hub_to_node import post

UNREACHABLE = "nats://127.0.0.1:1"


def sales(store: Replica, n: int, start_ms: int) -> None:
    """`n` movements on the store's own log, one unit of work."""
    store.append(
        [
            Movement(sku="A1", qty=1000, src=store.origin, dst="@customer", unit_price=350)
            for _ in range(n)
        ],
        "till",
        start_ms,
    )


def shop(db: str) -> None:
    """A product, a receipt and a sale: five events."""
    kucun(
        "node", "product", "add", "--db", db, "A1", "--name", "Apple", "--price", "3.50", check=True
    )
    kucun("node", "receive", "--db", db, "A1", "10", "--cost", "2.00", check=True)
    kucun("node", "sell", "--db", db, "A1", "3", check=True)


def safe_seq(db: str, origin: str) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT safe_seq FROM outbox WHERE origin = ?", (origin,)).fetchone()
    return row[0] if row else 0


# ---- the reconcile and watermark checks, against a real stream ---------------------------


@pytest.fixture
async def transport(nats_server):
    nc = await nats.connect(nats_server.url)
    transport = NatsTransport(nc.jetstream())
    await ensure_streams(transport)
    yield transport
    await nc.close()


async def test_a_second_ledger_on_a_used_id_is_refused_whichever_is_longer(tmp_path, transport):
    first = Replica(connect(tmp_path / "first.db"), "S01")
    sales(first, 9, days_ago_ms(2))
    assert await log_exists(transport, "S01") is None  # nothing yet: the id is free
    assert await Publisher(first, transport, "S01").publish_backlog() == 9
    assert "already holds a log of S01" in (await log_exists(transport, "S01") or "")

    shorter = Replica(connect(tmp_path / "shorter.db"), "S01")
    sales(shorter, 2, days_ago_ms(1))
    with pytest.raises(IdentityConflict, match="up to seq 9, this ledger only up to 2"):
        await Publisher(shorter, transport, "S01").publish_backlog()

    longer = Replica(connect(tmp_path / "longer.db"), "S01")
    sales(longer, 12, days_ago_ms(1))  # past the stream's head: only the hash tells
    with pytest.raises(IdentityConflict, match="S01:9 differs"):
        await Publisher(longer, transport, "S01").publish_backlog()

    # Neither wrote anything: the stream holds the first ledger's one batch, nothing else.
    last = await transport.last_message(subjects.EVENTS_STREAM, subjects.events_subject("S01"))
    assert last is not None and last.seq == 1

    # An identical copy of the first ledger (a backup, say) is the same log: it resumes.
    backup = sqlite3.connect(tmp_path / "copy.db")
    first.conn.backup(backup)
    backup.close()
    copy = Replica(connect(tmp_path / "copy.db"), "S01")
    assert await Publisher(copy, transport, "S01").publish_backlog() == 0


def test_the_watermark_carries_a_hash_and_old_plain_ones_still_read(tmp_path):
    store = Replica(connect(tmp_path / "s.db"), "S01")
    sales(store, 3, days_ago_ms(1))
    seq, digest = store.log.head("S01")
    assert Watermark.decode(Watermark(seq, digest).encode()) == Watermark(3, digest)
    assert Watermark.decode(b"3") == Watermark(3, None)
    assert claim_conflict(store.log, "S01", 3, digest) is None
    assert claim_conflict(store.log, "S01", 3, None) is None  # an older hub: seq only
    assert (
        claim_conflict(store.log, "S01", 2, digest) == "its event S01:2 differs from this ledger's"
    )
    assert claim_conflict(store.log, "S01", 9, None) == (
        "it holds S01 up to seq 9, this ledger only up to 3"
    )


# ---- the whole product: init, sync, the hub's view ---------------------------------------


@pytest.mark.slow
def test_second_ledger_on_one_node_id_is_refused_and_the_hub_says_so(tmp_path, nats_server, hub):
    first, second = str(tmp_path / "first.db"), str(tmp_path / "second.db")
    kucun("node", "init", "--db", first, "--node", "S01", "--nats", nats_server.url, check=True)
    shop(first)
    kucun("node", "sync", "--db", first, "--once", check=True)
    assert wait_until(lambda: hub.ingested("S01") == 5)

    # With NATS reachable, init refuses the id and writes no ledger.
    refused = kucun("node", "init", "--db", second, "--node", "S01", "--nats", nats_server.url)
    assert refused.returncode == 1, refused.stderr
    assert "node id S01 is already taken" in refused.stderr
    assert "--node S01-T2 --location S01" in refused.stderr  # a till of the same store
    assert "Traceback" not in refused.stderr
    assert not os.path.exists(second)

    # Offline, init proceeds and says it could not check ...
    offline = kucun("node", "init", "--db", second, "--node", "S01", "--nats", UNREACHABLE)
    assert offline.returncode == 0, offline.stderr
    assert "could not reach NATS" in offline.stderr
    kucun("node", "product", "add", "--db", second, "B1", "--name", "Bread", check=True)
    kucun("node", "receive", "--db", second, "B1", "5", check=True)

    # ... and the hub sends the first ledger something on its consumer meanwhile.
    status, _ = post(hub, "/api/v1/products", {"sku": "C1", "name": "Cheese"})
    assert status == 201

    # The first sync refuses before pulling: a new exit code and one line saying what to do.
    synced = kucun("node", "sync", "--db", second, "--once", "--json", "--nats", nats_server.url)
    assert synced.returncode == 4, (synced.stdout, synced.stderr)
    assert "node id S01 is already taken by another ledger" in synced.stderr
    assert "--node S01-T2 --location S01" in synced.stderr
    assert "Traceback" not in synced.stderr
    assert synced.stdout == ""
    assert safe_seq(second, "S01") == 0  # it never counted the other's events as safe
    help_text = kucun("node", "sync", "--help").stdout
    assert "4 refused" in " ".join(help_text.split())

    # The hub lists the conflict, and ingested nothing of the second ledger.
    item = wait_until(lambda: (nodes_item(hub, "S01") or {}).get("conflict"))
    assert item and "S01 up to seq 5, this ledger only up to 3" in item, item
    assert hub.get("/api/v1/rejected")[1]["items"] == []
    assert hub.ingested("S01") == 5

    # The first ledger still gets its consumer's message: nothing was taken from it.
    again = kucun("node", "sync", "--db", first, "--once", "--json", check=True)
    assert json.loads(again.stdout)["pulled_events"] >= 1
    assert json.loads(again.stdout)["safe_seq"] == 5


@pytest.mark.slow
def test_with_nkey_credentials_the_refusal_reaches_the_hub(tmp_path):
    """The notice subject is within a node's own permissions (protocol/subjects.py)."""
    hub_db = tmp_path / "hub.db"
    kucun("hub", "init", "--db", str(hub_db), check=True)
    server = NatsServer(data_dir=tmp_path / "nats")
    out = kucun("hub", "add-node", "S01", "--db", str(hub_db), "--nats", server.url, check=True)
    (tmp_path / "S01.toml").write_text(out.stdout)
    seed = tomllib.loads(out.stdout)["node"]["nkey_seed"]
    server.authorization = nats_authorization(str(hub_db))
    server.start(log_file=(tmp_path / "nats.log").open("ab"))
    hub = start_hub(tmp_path, server.url)
    try:
        first, second = str(tmp_path / "first.db"), str(tmp_path / "second.db")
        kucun("node", "init", "--db", first, "--config", str(tmp_path / "S01.toml"), check=True)
        shop(first)
        kucun("node", "sync", "--db", first, "--once", check=True)

        taken = kucun("node", "init", "--db", second, "--config", str(tmp_path / "S01.toml"))
        assert taken.returncode == 1 and "node id S01 is already taken" in taken.stderr

        init = ["--node", "S01", "--nats", UNREACHABLE, "--nkey-seed", seed]
        kucun("node", "init", "--db", second, *init, check=True)
        synced = kucun("node", "sync", "--db", second, "--once", "--nats", server.url)
        assert synced.returncode == 4, (synced.stdout, synced.stderr)
        conflict = wait_until(lambda: (nodes_item(hub, "S01") or {}).get("conflict"))
        assert conflict and "up to seq 5, this ledger only up to 0" in conflict
    finally:
        hub.stop()
        server.close()
