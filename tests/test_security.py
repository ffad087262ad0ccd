"""Per-node NATS credentials against a real nats-server: a till can only be itself."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import tomllib

import nats
import pytest
from nats.js.api import ConsumerConfig

from kucun.cli import nats_authorization
from kucun.natsserver import NatsServer, authorization_block, free_port, wait_for_port
from protocol import subjects
from tests.helpers import kucun, start_hub, wait_until


def test_node_permissions_cover_only_its_own_subjects():
    perms = subjects.node_permissions("S01-T2", "S01")
    allowed = perms["publish"]["allow"]
    assert "kucun.ev.S01.S01-T2" in allowed  # its log, under its store
    assert "$JS.API.DIRECT.GET.KUCUN_EVENTS.kucun.ev.S01.S01-T2" in allowed
    # its siblings' logs only through its own consumer, whose filter the hub sets
    assert "$JS.API.CONSUMER.MSG.NEXT.KUCUN_EVENTS.sib-S01-T2" in allowed
    assert not any("CREATE" in s or "kucun.ev.S01.*" in s for s in allowed)
    assert all("S01-T2" in s for s in allowed)  # nothing of another node, no wildcards
    assert not any(s.endswith(".*") or s == ">" for s in allowed)
    assert perms["subscribe"]["allow"] == ["_INBOX_S01-T2.>"]


def test_authorization_block_holds_public_keys_only():
    text = authorization_block("UHUB", [("UNODE", subjects.node_permissions("S01", "S01"))])
    assert '"nkey": "UHUB"' in text and '"nkey": "UNODE"' in text
    assert text.count('"nkey"') == 2


@pytest.fixture
def secured(tmp_path):
    """hub init, three registered nodes (S01 and its second till S01-T2 at location S01,
    S02 at S02), and a nats-server that requires their NKEYs."""
    db = tmp_path / "hub.db"
    kucun("hub", "init", "--db", str(db), check=True)
    server = NatsServer(data_dir=tmp_path / "nats")
    configs = {}
    for node, location in (("S01", "S01"), ("S01-T2", "S01"), ("S02", "S02")):
        out = kucun(
            "hub",
            "add-node",
            node,
            "--location",
            location,
            "--db",
            str(db),
            "--nats",
            server.url,
            check=True,
        ).stdout
        (tmp_path / f"{node}.toml").write_text(out)
        configs[node] = tomllib.loads(out)["node"]
    again = kucun("hub", "add-node", "S01", "--db", str(db))
    assert again.returncode == 1 and "already registered" in again.stderr
    server.authorization = nats_authorization(str(db))
    server.start(log_file=(tmp_path / "nats.log").open("ab"))
    config = (tmp_path / "nats" / "nats-server.conf").read_text()
    assert all(c["nkey_seed"] not in config for c in configs.values())  # no secret in it
    hub = start_hub(tmp_path, server.url)
    yield server, hub, configs
    hub.stop()
    server.close()


async def _client(url: str, seed: str | None, node: str | None, errors: list[str]):
    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    options = {"nkeys_seed_str": seed, "inbox_prefix": f"_INBOX_{node}"} if seed else {}
    return await nats.connect(
        url, error_cb=on_error, max_reconnect_attempts=1, allow_reconnect=False, **options
    )


@pytest.mark.slow
def test_a_node_can_sync_as_itself_and_nothing_else(tmp_path, secured):
    server, hub, configs = secured
    db = str(tmp_path / "s01.db")
    kucun("node", "init", "--db", db, "--config", str(tmp_path / "S01.toml"), check=True)
    kucun(
        "node", "product", "add", "--db", db, "A", "--name", "Apple", "--price", "2.00", check=True
    )
    kucun("node", "receive", "--db", db, "A", "5", check=True)
    kucun("node", "sell", "--db", db, "A", "2", check=True)
    synced = kucun("node", "sync", "--db", db, "--once", "--json", check=True)
    assert json.loads(synced.stdout)["unconfirmed"] == 0  # watermark read with S01's key
    assert hub.stock(location="S01")[0]["qty"] == "3.000"

    async def attempts() -> tuple[list[str], list[str]]:
        errors: list[str] = []
        nc = await _client(server.url, configs["S01"]["nkey_seed"], "S01", errors)
        js = nc.jetstream(timeout=1)
        refused = []
        try:
            await js.publish("kucun.ev.S02.S02", b"forged", timeout=1)
        except Exception as exc:
            refused.append(f"publish: {exc!r}")
        for stream, subject in (
            (subjects.EVENTS_STREAM, "kucun.ev.S02.S02"),
            (subjects.WATERMARK_STREAM, subjects.watermark_subject("S02")),
        ):
            try:
                await js.get_last_msg(stream, subject, direct=True)
            except Exception as exc:
                refused.append(f"get {subject}: {exc!r}")
        try:
            sub = await js.pull_subscribe_bind(durable="node-S02", stream=subjects.HUB_STREAM)
            await sub.fetch(1, timeout=1)
        except Exception as exc:
            refused.append(f"fetch node-S02: {exc!r}")
        await asyncio.sleep(0.2)
        await nc.close()
        return refused, errors

    refused, errors = asyncio.run(attempts())
    assert len(refused) == 4, refused
    violations = [e.lower() for e in errors if "permissions violation" in e.lower()]
    for target in (
        "kucun.ev.s02.s02",
        "node-s02",
        "kucun-watermarks.s02",
        "kucun_events.kucun.ev.s02.s02",
    ):
        assert any(target in v for v in violations), (target, errors)
    assert wait_until(lambda: hub.ingested("S01") == 5)
    assert hub.ingested("S02") == 0
    assert hub.get("/api/v1/rejected")[1]["items"] == []


def _init_node(tmp_path, node: str) -> str:
    db = str(tmp_path / f"{node}.db")
    kucun("node", "init", "--db", db, "--config", str(tmp_path / f"{node}.toml"), check=True)
    kucun(
        "node", "product", "add", "--db", db, "A", "--name", "Apple", "--price", "2.00", check=True
    )
    return db


def _sync(db: str) -> dict:
    return json.loads(kucun("node", "sync", "--db", db, "--once", "--json", check=True).stdout)


def _stock(db: str, location: str) -> list[dict]:
    out = kucun("node", "stock", "--db", db, "--location", location, "--json", check=True)
    return json.loads(out.stdout)["items"]


@pytest.mark.slow
def test_a_till_reads_its_stores_logs_through_its_own_consumer_only(tmp_path, secured):
    """S01-T2 folds S01's log with its own key (its sib- consumer, made by the hub); S02
    gets nothing of S01, and neither can read S01's logs any other way."""
    server, hub, configs = secured
    dbs = {node: _init_node(tmp_path, node) for node in ("S01", "S01-T2", "S02")}
    kucun("node", "receive", "--db", dbs["S01"], "A", "10", check=True)
    kucun("node", "sell", "--db", dbs["S01-T2"], "A", "3", check=True)
    kucun("node", "receive", "--db", dbs["S02"], "A", "5", check=True)
    first = {node: _sync(db) for node, db in dbs.items()}
    assert first["S01-T2"]["sibling_events"] == first["S01"]["head_seq"] > 0
    assert _sync(dbs["S01"])["sibling_events"] == first["S01-T2"]["head_seq"]
    assert _sync(dbs["S02"])["sibling_events"] == 0
    expected = [{"location": "S01", "sku": "A", "lot": None, "qty": "7.000"}]
    assert _stock(dbs["S01"], "S01") == _stock(dbs["S01-T2"], "S01") == expected
    assert wait_until(lambda: hub.stock(location="S01") == expected)
    assert _stock(dbs["S02"], "S01") == []
    assert _stock(dbs["S02"], "S02")[0]["qty"] == "5.000"

    async def attempts(node: str, tries) -> tuple[list[str], list[str]]:
        errors: list[str] = []
        nc = await _client(server.url, configs[node]["nkey_seed"], node, errors)
        js = nc.jetstream(timeout=1)
        refused = []
        for name, attempt in tries(js):
            try:
                await attempt
            except Exception as exc:
                refused.append(f"{name}: {exc!r}")
        await asyncio.sleep(0.2)
        await nc.close()
        return refused, errors

    async def fetch(js, durable: str) -> None:
        sub = await js.pull_subscribe_bind(durable=durable, stream=subjects.EVENTS_STREAM)
        await sub.fetch(1, timeout=1)

    def from_s02(js):
        yield "fetch sib-S01", fetch(js, "sib-S01")
        yield "fetch sib-S01-T2", fetch(js, "sib-S01-T2")
        # its own consumer, but on S01's logs: creating consumers is the hub's
        spec = ConsumerConfig(durable_name="sib-S02", filter_subject="kucun.ev.S01.*")
        yield "own consumer on S01", js.add_consumer(subjects.EVENTS_STREAM, spec)
        yield (
            "get S01's last",
            js.get_last_msg(subjects.EVENTS_STREAM, "kucun.ev.S01.S01", direct=True),
        )

    def from_t2(js):
        yield "publish as S01", js.publish("kucun.ev.S01.S01", b"forged", timeout=1)
        yield "fetch sib-S01", fetch(js, "sib-S01")
        yield "fetch node-S01", fetch(js, "node-S01")

    refused, errors = asyncio.run(attempts("S02", from_s02))
    assert len(refused) == 4, refused
    violations = " ".join(e.lower() for e in errors if "permissions violation" in e.lower())
    for target in ('sib-s01"', 'sib-s01-t2"', 'create.kucun_events.sib-s02"', 'ev.s01.s01"'):
        assert target in violations, (target, errors)
    refused, errors = asyncio.run(attempts("S01-T2", from_t2))
    assert len(refused) == 3, refused
    violations = " ".join(e.lower() for e in errors if "permissions violation" in e.lower())
    for target in ('publish to "kucun.ev.s01.s01"', 'sib-s01"', 'node-s01"'):
        assert target in violations, (target, errors)
    # nothing forged reached anyone
    assert _sync(dbs["S01-T2"])["pulled_events"] == 0
    assert hub.get("/api/v1/rejected")[1]["items"] == []


