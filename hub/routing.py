"""Routing what one store ships to the store that will receive it.

Once a transfer from the shipping store is folded at the hub with all its lines shipped,
the hub re-issues the header, with what was actually shipped, on the receiving location's
own hub log ("hub-<location>"), so the receiving store's node learns of the inbound
transfer through its consumer. Done inside the ingest transaction
and recorded in `routed`, so a transfer is routed exactly once however often it arrives.
"""

from __future__ import annotations

import msgspec

from ledger.store import EventStore
from protocol.events import TRANSIT, DocLine, Document, hub_origin_for, valid_replica_id

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
        shipped = {line.sku: 0 for line in header.lines}
        for sku, qty in store.conn.execute(
            "SELECT sku, sum(qty) FROM doc_movements WHERE doc = ? AND src = ? AND dst = ? "
            "GROUP BY sku",
            (doc, header.location, TRANSIT),
        ):
            shipped[sku] = qty
        if any(shipped[line.sku] < line.qty for line in header.lines):
            continue  # not all of the shipment has arrived here yet
        routed_header = msgspec.structs.replace(
            header, shipped=[DocLine(sku=s, qty=q) for s, q in sorted(shipped.items())]
        )
        origin = hub_origin_for(header.counterparty)
        (event,) = store.append_in_transaction([routed_header], "hub", wall_ms, origin=origin)
        store.conn.execute(
            "INSERT INTO routed(doc, to_origin, seq) VALUES (?, ?, ?)", (doc, origin, event.seq)
        )
        routed += 1
    return routed
