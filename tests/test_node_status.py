"""A node's sync rounds report its backlog on kucun.status.<location>.<node>, and the
hub keeps each node's latest (hub/node_status.py), through a real nats-server: a bad
report is dropped and the next good one still kept."""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
import nats
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub import node_status as hub_status
from hub.api import make_app
from hub.store import HubStore
from ledger.sync_tables import NodeReports
from node.service import Node
from node.sync import SyncWorker, sync_once
from protocol import node_status, subjects
from protocol.node_status import NodeStatus
from replication.nats_transport import NatsTransport
from replication.setup import ensure_node_consumers, ensure_streams


def report(node: str = "S02", location: str = "S02", backlog: int = 5) -> NodeStatus:
    return NodeStatus(
        node=node,
        location=location,
        head_seq=9,
        published_seq=9 - backlog,
        unconfirmed=backlog,
        backlog=backlog,
        oldest_unsent_age_s=12.5,
        at_ms=1_796_083_200_000,
    )


def test_a_report_is_decoded_within_its_bounds():
    good = report()
    assert node_status.decode(node_status.encode(good)) == good
    for bad in (
        b"{}",
        b"not json",
        b"x" * 2000,
        msgspec.json.encode({**msgspec.to_builtins(good), "backlog": -1}),
        msgspec.json.encode({**msgspec.to_builtins(good), "extra": 1}),
        msgspec.json.encode({**msgspec.to_builtins(good), "oldest_unsent_age_s": -3}),
    ):
        with pytest.raises(ValueError):
            node_status.decode(bad)


def test_a_report_is_kept_only_for_the_node_its_subject_names(tmp_path):
    store, _ = HubStore.init(tmp_path / "hub.db")
    reports = NodeReports(store.conn)
    body = node_status.encode(report())
    assert hub_status.take(reports, "kucun.status.S02.S02", body, 1000) is None
    assert "not of the node its subject names" in (
        hub_status.take(reports, "kucun.status.S01.S01", body, 1001) or ""
    )
    assert "not a status subject" in (hub_status.take(reports, "kucun.ev.S02.S02", body, 2) or "")
    older = node_status.encode(msgspec.structs.replace(report(backlog=1), at_ms=1))
    assert hub_status.take(reports, "kucun.status.S02.S02", older, 1002) is None
    kept = reports.all()
    assert list(kept) == ["S02"] and kept["S02"].status.backlog == 5  # the late old one lost
    assert kept["S02"].received_ms == 1000


@pytest.fixture
async def nc(nats_server):
    client = await nats.connect(nats_server.url)
    transport = NatsTransport(client.jetstream())
    await ensure_streams(transport)
    await ensure_node_consumers(transport, lambda: [("S01", "S01")])
    yield client
    await client.close()


@contextlib.asynccontextmanager
async def listening(nc, db):
    ready = asyncio.Event()
    task = asyncio.create_task(hub_status.listen(nc, str(db), ready))
    await ready.wait()  # subscribed before anything is sent
    await nc.flush()
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def reported(db, node: str, upto: float = 10.0) -> NodeStatus:
    store = HubStore.open(db)
    try:
        for _ in range(int(upto / 0.05)):
            found = NodeReports(store.conn).all().get(node)
            if found is not None:
                return found.status
            await asyncio.sleep(0.05)
    finally:
        store.conn.close()
    raise AssertionError(f"no report of {node}")


async def test_a_sync_round_reports_and_the_hub_lists_it(tmp_path, nats_server, nc):
    db = tmp_path / "hub.db"
    store, token = HubStore.init(db)
    node = Node.init(tmp_path / "S01.db", "S01", None, nats_server.url)
    node.add_product("A", "apple", None, "5.00")
    node.receive("A", "3")
    async with listening(nc, db):
        summary = await sync_once(node, confirm_timeout=0)
        got = await reported(db, "S01")
        assert (got.node, got.location, got.head_seq) == ("S01", "S01", summary.head_seq)
        assert got.published_seq == summary.head_seq and got.backlog == 0
        assert got.unconfirmed == summary.unconfirmed and got.oldest_unsent_age_s is None
        # an offline store's last word stays: S02 said it holds 5 unsent
        await nc.publish(subjects.status_subject("S02", "S02"), node_status.encode(report()))
        await nc.publish(subjects.status_subject("S03", "S03"), b"garbage")  # dropped
        await nc.publish(subjects.status_subject("S04"), node_status.encode(report("S05")))
        await nc.publish(subjects.status_subject("S06"), node_status.encode(report("S06", "S06")))
        await reported(db, "S06")  # still listening after the bad ones
        assert (await reported(db, "S02")).backlog == 5
    assert set(NodeReports(store.conn).all()) == {"S01", "S02", "S06"}
    async with TestClient(TestServer(make_app(store))) as client:
        response = await client.get("/api/v1/sync", headers={"Authorization": f"Bearer {token}"})
        body = await response.json()
    by_location = {i["location"]: i["nodes"] for i in body["items"]}
    (s02,) = by_location["S02"]
    assert s02["ingested_seq"] == 0 and s02["reported"]["backlog"] == 5
    assert s02["reported"]["oldest_unsent_age_s"] == 12.5
    assert s02["reported"]["at"] == "2026-12-01T00:00:00Z" and s02["reported"]["age_s"] >= 0
    (s01,) = by_location["S01"]
    assert s01["reported"]["backlog"] == 0 and s01["ingested_seq"] == 0  # nothing ingested here
    store.conn.close()


async def test_the_tills_sync_worker_reports_each_round(tmp_path, nats_server, nc):
    db = tmp_path / "hub.db"
    HubStore.init(db)[0].conn.close()
    node = Node.init(tmp_path / "S01.db", "S01", None, nats_server.url)
    node.add_product("A", "apple", None, "5.00")
    node.receive("A", "3")
    async with listening(nc, db):
        worker = SyncWorker(node, interval=0.2)
        task = asyncio.create_task(worker.run())
        try:
            got = await reported(db, "S01")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert got.head_seq == node.store.log.head_seq("S01") and got.backlog == 0


async def test_with_nkeys_a_node_reports_as_itself_only(tmp_path):
    """On a nats-server that requires each node's NKEY and its permissions: S01's sync
    round reports, and a report S01 sends as S02 is refused by the server."""
    from hub import identities
    from kucun import natsserver
    from kucun.natsserver import NatsServer

    db = tmp_path / "hub.db"
    hub, _ = HubStore.init(db)
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
        nc = await nats.connect(server.url, nkeys_seed_str=hub_key)
        transport = NatsTransport(nc.jetstream())
        await ensure_streams(transport)
        await ensure_node_consumers(transport, lambda: [("S01", "S01")])
        node = Node.init(tmp_path / "S01.db", "S01", None, server.url, nkey_seed=seed)
        node.add_product("A", "apple", None, "5.00")
        node.receive("A", "3")
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc).lower())

        async with listening(nc, db):
            await sync_once(node, confirm_timeout=0)
            assert (await reported(db, "S01")).head_seq == node.store.log.head_seq("S01")
            as_s01 = await nats.connect(server.url, error_cb=on_error, **node.config.nats_auth())
            await as_s01.publish(subjects.status_subject("S02"), node_status.encode(report()))
            await as_s01.flush()
            for _ in range(40):
                if errors:
                    break
                await asyncio.sleep(0.05)
            await as_s01.close()
        assert any("permissions violation" in e for e in errors), errors
        assert set(NodeReports(hub.conn).all()) == {"S01"}
        await nc.close()
    finally:
        server.close()
        hub.conn.close()
