"""`GET /metrics` (Prometheus text, the hub's own registry) and `/readyz`, served with
the hub's reader and writer threads (hub/workers.py) as `hub serve` serves them; and,
through a real `hub serve` and a real node, that one event never blocks the outbox."""

from __future__ import annotations

import asyncio
import threading

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from hub.api import make_app
from hub.metrics import CONTENT_TYPE, METRICS, STATE
from hub.store import HubStore
from hub.workers import Workers, thread_safe
from protocol import codec
from protocol.events import Document, Event, Movement
from replication.clock import wall_ms
from tests.helpers import http_json, kucun, serve_hub, wait_until
from tests.test_hub_to_node import init_node, post, sync_until


def _receipts(origin: str, n: int) -> list[bytes]:
    raws, prev = [], codec.GENESIS
    hlc = (wall_ms() - 60_000) << 16
    for seq in range(1, n + 1):
        body = Movement(sku="A", qty=1000, src="@supplier", dst=origin, unit_cost=150)
        raw = codec.encode(Event(origin=origin, seq=seq, hlc=hlc + seq, prev=prev, user="u",
                                 body=body))  # fmt: skip
        prev = codec.event_hash(raw)
        raws.append(raw)
    return raws


@pytest.fixture
async def served(tmp_path):
    """The API as `hub serve` runs it: threads with their own connections, the metrics
    middleware; S01 has 3 events stored (2 folded), and there is one dead letter."""
    store, token = HubStore.init(tmp_path / "hub.db")
    raws = _receipts("S01", 3)
    store.events.ingest(raws[:2], wall_ms())
    store.events.ingest([b"not an event"], wall_ms())
    store.events.ingest(raws[2:], wall_ms(), fold=False)
    with store.events.work():
        store.tables.note_ingest("S01", wall_ms() - 5_000)
    loop = asyncio.get_running_loop()
    woken = threading.Event()
    workers = Workers(str(tmp_path / "hub.db"), thread_safe(loop, woken.set), 2)
    app = make_app(store, middlewares=[METRICS.middleware()], execute=workers.execute)
    async with TestClient(TestServer(app)) as client:
        client.token = token  # type: ignore[attr-defined]
        client.woken = woken  # type: ignore[attr-defined]
        yield client
    assert workers.close()
    store.conn.close()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_are_prometheus_text_with_every_series(served):
    stock = await served.get(
        "/api/v1/stock?location=S01&sku=A",
        headers={"Authorization": f"Bearer {served.token}"},
    )
    assert stock.status == 200
    response = await served.get("/metrics")  # public: Prometheus sends no token
    assert response.status == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    samples = _samples(await response.text())
    assert samples[("kucun_hub_unfolded_events", ())] == 1
    assert samples[("kucun_hub_node_ingested_seq", (("node", "S01"),))] == 3
    assert samples[("kucun_hub_node_folded_seq", (("node", "S01"),))] == 2
    assert samples[("kucun_hub_node_lag_seconds", (("node", "S01"),))] >= 5
    assert samples[("kucun_hub_dead_letters", ())] == 1
    assert samples[("kucun_hub_api_tokens", ())] == 1
    assert ("kucun_hub_ingest_events_total", ()) in samples
    assert samples[("kucun_hub_nats_connected", ())] == 0
    # one series per route template, not per SKU asked for
    labels = (("method", "GET"), ("route", "/api/v1/stock"), ("status", "200"))
    assert samples[("kucun_hub_http_request_duration_seconds_count", labels)] >= 1


async def test_a_write_on_the_writer_thread_wakes_the_loop(served):
    status = await served.post(
        "/api/v1/products",
        json={"sku": "TEA", "name": "Tea", "unit": "pcs", "price": "4.50"},
        headers={"Authorization": f"Bearer {served.token}"},
    )
    assert status.status == 201, await status.text()
    assert await asyncio.to_thread(served.woken.wait, 5)
    got = await served.get("/api/v1/products", headers={"Authorization": f"Bearer {served.token}"})
    assert "TEA" in await got.text()


async def test_ready_only_with_nats_and_streams(served):
    response = await served.get("/readyz")
    assert response.status == 503
    assert "not connected to NATS" in await response.text()
    STATE.nats, STATE.streams = True, False
    try:
        response = await served.get("/readyz")
        assert response.status == 503 and "streams" in await response.text()
        STATE.streams = True
        response = await served.get("/readyz")
        assert response.status == 200
        assert (await response.json())["ready"] is True
    finally:
        STATE.nats = STATE.streams = False


@pytest.mark.slow
def test_one_event_never_blocks_the_outbox(tmp_path, nats_server):
    """A 1 MiB product body is refused and a log that cannot be published is set aside;
    a later product still reaches the node, and its events are counted as ingested."""
    db = tmp_path / "hub.db"
    token = kucun("hub", "init", "--db", str(db), check=True).stdout.strip()
    store = HubStore.open(db)  # a PO for "S09\n", from before ids were matched whole
    store.events.append(
        [Document(doc="PO-S09-1", type="purchase_order", location="S09\n")],
        "api",
        1_000,
        origin="hub-S09\n",
    )
    store.conn.close()
    hub = serve_hub(db, token, nats_server.url, tmp_path / "hub.log")
    try:
        node = init_node(tmp_path, nats_server, "S01")
        big = {"sku": "BIG", "name": "x" * 2**20, "unit": "pcs", "price": "1.00"}
        status, body = post(hub, "/api/v1/products", big)
        assert status in (400, 413), body
        status, body = post(
            hub, "/api/v1/products", {"sku": "TEA", "name": "Tea", "unit": "pcs", "price": "4.50"}
        )
        assert status == 201, body
        sync_until(node, lambda: kucun("node", "sell", "--db", node, "TEA", "1").returncode == 0)
        kucun("node", "sync", "--db", node, "--once", check=True)

        def metrics() -> dict:
            text = http_json_text(f"http://{hub.http}/metrics")
            return _samples(text)

        assert wait_until(lambda: metrics().get(("kucun_hub_ingest_events_total", ()), 0) > 0)
        samples = metrics()
        assert samples[("kucun_hub_stuck_logs", ())] == 1
        assert samples[("kucun_hub_nats_connected", ())] == 1
        assert samples[("kucun_hub_node_ingested_seq", (("node", "S01"),))] >= 1
        assert http_json(f"http://{hub.http}/readyz")[0] == 200
    finally:
        hub.stop()


def http_json_text(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Type"] == CONTENT_TYPE
        return response.read().decode()
