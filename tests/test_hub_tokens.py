"""`kucun hub token create/list/revoke` and `hub init` twice, in-process (kucun.cli.main) on
real SQLite files; the tokens they make are then tried against the real app."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api import make_app
from hub.store import HubStore
from kucun.cli import main
from ledger.hub_tables import HUB_MIGRATIONS
from ledger.sqlite import migrate


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    path = str(tmp_path / "hub.db")
    assert main(["hub", "init", "--db", path]) == 0
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys, db: str) -> list[dict]:
    code, out, _ = run(capsys, "hub", "token", "list", "--db", db, "--json")
    assert code == 0
    return json.loads(out)["items"]


def test_hub_init_twice_refuses_and_makes_no_second_admin(db, capsys):
    code, out, err = run(capsys, "hub", "init", "--db", db)
    assert code == 1 and out == ""
    assert err.strip() == (
        f"error: {db} is already a hub database; make more tokens with `kucun hub token create`"
    )
    assert [t["name"] for t in listed(capsys, db)] == ["admin"]


def test_a_token_is_printed_once_and_only_its_hash_is_kept(db, capsys):
    code, out, err = run(
        capsys, "hub", "token", "create", "--db", db, "--name", "buyer-zhao", "--role", "buyer"
    )
    assert code == 0 and "shown only now" in err
    token = out.strip()
    assert token.startswith("kc_") and len(token) > 30
    raw = Path(db).read_bytes()
    assert token.encode() not in raw
    code, out, _ = run(capsys, "hub", "token", "list", "--db", db)
    assert token not in out and "buyer-zhao" in out and "buyer" in out
    (item,) = [t for t in listed(capsys, db) if t["name"] == "buyer-zhao"]
    assert item["role"] == "buyer" and item["location"] is None and item["revoked"] is None
    assert item["created"].endswith("Z")
    assert HubStore.open(db).token(token) == ("buyer-zhao", "buyer", None)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--role", "store_manager"], "needs --location"),
        (["--role", "viewer", "--location", "S01"], "only a store_manager token has a --location"),
        (["--role", "store_manager", "--location", "S 1"], "not a valid location id"),
        (["--role", "store_manager", "--location", "hub"], "not a valid location id"),
    ],
)
def test_a_store_is_for_store_managers_only(db, capsys, args, words):
    code, out, err = run(capsys, "hub", "token", "create", "--db", db, "--name", "x", *args)
    assert code == 1 and out == "" and words in err, err
    assert [t["name"] for t in listed(capsys, db)] == ["admin"]


def test_an_unknown_role_is_refused_by_the_parser(db, capsys):
    with pytest.raises(SystemExit):
        main(["hub", "token", "create", "--db", db, "--name", "x", "--role", "root"])


@pytest.mark.parametrize("name", ["", " ", "a\nb", "x" * 65])
def test_a_name_is_a_key(db, capsys, name):
    code, _, err = run(
        capsys, "hub", "token", "create", "--db", db, "--name", name, "--role", "viewer"
    )
    assert code == 1 and "token name" in err


def test_names_are_unique_among_active_tokens(db, capsys):
    create = ["hub", "token", "create", "--db", db, "--name", "wang", "--role", "viewer"]
    assert run(capsys, *create)[0] == 0
    code, out, err = run(capsys, *create)
    assert code == 1 and out == ""
    assert "an active token is named 'wang' already" in err
    assert run(capsys, "hub", "token", "revoke", "--db", db, "--name", "wang")[0] == 0
    assert run(capsys, *create)[0] == 0  # revoked, the name is free again
    wangs = [t for t in listed(capsys, db) if t["name"] == "wang"]
    assert [t["revoked"] is not None for t in wangs] == [True, False]


def test_revoking_nothing_says_so(db, capsys):
    code, _, err = run(capsys, "hub", "token", "revoke", "--db", db, "--name", "nobody")
    assert code == 1 and "no active token is named 'nobody'" in err


def test_messages_are_in_chinese_by_default(db, capsys, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    code, _, err = run(capsys, "hub", "init", "--db", db)
    assert code == 1 and "已是总部数据库" in err
    code, _, err = run(capsys, "hub", "token", "revoke", "--db", db, "--name", "nobody")
    assert code == 1 and "没有名为" in err


@pytest.mark.parametrize("command", ["create", "list", "revoke"])
def test_every_option_has_help(command, capsys):
    with pytest.raises(SystemExit):
        main(["hub", "token", command, "--help"])
    out = capsys.readouterr().out
    for option in {"create": ["--name", "--role", "--location", "--db"], "list": ["--json"]}.get(
        command, ["--name"]
    ):
        line = next(line for line in out.splitlines() if line.strip().startswith(option))
        assert len(line.split()) > 2 or option == "--role", line


async def test_cli_tokens_at_the_api(db, capsys):
    """What the CLI makes, the API honours: the store, then the revocation."""
    _, out, _ = run(
        capsys, "hub", "token", "create", "--db", db, "--name", "sm", "--role", "store_manager",
        "--location", "S01",
    )  # fmt: skip
    token = out.strip()
    store = HubStore.open(db)
    async with TestClient(TestServer(make_app(store))) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/v1/stock?location=S01", headers=headers)).status == 200
        assert (await client.get("/api/v1/stock?location=S02", headers=headers)).status == 403
        assert run(capsys, "hub", "token", "revoke", "--db", db, "--name", "sm")[0] == 0
        response = await client.get("/api/v1/stock", headers=headers)
        assert response.status == 401
        assert (await response.json())["detail"] == "revoked token"
        response = await client.get("/api/v1/stock", headers={"Authorization": "Bearer kc_x"})
        assert (await response.json())["detail"] == "unknown token"


def test_a_database_from_before_keeps_its_tokens(tmp_path):
    """The migration adds store and dates; a token made before still works, undated."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, "hub", HUB_MIGRATIONS[:5])
    conn.execute(
        "INSERT INTO api_tokens(token_hash, name, role) VALUES (?, 'admin', 'admin')",
        (__import__("hashlib").sha256(b"kc_old").digest(),),
    )
    conn.close()
    store = HubStore.open(path)
    assert store.token("kc_old") == ("admin", "admin", None)
    (row,) = store.tables.tokens()
    assert row.created_ms is None and row.revoked_ms is None
    assert store.tables.active_tokens() == 1
