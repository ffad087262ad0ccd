"""The command-line contract: spellings, help, and errors a cashier can act on."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.helpers import kucun


@pytest.fixture
def store(tmp_path):
    db = str(tmp_path / "store.db")
    kucun("node", "init", "--db", db, "--node", "S01", "--nats", "nats://127.0.0.1:1", check=True)
    kucun(
        "node", "product", "add", "--db", db, "A1", "--name", "Apple", "--price", "3.50", check=True
    )
    kucun(
        "node", "product", "add", "--db", db, "RICE", "--name", "Rice", "--unit", "kg", check=True
    )
    return db


def stock(db):
    return json.loads(kucun("node", "stock", "--db", db, "--json", check=True).stdout)


def snapshot(db, tmp_path):
    """The ledger's bytes, to prove a refused command wrote nothing."""
    copy = tmp_path / "before.db"
    shutil.copy(db, copy)
    return stock(db), kucun("node", "stock", "--db", db, "--json").stdout


@pytest.mark.slow
def test_receive_sell_count_and_stock_json(store):
    kucun(
        "node",
        "receive",
        "--db",
        store,
        "A1",
        "10",
        "--cost",
        "2.00",
        "--lot",
        "L1",
        "--expiry",
        "2027-01-31",
        check=True,
    )
    out = kucun("node", "sell", "--db", store, "A1", "3", check=True).stdout
    assert "total 10.50" in out
    kucun("node", "receive", "--db", store, "RICE", "1.250", check=True)
    kucun("node", "sell", "--db", store, "RICE", "0.333", "--price", "4.00", check=True)
    assert stock(store) == {
        "items": [
            {"location": "S01", "sku": "A1", "lot": "L1", "qty": "7.000"},
            {"location": "S01", "sku": "RICE", "lot": None, "qty": "0.917"},
        ]
    }
    kucun("node", "count", "--db", store, "RICE", "0.900", check=True)
    rice = kucun("node", "stock", "--db", store, "--sku", "RICE", "--json", check=True).stdout
    assert json.loads(rice)["items"][0]["qty"] == "0.900"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sell", "NOPE", "1"], "unknown SKU 'NOPE'"),
        (["receive", "NOPE", "1"], "unknown SKU 'NOPE'"),
        (["receive", "A1", "abc"], "quantity 'abc' is not a number"),
        (["receive", "A1", "-1"], "must be more than zero"),
        (["receive", "A1", "0"], "must be more than zero"),
        (["sell", "A1", "1.5"], "counted in pieces"),
        (["sell", "RICE", "1"], "has no price yet"),
        (["receive", "A1", "1", "--cost", "x"], "cost 'x' is not a number"),
        (["receive", "A1", "1", "--expiry", "31/01/2027"], "not a date"),
        (["count", "A1", "-2"], "zero or more"),
        (["product", "add", "B2", "--name", "B", "--price", "1.001"], "decimal places"),
        (["sell", "A1", "1", "--tender", "bitcoin"], "use one of: cash, card, wechat, alipay"),
        (["sell", "A1", "1", "--tender", ""], "no tender given: use one of: cash, card"),
        (["sell", "A1", "2", "--tender", "card:1.00"], "do not cover the total 7.00"),
        (["sell", "A1", "1", "--tender", "card:5", "--tender", "x"], "'x' is not accepted"),
    ],
)
@pytest.mark.slow
def test_refused_commands_explain_and_write_nothing(store, tmp_path, args, message):
    before = snapshot(store, tmp_path)
    result = (
        kucun("node", args[0], "--db", store, *args[1:])
        if args[0] != "product"
        else kucun("node", "product", "add", "--db", store, *args[2:])
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(store, tmp_path) == before


def test_uninitialised_db(tmp_path):
    missing = str(tmp_path / "nothing.db")
    result = kucun("node", "sell", "--db", missing, "A1", "1")
    assert result.returncode == 1
    assert "kucun node init" in result.stderr
    stray = tmp_path / "other.db"
    stray.write_bytes(b"")
    result = kucun("node", "stock", "--db", str(stray))
    assert result.returncode == 1
    assert "not an initialised node ledger" in result.stderr


def test_bad_node_id_is_refused(tmp_path):
    result = kucun(
        "node",
        "init",
        "--db",
        str(tmp_path / "x.db"),
        "--node",
        "S.01",
        "--nats",
        "nats://127.0.0.1:4222",
    )
    assert result.returncode == 1
    assert "not valid" in result.stderr


def test_node_id_of_a_ledger_never_changes(store):
    result = kucun("node", "init", "--db", store, "--node", "S02", "--nats", "nats://x:1")
    assert result.returncode == 1
    assert "already belongs to node S01" in result.stderr


def test_hub_not_initialised(tmp_path):
    result = kucun("hub", "serve", "--db", str(tmp_path / "hub.db"), "--nats", "nats://x:1")
    assert result.returncode == 1
    assert "kucun hub init" in result.stderr


COMMANDS = [
    [],
    ["nats"],
    ["nats", "serve"],
    ["hub"],
    ["hub", "init"],
    ["hub", "serve"],
    ["hub", "add-node"],
    ["node"],
    ["node", "init"],
    ["node", "product"],
    ["node", "product", "add"],
    ["node", "receive"],
    ["node", "sell"],
    ["node", "count"],
    ["node", "stock"],
    ["node", "sync"],
    ["node", "run"],
    ["node", "transfer"],
    ["node", "transfer", "ship"],
    ["node", "transfer", "receive"],
    ["node", "po"],
    ["node", "po", "receive"],
    ["node", "documents"],
    ["devices"],
    ["devices", "read-scale"],
    ["devices", "listen-scanner"],
    ["devices", "sim-scale"],
    ["devices", "sim-scanner"],
    ["devices", "parse-barcode"],
    ["demo"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "kucun")
def test_every_command_has_help(command):
    from kucun.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0


def test_sell_help_lists_the_tender_methods(capsys):
    from kucun.cli import main

    with pytest.raises(SystemExit):
        main(["node", "sell", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "cash, card, wechat, alipay, or a method head office configured" in help_text


@pytest.mark.slow
def test_sell_with_split_tenders_and_change(store):
    out = kucun(
        "node", "sell", "--db", store, "A1", "2", "--tender", "card:5", "--tender", "cash"
    ).stdout
    assert "total 7.00, paid card 5.00, cash 2.00" in out
    out = kucun("node", "sell", "--db", store, "A1", "1", "--tender", "cash:10", check=True).stdout
    assert "paid cash 3.50" in out and "change 6.50" in out


RECEIVING_COMMANDS = [
    ["node", "user"],
    ["node", "user", "add"],
    ["node", "po", "reverse"],
    ["node", "po", "accept"],
    ["node", "transfer", "reverse"],
    ["node", "transfer", "accept"],
]


@pytest.mark.parametrize("command", RECEIVING_COMMANDS, ids=" ".join)
def test_receiving_commands_have_help(command):
    from kucun.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0


def test_receive_help_documents_the_line_syntax(capsys):
    from kucun.cli import main

    with pytest.raises(SystemExit):
        main(["node", "po", "receive", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for part in ("SKU=QTY[@COST][:LOT[:EXPIRY]]", "A1=5@2.30", "A1=5:L1:2027-01-31", "GS1"):
        assert part in help_text
    for option in ("--recount", "--force", "--approver", "--pin"):
        assert option in help_text


@pytest.mark.slow
def test_user_add_keeps_only_the_pins_hash(store):
    out = kucun(
        "node", "user", "add", "--db", store, "wang", "--name", "王芳", "--role", "manager",
        "--pin", "482193", check=True,
    ).stdout  # fmt: skip
    assert "user wang (manager) saved with a PIN" in out
    with open(store, "rb") as ledger:
        assert b"482193" not in ledger.read()
    bad = kucun("node", "user", "add", "--db", store, "li", "--role", "cashier", "--pin", "12")
    assert bad.returncode != 0 and "4 to 12 digits" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.slow
def test_reversing_something_that_is_not_a_receipt_says_so(store):
    result = kucun(
        "node", "po", "reverse", "--db", store, "S01-9", "--approver", "wang", "--pin", "1234"
    )
    assert result.returncode != 0
    assert "is not a receipt of an order or transfer here" in result.stderr
    assert "Traceback" not in result.stderr
    result = kucun("node", "po", "receive", "--db", store, "PO-S01-1", "A1=x@1")
    assert result.returncode != 0 and "Traceback" not in result.stderr
