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

from kucun.cli import nats_authorization
from kucun.natsserver import NatsServer, authorization_block, free_port, wait_for_port
from protocol import subjects
from tests.helpers import kucun, start_hub, wait_until


def test_node_permissions_cover_only_its_own_subjects():
    perms = subjects.node_permissions("S01-T2", "S01")
    allowed = perms["publish"]["allow"]
    assert "kucun.ev.S01-T2" in allowed
    assert all("S01-T2" in s for s in allowed)  # nothing of another node, no wildcards
    assert not any(s.endswith(".*") or s == ">" for s in allowed)
    assert perms["subscribe"]["allow"] == ["_INBOX_S01-T2.>"]


def test_authorization_block_holds_public_keys_only():
    text = authorization_block("UHUB", [("UNODE", subjects.node_permissions("S01", "S01"))])
    assert '"nkey": "UHUB"' in text and '"nkey": "UNODE"' in text
    assert text.count('"nkey"') == 2


@pytest.fixture
def secured(tmp_path):
    """hub init, two registered nodes, and a nats-server that requires their NKEYs."""
    db = tmp_path / "hub.db"
    kucun("hub", "init", "--db", str(db), check=True)
    server = NatsServer(data_dir=tmp_path / "nats")
    configs = {}
    for node in ("S01", "S02"):
        out = kucun(
            "hub", "add-node", node, "--db", str(db), "--nats", server.url, check=True
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
            await js.publish("kucun.ev.S02", b"forged", timeout=1)
        except Exception as exc:
            refused.append(f"publish: {exc!r}")
        for stream, subject in (
            (subjects.EVENTS_STREAM, "kucun.ev.S02"),
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
    for target in ("kucun.ev.s02", "node-s02", "kucun-watermarks.s02", "kucun_events.kucun.ev.s02"):
        assert any(target in v for v in violations), (target, errors)
    assert wait_until(lambda: hub.ingested("S01") == 5)
    assert hub.ingested("S02") == 0
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
