"""Routing what one store ships to the store that will receive it.

Once a transfer from the shipping store is folded at the hub with all its lines shipped,
the hub re-issues the header, with what was actually shipped, on the receiving location's
own hub log ("hub-<location>"), so the receiving store's node learns of the inbound
transfer through its consumer. Done in the projection's unit of work and recorded in
`routed`, so a transfer is routed exactly once however often it arrives.
"""

from __future__ import annotations

import msgspec

from ledger.hub_tables import HubTables
from ledger.replica import Replica
from protocol.events import TRANSIT, DocLine, hub_origin_for, is_hub_origin, valid_replica_id


def route_transfers(replica: Replica, tables: HubTables, wall_ms: int) -> int:
    """Re-issue every not-yet-routed transfer to its destination; call inside a unit of
    work."""
    done = tables.routed_docs()
    routed = 0
    for doc, writer in replica.read.document_origins(("transfer",)):
        if doc in done or is_hub_origin(writer):
            continue
        header = replica.read.document_header(doc)
        if header is None or not header.counterparty or not valid_replica_id(header.counterparty):
            continue
        shipped = {line.sku: 0 for line in header.lines}
        shipped.update(replica.read.moved(doc, header.location, TRANSIT))
        if any(shipped[line.sku] < line.qty for line in header.lines):
            continue  # not all of the shipment has arrived here yet
        routed_header = msgspec.structs.replace(
            header, shipped=[DocLine(sku=s, qty=q) for s, q in sorted(shipped.items())]
        )
        origin = hub_origin_for(header.counterparty)
        (event,) = replica.append([routed_header], "hub", wall_ms, origin=origin, fold=True)
        tables.mark_routed(doc, origin, event.seq)
        routed += 1
    return routed
