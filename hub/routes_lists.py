"""The hub API routes for:
paged lists: stores with sync state, stock, movements, documents, alerts, users, dead letters.

Rows of the one route table (assembled in hub/routes.py); see hub/route.py for a row.
Every list pages by keyset (`?limit=`, `?cursor=`: docs/lists.md); the work is in
hub/lists.py, the queries in ledger/listing.py.
"""

from __future__ import annotations

import msgspec

from hub import lists
from hub import schemas as s
from hub import schemas_lists as sl
from hub.route import ADMIN, FINANCE, Call, Query, Route
from hub.service import OriginStatus
from protocol.hlc import physical_ms
from protocol.paging import iso_time
from protocol.units import format_money, format_qty

_FILTERS = (
    Query("location", "a location id, e.g. S01"),
    Query("sku", "a product SKU"),
)
_PAGE = (
    Query("limit", "items per page, 1 to 1000 (default 100)"),
    Query("cursor", "the previous page's next_cursor, unchanged; left out: the first page"),
)
_TIMES = (
    Query("from", "only on or after this day or moment (ISO 8601, UTC), e.g. 2026-12-01"),
    Query("to", "only up to this day (the whole day) or moment (ISO 8601, UTC)"),
)
_PAGED_ERRORS = (400, 401, 403)


def _query(call: Call[None]) -> dict[str, str | None]:
    """The declared query parameters, the location narrowed to a store manager's own."""
    query: dict[str, str | None] = dict(call.query)
    query["location"] = call.scope(call.query.get("location"))
    return query


def _time(hlc: int) -> str:
    return iso_time(physical_ms(hlc))


def _qty(value: int | None) -> str | None:
    return None if value is None else format_qty(value)


# ---- stores with sync state --------------------------------------------------------------


def _sync_node(state: lists.SyncNodeState, now: int) -> sl.SyncNode:
    status, report = state.status, state.report
    reported = None
    if report is not None:
        r = report.status
        reported = sl.ReportedOut(
            head_seq=r.head_seq,
            published_seq=r.published_seq,
            unconfirmed=r.unconfirmed,
            backlog=r.backlog,
            oldest_unsent_age_s=r.oldest_unsent_age_s,
            at=iso_time(r.at_ms),
            age_s=round(max(0, now - report.received_ms) / 1000, 3),
        )
    return sl.SyncNode(
        node=state.node,
        ingested_seq=status.ingested_seq if status else 0,
        folded_seq=status.folded_seq if status else 0,
        waiting=status.waiting if status else 0,
        missing=[s.SeqRange(a, b) for a, b in status.missing] if status else [],
        held=[s.HeldItem(**item) for item in status.held] if status else [],
        last_event_age_s=_age_s(status.last_event_age_ms) if status else None,
        last_seen_age_s=_age_s(status.last_ingest_age_ms) if status else None,
        conflict=status.conflict if status else None,
        reported=reported,
    )


def get_sync(call: Call[None]) -> sl.SyncOut:
    location = call.scope(call.query.get("location"))
    page, now = lists.sync_state(
        call.hub, location, call.query.get("cursor"), call.query.get("limit")
    )
    return sl.SyncOut(
        items=[
            sl.SyncLocation(location=name, nodes=[_sync_node(n, now) for n in nodes])
            for name, nodes in page.items
        ],
        next_cursor=page.next_cursor,
    )


# ---- stock and cost ----------------------------------------------------------------------


def get_stock(call: Call[None]) -> sl.StockPage:
    page, transit = lists.stock(call.hub, _query(call))
    return sl.StockPage(
        items=[
            sl.StockLine(r.location, r.sku, r.lot, format_qty(r.qty), r.expiry) for r in page.items
        ],
        next_cursor=page.next_cursor,
        in_transit=[
            sl.TransitLine(t.location, t.sku, format_qty(t.qty), t.transfers) for t in transit
        ],
    )


def get_cost(call: Call[None]) -> s.CostOut:
    location = call.scope(call.query.get("location"))
    rows = call.hub.cost(location=location, sku=call.query.get("sku"))
    return s.CostOut(
        items=[
            s.CostItem(r.location, r.sku, format_qty(r.qty), format_money(r.value)) for r in rows
        ]
    )


# ---- movements, documents, alerts --------------------------------------------------------


def get_movements(call: Call[None]) -> sl.MovementsOut:
    page = lists.movements(call.hub, _query(call))
    items = []
    for v in page.items:
        r = v.row
        is_count = r.delta is None
        items.append(
            sl.MovementItem(
                location=r.location,
                sku=r.sku,
                lot=r.lot,
                qty=_qty(r.variance if is_count else r.delta),
                kind=v.kind,
                src=v.src,
                dst=v.dst,
                counted=_qty(r.counted),
                unit_cost=None if v.unit_cost is None else format_money(v.unit_cost),
                doc=r.doc,
                doc_type=r.doc_type,
                user=v.user,
                time=_time(r.hlc),
                origin=r.origin,
                seq=r.seq,
            )
        )
    return sl.MovementsOut(items=items, next_cursor=page.next_cursor)


