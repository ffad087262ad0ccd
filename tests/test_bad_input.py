"""Input that must be refused at the command line: one line, an exit code, nothing written.

Every case runs the real `kucun` command in a subprocess on a real ledger file, and checks
that stderr is a single `error: …` line (no traceback), the exit code, and that the ledger
(or whatever the bad --db path pointed at) is exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from protocol.events import valid_replica_id
from tests.helpers import kucun

BIG = "9" * 5000  # beyond Python's 4300-digit limit for int()
HUGE = "x" * 100_000
NATS = "nats://127.0.0.1:1"


def assert_refused(result, code: int, *words: str) -> str:
    """One `error:` line on stderr naming `words`, exit `code`, no traceback."""
    err = result.stderr.strip()
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == code, (result.returncode, result.stdout[-500:], err[-500:])
    assert len(err.splitlines()) == 1, err[-2000:]
    assert err.startswith("error: "), err
    assert len(err) < 400, err  # a 5,000-digit input is not echoed whole
    for word in words:
        assert word in err, err
    return err


def dump(db: Path | str) -> list[str]:
    """Everything the ledger holds, as SQL text, read without writing."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A node ledger with one product in stock, made once; each test gets a copy."""
    db = tmp_path_factory.mktemp("template") / "store.db"
    kucun("node", "init", "--db", str(db), "--node", "S01", "--nats", NATS, check=True)
    kucun(
        "node",
        "product",
        "add",
        "--db",
        str(db),
        "A1",
        "--name",
        "Apple",
        "--price",
        "3.50",
        check=True,
    )
    kucun("node", "receive", "--db", str(db), "A1", "10", "--cost", "2.00", check=True)
    return db


@pytest.fixture(scope="module")
def hub_template(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("hub") / "hub.db"
    kucun("hub", "init", "--db", str(db), check=True)
    return db


@pytest.fixture
def store(template, tmp_path) -> str:
    db = tmp_path / "store.db"
    shutil.copy(template, db)
    return str(db)


# ---- values: quantities, prices, ids, bytes ----------------------------------------------

VALUE_CASES = [
    # (argv after "node", exit code, words the message must hold)
    (["sell", "A1", BIG], 1, ["quantity", "is too large: at most 10,000,000"]),
    (["receive", "A1", BIG], 1, ["quantity", "is too large: at most 10,000,000"]),
    (["count", "A1", BIG], 1, ["quantity", "is too large: at most 10,000,000"]),
    (["receive", "A1", "1", "--cost", BIG], 1, ["is too large: at most 100,000,000"]),
    (["sell", "A1", "1", "--price", BIG], 1, ["is too large: at most 100,000,000"]),
    (["sell", "A1", "-" + BIG], 1, ["is too large"]),
    (["sell", "A1", "99999999999"], 1, ["'99999999999' is too large: at most 10,000,000"]),
    (["sell", "A1", HUGE], 1, ["quantity", "is not a number", "100,000 characters"]),
    (["receive", "A1", "1" + " " * 100], 1, ["quantity", "is too long"]),
    (["sell", "A1", "1e3"], 1, ["is not a number"]),
    (["sell", "A1", "A\udcff"], 2, ["is not UTF-8 text"]),
    (["sell", "A\udcff", "1"], 2, ["is not UTF-8 text"]),
    (["product", "add", "A\udcff", "--name", "x"], 2, ["is not UTF-8 text"]),
]
# a process each: the fast suite runs one of each kind (number, text), `make test` all
VALUE_CASES = [
    case if i in (0, 7, 10) else pytest.param(*case, marks=pytest.mark.slow)
    for i, case in enumerate(VALUE_CASES)
]


@pytest.mark.parametrize(("argv", "code", "words"), VALUE_CASES, ids=lambda v: str(v)[:30])
def test_bad_values_are_refused_and_nothing_is_written(store, argv, code, words):
    before = dump(store)
    result = kucun("node", argv[0], "--db", store, *argv[1:])
    assert_refused(result, code, *words)
    assert dump(store) == before


def test_ids_are_matched_whole():
    for name in ("S01", "S01-T2", "a_b", "0", "x" * 32):
        assert valid_replica_id(name), name
    for name in ("S09\n", "S09\r", "\nS09", "S09 ", "S.09", "S*", "", "x" * 33, "hub", "hub-S1"):
        assert not valid_replica_id(name), name


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--node", "S09\n"),
        pytest.param("--location", "S09\n", marks=pytest.mark.slow),
        pytest.param("--node", "S09 ", marks=pytest.mark.slow),
        pytest.param("--node", "S.09", marks=pytest.mark.slow),
        pytest.param("--location", "x" * 33, marks=pytest.mark.slow),
    ],
)
def test_node_ids_are_matched_whole(tmp_path, flag, value):
    """ "S09\\n" passed a `$`-anchored check and became a NATS subject that fails forever."""
    db = tmp_path / "new.db"
    argv = ["node", "init", "--db", str(db), "--nats", NATS]
    argv += [flag, value] if flag == "--node" else ["--node", "S01", flag, value]
    assert_refused(kucun(*argv), 1, "is not valid")
    assert not db.exists()


