"""The hub API routes for:
paged lists: stores with sync state, stock, movements, documents, alerts, users, dead letters.

Rows of the one route table (assembled in hub/routes.py); see hub/route.py for a row.
"""

from __future__ import annotations

import msgspec

from hub import schemas as s
from hub.route import ADMIN, FINANCE, Call, Query, Route
from hub.service import OriginStatus
from protocol.units import format_money, format_qty

_FILTERS = (
    Query("location", "a location id, e.g. S01"),
    Query("sku", "a product SKU"),
)


def get_stock(call: Call[None]) -> s.StockOut:
    location = call.scope(call.query.get("location"))
    rows = call.hub.stock(location=location, sku=call.query.get("sku"))
    return s.StockOut(
        items=[s.StockItem(r.location, r.sku, r.lot, format_qty(r.qty)) for r in rows]
    )


def get_cost(call: Call[None]) -> s.CostOut:
    location = call.scope(call.query.get("location"))
    rows = call.hub.cost(location=location, sku=call.query.get("sku"))
    return s.CostOut(
        items=[
            s.CostItem(r.location, r.sku, format_qty(r.qty), format_money(r.value)) for r in rows
        ]
    )


def get_rejected(call: Call[None]) -> s.RejectedOut:
    return s.RejectedOut(items=[s.RejectedItem(**item) for item in call.hub.rejected()])


def _age_s(ms: int | None) -> float | None:
    return None if ms is None else round(ms / 1000, 3)


def _node(status: OriginStatus) -> s.NodeItem:
    return s.NodeItem(
        origin=status.origin,
        ingested_seq=status.ingested_seq,
        folded_seq=status.folded_seq,
        waiting=status.waiting,
        missing=[s.SeqRange(first, last) for first, last in status.missing],
        held=[s.HeldItem(**item) for item in status.held],
        last_event_age_s=_age_s(status.last_event_age_ms),
        last_ingest_age_s=_age_s(status.last_ingest_age_ms),
        conflict=status.conflict,
    )


def get_nodes(call: Call[None]) -> s.NodesOut:
    return s.NodesOut(items=[_node(status) for status in call.hub.nodes()])


def get_audit(call: Call[None]) -> s.AuditOut:
    offset = call.query.get("offset")
    limit = call.query.get("limit")
    entries = call.hub.audit(call.query.get("user"), call.query.get("since"), limit, offset)
    start = int(offset) if offset else 0
    asked = int(limit) if limit else 100
    return s.AuditOut(
        items=[s.AuditItem(**msgspec.structs.asdict(e)) for e in entries],
        next_offset=start + len(entries) if len(entries) == asked else None,
    )


ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/v1/stock",
        handler=get_stock,
        summary="stock on hand",
        response=s.StockOut,
        query=_FILTERS,
        scoped=True,
    ),
    Route(
        method="GET",
        path="/api/v1/cost",
        handler=get_cost,
        summary="moving-average cost",
        response=s.CostOut,
        query=_FILTERS,
        scoped=True,
    ),
    Route(
        method="GET",
        path="/api/v1/rejected",
        handler=get_rejected,
        summary="dead letters: what ingest refused and why",
        response=s.RejectedOut,
        roles=ADMIN,
    ),
    Route(
        method="GET",
        path="/api/v1/nodes",
        handler=get_nodes,
        summary="per-node lag, folded seq, missing seq ranges, held events",
        response=s.NodesOut,
    ),
    Route(
        method="GET",
        path="/api/v1/audit",
        handler=get_audit,
        summary="who did what, when, on which document: every origin's events, newest first",
        response=s.AuditOut,
        query=(
            Query("user", "only this user's events, e.g. wang"),
            Query("since", "only events on or after this day (UTC), e.g. 2026-12-01"),
            Query("limit", "events per page, 1 to 1000 (default 100)"),
            Query("offset", "skip this many: the previous page's next_offset"),
        ),
        errors=(400, 401, 403),
        roles=ADMIN | FINANCE,
    ),
)