def get_documents(call: Call[None]) -> sl.DocumentsOut:
    page = lists.documents(call.hub, _query(call))
    return sl.DocumentsOut(
        items=[
            sl.DocumentItem(
                doc=v.row.header.doc,
                type=v.row.header.type,
                location=v.row.header.location,
                counterparty=v.row.header.counterparty,
                ref=v.row.header.ref,
                status=v.status.status,
                has_discrepancy=v.has_discrepancy,
                lines=[
                    s.DocumentLine(
                        sku=line.sku,
                        expected=format_qty(line.expected),
                        done=format_qty(line.done),
                        shipped=format_qty(line.shipped),
                        discrepancy=format_qty(line.discrepancy),
                    )
                    for line in v.status.lines
                ],
                origin=v.row.origin,
                user=v.user,
                time=_time(v.row.hlc),
            )
            for v in page.items
        ],
        next_cursor=page.next_cursor,
    )


def get_alerts(call: Call[None]) -> sl.AlertsOut:
    page = lists.alerts(call.hub, _query(call))
    return sl.AlertsOut(
        items=[
            sl.AlertItem(
                id=v.row.id,
                key=v.key,
                kind=v.row.kind,
                location=v.row.location,
                sku=v.row.sku,
                lot=v.row.lot or None,
                qty=_qty(v.row.qty),
                message=v.row.message,
                origin=v.row.origin,
                seq=v.row.seq,
                time=_time(v.row.hlc),
                acknowledged=v.acknowledged,
            )
            for v in page.items
        ],
        next_cursor=page.next_cursor,
    )


# ---- users and dead letters --------------------------------------------------------------


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def get_users(call: Call[None]) -> sl.UsersOut:
    page = lists.users(call.hub, dict(call.query))
    return sl.UsersOut(
        items=[
            sl.UserItem(
                user=key,
                name=_text(fields.get("name")),
                role=_text(fields.get("role")),
                locations=_text(fields.get("locations")),
                active=fields.get("active") is not False,
                has_pin=bool(fields.get("pin_hash")),
            )
            for key, fields in page.items
        ],
        next_cursor=page.next_cursor,
    )


def get_rejected(call: Call[None]) -> sl.RejectedPage:
    page = lists.rejected(call.hub, dict(call.query))
    return sl.RejectedPage(
        items=[
            sl.RejectedLine(r.id, r.origin, r.seq, r.reason, r.size, _time(r.at_hlc))
            for r in page.items
        ],
        next_cursor=page.next_cursor,
    )


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
        path="/api/v1/sync",
        handler=get_sync,
        summary="stores with their nodes' sync state: lag, missing ranges, reported backlog",
        response=sl.SyncOut,
        query=(Query("location", "a location id, e.g. S01"), *_PAGE),
        errors=_PAGED_ERRORS,
        scoped=True,
    ),
    Route(
        method="GET",
        path="/api/v1/stock",
        handler=get_stock,
        summary="stock on hand by store, SKU and lot, with expiry and what is in transit",
        response=sl.StockPage,
        query=(
            *_FILTERS,
            Query("lot", "a lot"),
            Query("expiring_within_days", "only lots expiring within this many days"),
            *_PAGE,
        ),
        errors=_PAGED_ERRORS,
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
        path="/api/v1/movements",
        handler=get_movements,
        summary="stock movements, newest first",
        response=sl.MovementsOut,
        query=(
            *_FILTERS,
            Query(
                "kind",
                "sale, return, void, receipt, reversal, transfer_out, transfer_in, "
                "count, correction, scrap or other",
            ),
            Query("doc", "only those citing this document"),
            *_TIMES,
            *_PAGE,
        ),
        errors=_PAGED_ERRORS,
        scoped=True,
    ),
    Route(
        method="GET",
        path="/api/v1/documents",
        handler=get_documents,
        summary="documents newest first, with derived status and discrepancies",
        response=sl.DocumentsOut,
        query=(
            Query("type", "a document type, e.g. purchase_order, transfer, sale, z_report"),
            Query("location", "a location id, e.g. S01"),
            Query("status", "a derived status, e.g. in_transit, partly_received"),
            Query("has_discrepancy", "true or false"),
            *_TIMES,
            *_PAGE,
        ),
        errors=_PAGED_ERRORS,
        scoped=True,
    ),
    Route(
        method="GET",
        path="/api/v1/alerts",
        handler=get_alerts,
        summary="alerts the hub's read model derives, newest first",
        response=sl.AlertsOut,
        query=(
            Query("location", "a location id, e.g. S01"),
            Query("kind", "an alert kind, e.g. negative_stock"),
            Query("acknowledged", "true or false"),
            *_PAGE,
        ),
        errors=_PAGED_ERRORS,
        scoped=True,
    ),
    Route(
        method="GET",
        path="/api/v1/users",
        handler=get_users,
        summary="till users (never their PIN's hash), by id",
        response=sl.UsersOut,
        query=(
            Query("role", "cashier, clerk, manager, finance or admin"),
            Query("location", "users of this location"),
            Query("active", "true or false"),
            *_PAGE,
        ),
        errors=_PAGED_ERRORS,
        roles=ADMIN,
    ),
    Route(
        method="GET",
        path="/api/v1/rejected",
        handler=get_rejected,
        summary="dead letters: what ingest refused and why, oldest first",
        response=sl.RejectedPage,
        query=(Query("origin", "only those naming this origin"), *_PAGE),
        errors=_PAGED_ERRORS,
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
