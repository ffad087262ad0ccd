"""Routing what one store ships to the store that will receive it.

Once a transfer from the shipping store is folded at the hub with all its lines shipped,
the hub re-issues the header, with what was actually shipped, on the receiving location's
own hub log ("hub-<location>"), so the receiving store's node learns of the inbound
transfer through its consumer. Done in the projection's unit of work and recorded in
`routed`, so a transfer is routed exactly once however often it arrives.

The shipped lines keep each lot (with its expiry) and the shipper's unit cost (the
transfer's own lines carry them), so the receiving store books the goods in those lots at
that value.
"""

from __future__ import annotations

import msgspec

from ledger.hub_tables import HubTables
from ledger.replica import Replica
from protocol.events import (
    TRANSIT,
    DocLine,
    Document,
    hub_origin_for,
    is_hub_origin,
    valid_replica_id,
)


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
        ordered: dict[str, int] = {}
        for line in header.lines:
            ordered[line.sku] = ordered.get(line.sku, 0) + line.qty
        shipped = {sku: 0 for sku in ordered}
        shipped.update(replica.read.moved(doc, header.location, TRANSIT))
        if any(shipped[sku] < qty for sku, qty in ordered.items()):
            continue  # not all of the shipment has arrived here yet
        routed_header = msgspec.structs.replace(header, shipped=shipped_lines(header, shipped))
        origin = hub_origin_for(header.counterparty)
        (event,) = replica.append([routed_header], "hub", wall_ms, origin=origin, fold=True)
        tables.mark_routed(doc, origin, event.seq)
        routed += 1
    return routed


def shipped_lines(header: Document, shipped: dict[str, int]) -> list[DocLine]:
    """What was shipped per SKU, as the transfer's own lines (lot, expiry, unit cost) where they
    add up to it; otherwise one line per SKU at the first unit cost its lines give."""
    out: list[DocLine] = []
    for sku, qty in sorted(shipped.items()):
        lines = [line for line in header.lines if line.sku == sku]
        if lines and sum(line.qty for line in lines) == qty:
            out += lines  # the shipper wrote them per lot, with expiry and unit cost
        else:
            cost = next((line.unit_cost for line in lines if line.unit_cost is not None), None)
            out.append(DocLine(sku=sku, qty=qty, unit_cost=cost))
    return out
