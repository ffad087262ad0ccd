"""The hub's own tables for what nodes report of their sync state (their backlog, when
they last said so): a migration component of its own ("hub-sync") beside
ledger/hub_tables.py.

It also holds the indexes the hub's lists page by (ledger/listing.py): they are on
replica tables, but only the hub lists across every store, so nodes' folds do not pay
for them.

Append only: a released script is never edited.
"""

from __future__ import annotations

import sqlite3

import msgspec

from ledger.sqlite import transaction
from protocol.node_status import NodeStatus

MIGRATIONS: list[str] = [
    # the latest status report per node (protocol/node_status.py), and when it arrived
    """
    CREATE TABLE node_reports(
        node TEXT PRIMARY KEY,
        location TEXT NOT NULL,
        head_seq INTEGER NOT NULL,
        published_seq INTEGER NOT NULL,
        unconfirmed INTEGER NOT NULL,
        backlog INTEGER NOT NULL,
        oldest_unsent_age_s REAL,
        at_ms INTEGER NOT NULL,
        received_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX journal_by_time ON journal(hlc, origin, seq);
    CREATE INDEX journal_by_doc ON journal(doc, hlc, origin, seq) WHERE doc IS NOT NULL;
    CREATE INDEX documents_by_time ON documents(hlc, origin, seq);
    """,
    # alerts newest first, merged with those derived at read time by their event's place
    """
    CREATE INDEX alerts_by_time ON alerts(hlc, origin, seq);
    """,
    # one store's movements and one type's documents newest first, without sorting all of
    # that store's journal or scanning every sale for the one Z report
    """
    CREATE INDEX journal_by_location_time ON journal(location, hlc, origin, seq);
    CREATE INDEX documents_by_type_time ON documents(type, hlc, origin, seq);
    """,
]


class NodeReport(msgspec.Struct, frozen=True):
    """A node's latest report and when the hub got it (by the hub's clock)."""

    status: NodeStatus
    received_ms: int


class NodeReports:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def store(self, status: NodeStatus, received_ms: int) -> None:
        """Keep the latest report of the node; an older one arriving late is ignored."""
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO node_reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(node) DO UPDATE SET location = excluded.location, "
                "head_seq = excluded.head_seq, published_seq = excluded.published_seq, "
                "unconfirmed = excluded.unconfirmed, backlog = excluded.backlog, "
                "oldest_unsent_age_s = excluded.oldest_unsent_age_s, at_ms = excluded.at_ms, "
                "received_ms = excluded.received_ms WHERE excluded.at_ms >= node_reports.at_ms",
                (
                    status.node,
                    status.location,
                    status.head_seq,
                    status.published_seq,
                    status.unconfirmed,
                    status.backlog,
                    status.oldest_unsent_age_s,
                    status.at_ms,
                    received_ms,
                ),
            )

    def all(self) -> dict[str, NodeReport]:
        """Every node's latest report, by node id."""
        return {
            row[0]: NodeReport(NodeStatus(*row[:8]), row[8])
            for row in self.conn.execute(
                "SELECT node, location, head_seq, published_seq, unconfirmed, backlog, "
                "oldest_unsent_age_s, at_ms, received_ms FROM node_reports ORDER BY node"
            )
        }
