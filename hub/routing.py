"""Routing what one store ships to the store that will receive it.

When a transfer header from the shipping store is folded at the hub, the hub re-issues it
on the receiving location's own hub log ("hub-<location>"), so the receiving store's node
learns of the inbound transfer through its consumer. Done inside the ingest transaction
and recorded in `routed`, so a transfer is routed exactly once however often it arrives.
"""

from __future__ import annotations

import msgspec

from ledger.store import EventStore
from protocol.events import Document, hub_origin_for, valid_replica_id

ROUTING_SCHEMA = """
    CREATE TABLE routed(
        doc TEXT PRIMARY KEY,
        to_origin TEXT NOT NULL,
        seq INTEGER NOT NULL
    )
"""

_decoder = msgspec.msgpack.Decoder(Document)


def route_transfers(store: EventStore, wall_ms: int) -> int:
    """Re-issue every not-yet-routed transfer to its destination; call inside a transaction."""
    rows = store.conn.execute(
        "SELECT d.doc, d.body FROM documents d LEFT JOIN routed r ON r.doc = d.doc "
        "WHERE d.type = 'transfer' AND r.doc IS NULL AND d.origin NOT LIKE 'hub%' "
        "ORDER BY d.hlc, d.origin, d.seq"
    ).fetchall()
    routed = 0
    for doc, body in rows:
        header = _decoder.decode(body)
        if not header.counterparty or not valid_replica_id(header.counterparty):
            continue
        origin = hub_origin_for(header.counterparty)
        (event,) = store.append_in_transaction([header], "hub", wall_ms, origin=origin)
        store.conn.execute(
            "INSERT INTO routed(doc, to_origin, seq) VALUES (?, ?, ?)", (doc, origin, event.seq)
        )
        routed += 1
    return routed
