"""Opening SQLite the durable way, versioned migrations, and the one unit of work."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from protocol import i18n
from protocol.i18n import Translatable


class Connection(sqlite3.Connection):
    """A connection that knows how deep the unit of work around it is.

    Nested units join the outermost one, so an operation that writes and an operation that
    calls it share one transaction without a second `*_in_transaction` method each.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.work_depth = 0
        self.work_failed = False
        self.work_durable = True
        #: memory of what this connection wrote (journal tails); cleared on rollback
        self.write_cache: dict[str, Any] = {}


class LedgerError(Translatable):
    """A path that is no usable ledger (a folder, a missing folder, another file); the
    message says what to do, in the reader's language. The CLIs print it as one line."""


i18n.register(
    {
        "no ledger path given: give the path of a ledger file with --db": (
            "未给出账本路径：请用 --db 给出账本文件的路径"
        ),
        "{name} cannot be used ({reason}): check --db": "{name} 无法使用（{reason}）：请检查 --db",
        "{name} cannot be opened ({reason}): check --db": (
            "{name} 无法打开（{reason}）：请检查 --db"
        ),
        "{name} is not a kucun ledger (the file is cut short): check --db, or restore the "
        "ledger from a backup": (
            "{name} 不是 kucun 账本（文件不完整）：请检查 --db，或从备份恢复账本"
        ),
        "{name} is damaged ({reason}): check --db, or restore the ledger from a backup": (
            "{name} 已损坏（{reason}）：请检查 --db，或从备份恢复账本"
        ),
        "{name} is not a kucun ledger ({reason}): check --db": (
            "{name} 不是 kucun 账本（{reason}）：请检查 --db"
        ),
        "{name} is not a kucun ledger (a database of another program): check --db": (
            "{name} 不是 kucun 账本（是其他程序的数据库）：请检查 --db"
        ),
        "{path} is a directory: give the path of a ledger file": (
            "{path} 是一个文件夹：请给出账本文件的路径"
        ),
        "folder {folder} does not exist: create it first (mkdir -p {folder})": (
            "文件夹 {folder} 不存在：请先创建它（mkdir -p {folder}）"
        ),
    }
)


def connect(path: str | Path) -> Connection:
    """A connection in WAL mode with synchronous=FULL, to a ledger file or a new one.

    FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and a sale
    the customer has walked away with must survive a pulled plug. The cost is one fsync per
    commit (see benchmarks/ledger.py).

    This is the one place ledgers are opened, so it is the one place that refuses what is
    not one (`LedgerError`): a folder, a file in a folder that does not exist, a file that
    is no SQLite database, a truncated one, or a database of another program.
    """
    name = str(path)
    if not name.strip():
        raise LedgerError("no ledger path given: give the path of a ledger file with --db")
    if name != ":memory:":
        try:
            _check_path(Path(path))
        except OSError as exc:  # a name too long, a folder we may not read
            raise LedgerError(
                "{name} cannot be used ({reason}): check --db",
                name=_short(name),
                reason=exc.strerror or str(exc),
            ) from None
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=30.0, check_same_thread=False, factory=Connection
        )
    except sqlite3.Error as exc:
        raise LedgerError(
            "{name} cannot be opened ({reason}): check --db", name=name, reason=str(exc)
        ) from None
    assert isinstance(conn, Connection)
    try:
        # read before anything writes: journal_mode=WAL would rewrite another program's file
        conn.execute("PRAGMA busy_timeout=30000")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if tables and _truncated(conn, path):
            conn.close()
            raise LedgerError(
                "{name} is not a kucun ledger (the file is cut short): check --db, or "
                "restore the ledger from a backup",
                name=name,
            )
        if not tables or "schema_versions" in tables:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        if "malformed" in str(exc):
            raise LedgerError(
                "{name} is damaged ({reason}): check --db, or restore the ledger from a backup",
                name=name,
                reason=str(exc),
            ) from None
        reason = "not a database" if "not a database" in str(exc) else str(exc)
        raise LedgerError(
            "{name} is not a kucun ledger ({reason}): check --db", name=name, reason=reason
        ) from None
    if tables and "schema_versions" not in tables:
        conn.close()
        raise LedgerError(
            "{name} is not a kucun ledger (a database of another program): check --db",
            name=name,
        )
    return conn


def _short(name: str) -> str:
    return name if len(name) <= 80 else f"{name[:40]}… ({len(name):,} characters)"


