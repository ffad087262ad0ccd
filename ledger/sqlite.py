"""Opening SQLite the durable way, versioned migrations, and the one unit of work."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType


class Connection(sqlite3.Connection):
    """A connection that knows how deep the unit of work around it is.

    Nested units join the outermost one, so an operation that writes and an operation that
    calls it share one transaction without a second `*_in_transaction` method each.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.work_depth = 0
        self.work_failed = False
        self.rollback_hooks: list[Callable[[], None]] = []


def connect(path: str | Path) -> Connection:
    """A connection in WAL mode with synchronous=FULL.

    FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and a sale
    the customer has walked away with must survive a pulled plug. The cost is one fsync per
    commit (see benchmarks/ledger.py).
    """
    conn = sqlite3.connect(
        path, isolation_level=None, timeout=30.0, check_same_thread=False, factory=Connection
    )
    assert isinstance(conn, Connection)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


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
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        conn = self.conn
        depth = getattr(conn, "work_depth", 0)
        if depth == 0:
            conn.execute("BEGIN IMMEDIATE")
            if isinstance(conn, Connection):
                conn.work_failed = False
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
        if not conn.work_failed:
            conn.execute("COMMIT")
            return
        conn.execute("ROLLBACK")
        for hook in conn.rollback_hooks:
            hook()
        if exc_type is None:
            raise NestedWorkFailed("an inner step failed, so nothing of this unit was written")


def on_rollback(conn: sqlite3.Connection, hook: Callable[[], None]) -> None:
    """Call `hook` whenever a unit of work on `conn` rolls back (caches of what it wrote)."""
    if isinstance(conn, Connection):
        conn.rollback_hooks.append(hook)