@pytest.mark.slow
def test_hub_add_node_refuses_an_id_with_a_newline(hub_template, tmp_path):
    db = tmp_path / "hub.db"
    shutil.copy(hub_template, db)
    before = dump(db)
    assert_refused(kucun("hub", "add-node", "--db", str(db), "S09\n"), 1, "is not valid")
    assert_refused(
        kucun("hub", "add-node", "--db", str(db), "S09", "--location", "S09\n"), 1, "not valid"
    )
    assert dump(db) == before


# ---- ledger paths ------------------------------------------------------------------------


def _directory(tmp: Path) -> Path:
    path = tmp / "ledger-dir"
    path.mkdir()
    return path


def _missing_folder(tmp: Path) -> Path:
    return tmp / "no-such-folder" / "store.db"


def _random_bytes(tmp: Path) -> Path:
    path = tmp / "random.db"
    path.write_bytes(os.urandom(8192))
    return path


def _other_program(tmp: Path) -> Path:
    path = tmp / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts(name TEXT, phone TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('Li', '123')")
    conn.commit()
    conn.close()
    return path


def _truncated(tmp: Path, template: Path) -> Path:
    path = tmp / "truncated.db"
    data = template.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _damaged(tmp: Path, template: Path) -> Path:
    """Full length, header intact, every page from the 8th on overwritten."""
    path = tmp / "damaged.db"
    data = bytearray(template.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[7 * page :] = os.urandom(len(data) - 7 * page)
    path.write_bytes(bytes(data))
    return path


# kind -> (make it, exit code, words the message holds)
PATHS = {
    "directory": (_directory, 2, ["is a directory: give the path of a ledger file"]),
    "random": (_random_bytes, 2, ["is not a kucun ledger (not a database): check --db"]),
    "other": (_other_program, 2, ["is not a kucun ledger (a database of another program)"]),
    # SQLite may see the cut first ("damaged"), or the page count does ("cut short")
    "truncated": (_truncated, 2, ["check --db, or restore the ledger from a backup"]),
    "damaged": (_damaged, 2, ["check --db"]),
}

COMMANDS = {
    "node stock": ["node", "stock", "--db", "{db}"],
    "node sell": ["node", "sell", "--db", "{db}", "A1", "1"],
    "node init": ["node", "init", "--db", "{db}", "--node", "S01", "--nats", NATS],
    "node sync": ["node", "sync", "--db", "{db}"],
    "hub init": ["hub", "init", "--db", "{db}"],
    "hub add-node": ["hub", "add-node", "--db", "{db}", "S02"],
    "hub serve": ["hub", "serve", "--db", "{db}", "--nats", NATS, "--http", "127.0.0.1:1"],
}

#: every kind with `node stock` and `hub init` in the fast suite, the rest marked slow
PATH_CASES = [
    pytest.param(
        kind,
        command,
        id=f"{kind}-{command}",
        marks=() if command in ("node stock", "hub init") else pytest.mark.slow,
    )
    for kind in PATHS
    for command in COMMANDS
]


def _state(path: Path) -> tuple:
    """What is at `path`: a folder's listing or a file's bytes, or that it is missing."""
    if path.is_dir():
        return ("dir", sorted(p.name for p in path.iterdir()))
    if path.exists():
        return ("file", path.read_bytes())
    return ("missing", path.parent.exists())


@pytest.mark.parametrize(("kind", "command"), PATH_CASES)
def test_a_bad_ledger_path_gives_one_line(tmp_path, template, kind, command):
    make, code, words = PATHS[kind]
    path = make(tmp_path, template) if kind in ("truncated", "damaged") else make(tmp_path)
    before = _state(path)
    argv = [a.replace("{db}", str(path)) for a in COMMANDS[command]]
    assert_refused(kucun(*argv, timeout=30), code, *words)
    assert _state(path) == before


@pytest.mark.parametrize("command", ["node init", "hub init"])
def test_init_into_a_missing_folder_says_to_create_it(tmp_path, command):
    path = _missing_folder(tmp_path)
    argv = [a.replace("{db}", str(path)) for a in COMMANDS[command]]
    assert_refused(
        kucun(*argv), 2, f"folder {path.parent} does not exist: create it first (mkdir -p"
    )
    assert not path.parent.exists()


@pytest.mark.parametrize("command", ["node stock", "node sell", "hub add-node"])
def test_a_missing_ledger_says_to_init_it(tmp_path, command):
    path = _missing_folder(tmp_path)
    argv = [a.replace("{db}", str(path)) for a in COMMANDS[command]]
    assert_refused(kucun(*argv), 1, "init --db")
    assert not path.parent.exists()


@pytest.mark.parametrize("db", ["", "x" * 1000])
def test_an_empty_or_impossible_path_is_refused(tmp_path, db):
    """`--db ""` made SQLite open a temporary database that vanished with the token."""
    result = kucun("hub", "init", "--db", db, cwd=tmp_path)
    assert_refused(result, 2, "check --db" if db else "give the path of a ledger file")
    assert list(tmp_path.iterdir()) == []


# ---- the rest of the sweep ---------------------------------------------------------------


def test_a_listen_port_out_of_range_is_refused(hub_template):
    """bind() raised OverflowError for port 99999."""
    argv = ["hub", "serve", "--db", str(hub_template), "--nats", NATS, "--http", "127.0.0.1:99999"]
    assert_refused(kucun(*argv), 1, "--http '127.0.0.1:99999' must look like 127.0.0.1:8080")


def test_demo_into_a_file_gives_one_line(tmp_path):
    """A FileExistsError traceback: the OS's refusals are printed as one line too."""
    path = tmp_path / "taken"
    path.write_text("not a folder")
    assert_refused(kucun("demo", "--dir", str(path), "--no-ui"), 1, "File exists", str(path))
    assert path.read_text() == "not a folder"


def test_hub_init_on_a_node_ledger_is_refused(store):
    """It added the hub's tables to the store's ledger and printed an admin token."""
    before = dump(store)
    result = kucun("hub", "init", "--db", store)
    assert_refused(result, 1, "is the ledger of node S01, not a hub database")
    assert "kc_" not in result.stdout
    assert dump(store) == before


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda n: n.add_product("", "x"), "SKU must not be empty"),
        (lambda n: n.add_product("A" * 100, "x"), "SKU is too long (100 characters)"),
        (lambda n: n.add_product("A\n", "x"), "SKU 'A\\n' holds a control character"),
        (lambda n: n.add_product("B", "two\nlines"), "name 'two\\nlines' holds a control"),
        (lambda n: n.add_product("B", "x", barcode="69\t01"), "barcode '69\\t01' holds"),
        (lambda n: n.receive("A", "1", lot=""), "lot must not be empty"),
        (lambda n: n.receive("A", "1", lot="L" * 65), "lot is too long (65 characters)"),
        (lambda n: n.receive("A", "1", supplier="x" * 1001), "supplier is too long"),
        (lambda n: n.count("A", "1", lot="L\x00"), "lot 'L\\x00' holds a control character"),
    ],
)
def test_a_till_refuses_keys_and_names_head_office_would(tmp_path, call, words):
    """The node keeps the hub's rules for SKUs, lots and names (protocol.limits)."""
    from node.errors import NodeError
    from node.service import Node

    node = Node.init(tmp_path / "s01.db", "S01", None, "nats://127.0.0.1:1")
    node.add_product("A", "Apple", price="1.00")
    head = node.store.log.head_seq("S01")
    with pytest.raises(NodeError) as refused:
        call(node)
    assert words in str(refused.value)
    assert node.store.log.head_seq("S01") == head  # nothing written