def _check_path(path: Path) -> None:
    """Refuse, before SQLite does with "unable to open database file", what is no ledger.

    Only `stat`, never `open`: closing any descriptor of a database file releases every
    POSIX lock this process holds on it (SQLite's own connections included), after which
    another process may checkpoint and delete the write-ahead log under a live connection
    and its commits are lost. What the file holds is SQLite's to read (`_truncated`)."""
    if path.is_dir():
        raise LedgerError("{path} is a directory: give the path of a ledger file", path=path)
    if not path.exists() and not path.parent.is_dir():
        raise LedgerError(
            "folder {folder} does not exist: create it first (mkdir -p {folder})",
            folder=path.parent,
        )


def _truncated(conn: sqlite3.Connection, path: str | Path) -> bool:
    """The database's page count needs more bytes than the file has (a copy cut short);
    not judged while a write-ahead log may hold the newer pages."""
    if str(path) == ":memory:" or not os.path.exists(path):
        return False
    wal = f"{path}-wal"
    if os.path.exists(wal) and os.stat(wal).st_size > 0:
        return False
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    return os.stat(path).st_size < pages * page_size


def migrate(conn: sqlite3.Connection, component: str, scripts: Sequence[str]) -> None:
    """Run the scripts of `component` not yet applied, each in its own transaction."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions("
        "component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    row = conn.execute(
        "SELECT version FROM schema_versions WHERE component = ?", (component,)
    ).fetchone()
    current = row[0] if row else 0
    for version, script in enumerate(scripts[current:], start=current + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions(component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, version),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


class NestedWorkFailed(RuntimeError):
    """An inner unit of work failed and its error was swallowed: nothing was written."""


class transaction:
    """The unit of work: BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error.

    Entered while another unit is open on the same connection, it joins that one: the
    outermost decides. An inner unit that failed dooms the outer one even if its error was
    caught, so a half-done operation is never committed.

    `durable=False` is for units that write only what can be derived again from the log
    (folding): their commit skips the fsync (synchronous=NORMAL for that commit). Such a
    commit is still atomic; a power cut may only undo it, and the next durable commit makes
    it durable too (WAL frames are synced in order). Log writes refuse to run in one
    (`require_durable`).
    """

    def __init__(self, conn: sqlite3.Connection, durable: bool = True) -> None:
        self.conn = conn
        self.durable = durable

    def __enter__(self) -> sqlite3.Connection:
        conn = self.conn
        depth = getattr(conn, "work_depth", 0)
        if depth == 0:
            relaxed = not self.durable and isinstance(conn, Connection)
            if relaxed:
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            if isinstance(conn, Connection):
                conn.work_failed = False
                conn.work_durable = not relaxed
        if isinstance(conn, Connection):
            conn.work_depth = depth + 1
        return conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.conn
        if not isinstance(conn, Connection):
            conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
            return
        conn.work_depth -= 1
        if exc_type is not None:
            conn.work_failed = True
        if conn.work_depth:
            return
        try:
            if not conn.work_failed:
                conn.execute("COMMIT")
                return
            conn.execute("ROLLBACK")
            conn.write_cache.clear()
        finally:
            if not conn.work_durable:
                conn.execute("PRAGMA synchronous=FULL")
                conn.work_durable = True
        if exc_type is None:
            raise NestedWorkFailed("an inner step failed, so nothing of this unit was written")


def require_durable(conn: sqlite3.Connection) -> None:
    """Refuse to write the log inside a unit whose commit may be undone by a power cut."""
    if not getattr(conn, "work_durable", True):
        raise RuntimeError("log writes need a durable unit of work (durable=True)")


def write_cache(conn: sqlite3.Connection) -> dict[str, Any]:
    """A dict that lives with `conn` and is emptied whenever one of its units rolls back or
    another connection has committed since it was last asked for (`PRAGMA data_version`):
    what it remembers of the database is never stale. A plain connection gets a fresh one."""
    if not isinstance(conn, Connection):
        return {}
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    if conn.write_cache.get("data_version") != version:
        conn.write_cache.clear()
        conn.write_cache["data_version"] = version
    return conn.write_cache


def tune_for_bulk(conn: sqlite3.Connection) -> None:
    """For a replica that takes whole backlogs in (the hub): checkpoint the WAL every
    ~40 MB instead of every 4 MB, so the pages a fold chunk dirties again and again (each
    key's journal tail) are copied into the database once per checkpoint, not once per
    chunk; and a 64 MB page cache for the journals' working set."""
    conn.execute("PRAGMA wal_autocheckpoint=10000")
    conn.execute("PRAGMA cache_size=-65536")