@pytest.mark.slow
def test_no_credentials_no_connection(secured):
    server, _, _ = secured

    async def attempt() -> None:
        await _client(server.url, None, None, [])

    with pytest.raises(Exception):  # noqa: B017 - refused, whatever nats-py calls it
        asyncio.run(attempt())


@pytest.mark.slow
def test_a_node_added_while_everything_runs_syncs_after_sighup(tmp_path):
    """`kucun nats serve --hub-db` rewrites its config on SIGHUP and nats-server reloads it;
    the running hub creates the new node's consumer: no restart of either."""
    db = tmp_path / "hub.db"
    kucun("hub", "init", "--db", str(db), check=True)
    port = free_port()
    url = f"nats://127.0.0.1:{port}"
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kucun",
            "nats",
            "serve",
            "--port",
            str(port),
            "--data",
            str(tmp_path / "nats"),
            "--hub-db",
            str(db),
        ],
        stdout=(tmp_path / "nats.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    hub = None
    try:
        wait_for_port("127.0.0.1", port, proc=serve)
        hub = start_hub(tmp_path, url)
        out = kucun("hub", "add-node", "S03", "--db", str(db), "--nats", url, check=True).stdout
        (tmp_path / "S03.toml").write_text(out)
        node = str(tmp_path / "s03.db")
        kucun("node", "init", "--db", node, "--config", str(tmp_path / "S03.toml"), check=True)
        kucun(
            "node",
            "product",
            "add",
            "--db",
            node,
            "A",
            "--name",
            "Apple",
            "--price",
            "2.00",
            check=True,
        )
        kucun("node", "receive", "--db", node, "A", "4", check=True)

        def sync() -> dict | None:
            done = kucun("node", "sync", "--db", node, "--once", "--json", timeout=30)
            return json.loads(done.stdout) if done.returncode == 0 else None

        assert sync() is None  # NATS does not know S03's key yet
        serve.send_signal(signal.SIGHUP)
        summary = wait_until(sync, timeout=15)
        assert summary and summary["unconfirmed"] == 0, summary
        assert hub.ingested("S03") == summary["head_seq"] > 0
        assert serve.poll() is None
    finally:
        if hub:
            hub.stop()
        serve.send_signal(signal.SIGINT)  # kucun forwards SIGTERM to nats-server and waits
        serve.wait(10)
