"""Opening a ledger again in the same process must not cost the first connection its locks.

Closing any descriptor of a SQLite file drops every POSIX lock the process holds on it, so
a check that opened the file itself let another process checkpoint and delete the
write-ahead log under a live connection: its later commits were lost (seen as "disk I/O
error" and a sync that sent 99,998 of 100,000 events).
"""

from __future__ import annotations

import subprocess
import sys

from ledger.sqlite import connect, migrate, transaction


def test_a_second_open_in_process_keeps_the_first_connections_commits(tmp_path):
    db = tmp_path / "s01.db"
    first = connect(db)
    migrate(first, "test", ["CREATE TABLE t(n INTEGER)"])
    with transaction(first):
        first.execute("INSERT INTO t VALUES (1)")
    for _ in range(3):  # e.g. Node.init then Node.open, a CLI command opening it again
        connect(db).close()
    reader = [sys.executable, "-c", f"import sqlite3; c = sqlite3.connect({str(db)!r}); "
              "print(c.execute('SELECT count(*) FROM t').fetchone()[0]); c.close()"]  # fmt: skip
    subprocess.run(reader, check=True, capture_output=True)  # another process opens and closes
    for n in range(2, 6):
        with transaction(first):
            first.execute("INSERT INTO t VALUES (?)", (n,))
    seen = subprocess.run(reader, check=True, capture_output=True, text=True).stdout.strip()
    assert seen == "5"
    assert first.execute("SELECT count(*) FROM t").fetchone()[0] == 5
