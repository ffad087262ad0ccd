"""`kucun node shift open | x | close | list`: the command line of shifts."""

from __future__ import annotations

import json

import pytest

from kucun import cli as kucun_cli
from node.service import Node
from tests.helpers import kucun
from tests.test_shifts import a_day


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run `kucun node shift …` in-process, through the real entry point."""
    try:
        code = kucun_cli.main(["node", "shift", *argv])
    except SystemExit as exc:  # --help, or a usage error
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    path = tmp_path / "store.db"
    node = Node.init(path, "S01", None, "nats://127.0.0.1:1")
    node.add_product("A1", "Apple", price="3.50")
    node.receive("A1", "100")
    yield node, str(path)
    node.close()


def test_open_x_close_list_with_json(store, capsys):
    node, db = store
    code, out, _ = run(capsys, "open", "--db", db, "--float", "200.00", "--json")
    assert code == 0
    opened = json.loads(out)
    assert opened["cash_float"] == "200.00" and opened["opened_by"] == "admin"
    a_day(node, opened["shift"])

    code, out, _ = run(capsys, "x", "--db", db, "--json")
    assert code == 0
    x = json.loads(out)
    assert x["shift"] == opened["shift"]
    report = x["report"]
    assert (report["number"], report["z"], report["counted_cash"]) == (None, None, None)
    assert (report["sales"], report["sales_total"]) == (4, "148.30")
    assert (report["returns_total"], report["voids_total"]) == ("7.00", "50.00")
    assert report["discounts_total"] == "1.00"
    assert report["tenders"] == [
        {"method": "cash", "amount": "60.80"},
        {"method": "card", "amount": "0.00"},
        {"method": "wechat", "amount": "30.50"},
    ]
    assert (report["cash_sales"], report["cash_refunds"]) == ("67.80", "7.00")
    assert report["expected_cash"] == "260.80"
    assert report["cashiers"][0] == {
        "user": "li",
        "sales": 2,
        "sales_total": "100.50",
        "returns": 1,
        "returns_total": "50.00",
    }

    code, out, _ = run(capsys, "x", "--db", db)
    assert code == 0 and "not stored" in out
    assert any(line.startswith("expected cash") and "260.80" in line for line in out.splitlines())

    code, out, _ = run(capsys, "close", "--db", db, "--counted", "260.50", "--json")
    assert code == 0
    closed = json.loads(out)
    assert closed["shift"] == opened["shift"] and closed["closed_by"] == "admin"
    z = closed["report"]
    assert (z["number"], z["z"]) == (1, "Z 0001")
    assert (z["expected_cash"], z["counted_cash"], z["variance"]) == ("260.80", "260.50", "-0.30")
    assert {k: v for k, v in z.items() if k not in ("number", "z", "counted_cash", "variance")} == {
        k: v for k, v in report.items() if k not in ("number", "z", "counted_cash", "variance")
    }

    code, out, _ = run(capsys, "list", "--db", db, "--json")
    assert code == 0
    assert json.loads(out) == {"items": [closed], "open": None}

    code, out, _ = run(capsys, "open", "--db", db, "--float", "50")
    assert code == 0 and "float 50.00" in out
    code, out, _ = run(capsys, "close", "--db", db, "--counted", "50")
    assert code == 0 and out.startswith("Z 0002 (")
    assert any(line.startswith("variance") and "0.00" in line for line in out.splitlines())
    code, out, _ = run(capsys, "list", "--db", db)
    lines = out.splitlines()
    assert code == 0 and lines[1].startswith("Z 0001") and lines[2].startswith("Z 0002")
    assert "260.50" in lines[1] and "-0.30" in lines[1]


def test_refusals_say_what_to_do_and_write_nothing(store, capsys, monkeypatch):
    node, db = store
    head = node.store.log.head_seq("S01")
    code, _, err = run(capsys, "close", "--db", db, "--counted", "10")
    assert code == 1 and err.startswith("error: no shift is open on this till")
    code, _, err = run(capsys, "x", "--db", db)
    assert code == 1 and "open one with its cash float first" in err
    code, _, err = run(capsys, "open", "--db", db, "--float", "two hundred")
    assert code == 1 and "'two hundred' is not an amount" in err and "200.00" in err
    code, _, err = run(capsys, "open", "--db", db, "--float", "-1")
    assert code == 1 and "must not be negative" in err
    assert node.store.log.head_seq("S01") == head

    code, out, _ = run(capsys, "open", "--db", db, "--float", "200", "--json")
    shift = json.loads(out)["shift"]
    code, _, err = run(capsys, "open", "--db", db, "--float", "200")
    assert code == 1 and f"shift {shift} is open since" in err and "Z report" in err
    code, _, err = run(capsys, "close", "--db", db, "--counted", "1.234")
    assert code == 1 and "counted cash '1.234' is not an amount" in err
    assert len(err.splitlines()) == 1

    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    code, _, err = run(capsys, "close", "--db", db, "--counted", "abc")
    assert code == 1 and "清点现金 'abc' 不是有效金额" in err
    code, _, err = run(capsys, "open", "--db", db, "--float", "1")
    assert code == 1 and f"班次 {shift} 已于" in err
    assert node.store.log.head_seq("S01") == head + 1

    code, _, err = run(capsys, "close", "--db", db)  # --counted is required
    assert code == 2 and "--counted" in err
    code, _, err = run(capsys, "list", "--db", str(db) + ".missing")
    assert code == 1 and "error:" in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ((), ["open", "x", "close", "list", "Expected cash = float + cash sales"]),
        (("open",), ["--float", "YUAN", "--db", "--json", "Refused while a shift is open"]),
        (("x",), ["--db", "--json", "Nothing is written"]),
        (("close",), ["--counted", "YUAN", "Z number"]),
        (("list",), ["--db", "--json", "oldest first"]),
    ],
)
def test_help(capsys, argv, words):
    code, out, _ = run(capsys, *argv, "--help")
    assert code == 0
    flat = " ".join(out.split())
    for word in words:
        assert word in flat, word


def test_the_real_command(tmp_path):
    db = str(tmp_path / "till.db")
    kucun(
        "node",
        "init",
        "--db",
        db,
        "--node",
        "S01-T1",
        "--location",
        "S01",
        "--nats",
        "nats://127.0.0.1:1",
        check=True,
    )
    opened = kucun("node", "shift", "open", "--db", db, "--float", "100.00", "--json", check=True)
    assert json.loads(opened.stdout)["cash_float"] == "100.00"
    closed = kucun("node", "shift", "close", "--db", db, "--counted", "99.50", check=True)
    assert closed.stdout.startswith("Z 0001 (S01-T1-2)")
    again = kucun("node", "shift", "close", "--db", db, "--counted", "1")
    assert again.returncode == 1 and "no shift is open" in again.stderr


def test_a_sale_from_the_command_line_counts_in_the_open_shift(store, capsys):
    """`kucun node sell` on a till with an open shift belongs to it, as the screen's do."""
    _, db = store
    assert run(capsys, "open", "--db", db, "--float", "100")[0] == 0
    assert kucun_cli.main(["node", "sell", "--db", db, "A1", "2", "--tender", "cash:10"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "x", "--db", db, "--json")
    report = json.loads(out)["report"]
    assert code == 0
    assert (report["sales"], report["sales_total"], report["expected_cash"]) == (
        1,
        "7.00",
        "107.00",
    )
