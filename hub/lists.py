"""The hub's paged lists, free of HTTP: filters checked, a page read by keyset, and what
the tables do not hold (a document's status, a movement's kind, an alert's
acknowledgement) derived for each row.

A filter on something derived cannot be a WHERE clause, so such a page scans rows in
key order until it has `limit` matches or has looked at `SCAN_BUDGET` rows: a page may
then hold fewer items than asked with a `next_cursor` all the same (only a null cursor
says the list is over), and one request never reads a whole big table.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from hub import identities
from hub.service import HubService, OriginStatus, Refused
from ledger.listing import AlertRow, DocumentRow, JournalRow, Listing, RejectedRow, StockLot
from ledger.sync_tables import NodeReport, NodeReports
from protocol import alerts as rules
from protocol import paging
from protocol.documents import DocumentStatus, Status
from protocol.events import Count, DocumentType, Movement, is_hub_origin, valid_replica_id
from protocol.hlc import pack
from protocol.movement_kinds import KINDS as MOVEMENT_KINDS
from protocol.movement_kinds import kind_of
from protocol.units import format_qty

R = TypeVar("R")
K = TypeVar("K")

#: the most rows one page scans for a filter on something derived
SCAN_BUDGET = 5000
DOCUMENT_TYPES: tuple[str, ...] = typing.get_args(DocumentType)
DOCUMENT_STATUSES: tuple[str, ...] = typing.get_args(Status)


@dataclass(frozen=True)
class Page(Generic[R]):
    items: list[R]
    next_cursor: str | None


def _refuse(fn: Callable[[], K]) -> K:
    try:
        return fn()
    except paging.PagingError as exc:
        raise Refused(str(exc)) from None


def _filter_key(value: str | None, what: str) -> str | None:
    """A location, SKU or document filter: an exact value; too long a one is no id."""
    if value is not None and (len(value) > 200 or not paging.is_text(value)):
        raise Refused(f"{what} is not a {what}: at most 200 characters of text")
    return value


def _location(value: str | None) -> str | None:
    if value is not None and not valid_replica_id(value):
        raise Refused(f"location {value[:40]!r} is not a location id, e.g. S01")
    return value


def _scan(
    fetch: Callable[[K | None, int], Sequence[R]],
    key_of: Callable[[R], K],
    start: K | None,
    limit: int,
    keep: Callable[[R], bool] | None = None,
) -> tuple[list[R], K | None]:
    """Up to `limit` rows `keep` accepts after `start`, and the key to go on from (None:
    nothing more)."""
    if keep is None:
        rows = list(fetch(start, limit + 1))
        if len(rows) > limit:
            return rows[:limit], key_of(rows[limit - 1])
        return rows, None
    chunk = max(limit + 1, 200)
    kept: list[R] = []
    cursor, scanned = start, 0
    while True:
        rows = fetch(cursor, chunk)
        for row in rows:
            cursor, scanned = key_of(row), scanned + 1
            if keep(row):
                kept.append(row)
                if len(kept) > limit:
                    return kept[:limit], key_of(kept[limit - 1])
            if scanned >= SCAN_BUDGET:
                return kept, cursor
        if len(rows) < chunk:
            return kept, None


def _next(name: str, key: tuple | None) -> str | None:
    return None if key is None else paging.encode_cursor(name, key)


def _bounds(query: dict[str, str | None]) -> tuple[int | None, int | None]:
    """`from` and `to` as hlc bounds (since ≤ hlc < until)."""
    start = _refuse(lambda: paging.parse_time_ms(query.get("from"), "from"))
    end = _refuse(lambda: paging.parse_time_ms(query.get("to"), "to", end=True))
    if start is not None and end is not None and end <= start:
        raise Refused("to must be after from")
    return (
        None if start is None else pack(start, 0),
        None if end is None else pack(end, 0),
    )


# ---- stores with sync state --------------------------------------------------------------


@dataclass(frozen=True)
class SyncNodeState:
    node: str
    status: OriginStatus | None
    report: NodeReport | None


def sync_state(
    hub: HubService, location: str | None, cursor: str | None, limit_text: str | None
) -> tuple[Page[tuple[str, list[SyncNodeState]]], int]:
    """Per location (by id), its nodes' state and reports; and the hub's clock now."""
    limit = _refuse(lambda: paging.parse_limit(limit_text))
    after = _refuse(lambda: paging.decode_cursor("sync", cursor, (str,)))
    statuses = {s.origin: s for s in hub.nodes() if not is_hub_origin(s.origin)}
    reports = NodeReports(hub.store.conn).all()
    placed = {n.node: n.location for n in identities.nodes(hub.store)}
    by_location: dict[str, list[SyncNodeState]] = {}
    for node in sorted(set(statuses) | set(reports)):
        report = reports.get(node)
        where = report.status.location if report else placed.get(node, node)
        by_location.setdefault(where, []).append(SyncNodeState(node, statuses.get(node), report))
    names = [
        name
        for name in sorted(by_location)
        if (location is None or name == location) and (after is None or name > str(after[0]))
    ]
    page = names[:limit]
    more = len(names) > limit
    return (
        Page(
            [(name, by_location[name]) for name in page],
            _next("sync", (page[-1],)) if more else None,
        ),
        hub.clock(),
    )


# ---- stock -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transit:
    location: str
    sku: str
    qty: int
    transfers: list[str]


def stock(hub: HubService, query: dict[str, str | None]) -> tuple[Page[StockLot], list[Transit]]:
    """A page of stock by (location, sku, lot) and, on the first page, what is in
    transit to the locations asked for."""
    limit = _refuse(lambda: paging.parse_limit(query.get("limit")))
    after = _refuse(lambda: paging.decode_cursor("stock", query.get("cursor"), (str, str, str)))
    location = _location(query.get("location"))
    sku = _filter_key(query.get("sku"), "sku")
    lot = _filter_key(query.get("lot"), "lot")
    days = _refuse(
        lambda: paging.parse_days(query.get("expiring_within_days"), "expiring_within_days")
    )
    by = None
    if days is not None:
        today = datetime.fromtimestamp(hub.clock() / 1000, UTC).date()
        by = (today + timedelta(days=days)).isoformat()
    listing = Listing(hub.store.events.conn)
    rows, last = _scan(
        lambda key, n: listing.stock(key, n, location, sku, lot, by),  # type: ignore[arg-type]
        lambda r: (r.location, r.sku, r.lot or ""),
        after,  # type: ignore[arg-type]
        limit,
    )
    transit = (
        []
        if after is not None or by is not None or lot is not None
        else in_transit(hub, location, sku)
    )
    return Page(rows, _next("stock", last)), transit


def in_transit(hub: HubService, location: str | None, sku: str | None) -> list[Transit]:
    """Per receiving location and SKU, what transfers shipped to it while nothing of them
    has arrived yet (status in_transit)."""
    read = hub.store.events.read
    found: dict[tuple[str, str], Transit] = {}
    for header in Listing(hub.store.events.conn).headers_of_type("transfer"):
        to = header.counterparty
        if not to or (location is not None and to != location):
            continue
        status = read.document(header.doc)
        if status is None or status.status != "in_transit":
            continue
        for line in status.lines:
            left = line.shipped - line.done
            if left <= 0 or (sku is not None and line.sku != sku):
                continue
            old = found.get((to, line.sku))
            docs = [*old.transfers, header.doc] if old else [header.doc]
            found[(to, line.sku)] = Transit(to, line.sku, left + (old.qty if old else 0), docs)
    return [found[k] for k in sorted(found)]


# ---- movements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MovementView:
    row: JournalRow
    kind: str
    src: str | None
    dst: str | None
    user: str | None
    unit_cost: int | None


def movements(hub: HubService, query: dict[str, str | None]) -> Page[MovementView]:
    limit = _refuse(lambda: paging.parse_limit(query.get("limit")))
    shape = (int, str, int, str, str, int)
    before = _refuse(lambda: paging.decode_cursor("movements", query.get("cursor"), shape))
    location = _location(query.get("location"))
    sku = _filter_key(query.get("sku"), "sku")
    doc = _filter_key(query.get("doc"), "doc")
    kind = _refuse(lambda: paging.parse_choice(query.get("kind"), "kind", MOVEMENT_KINDS))
    since, until = _bounds(query)
    listing = Listing(hub.store.events.conn)

    def fetch(key: tuple | None, n: int) -> list[MovementView]:
        rows = listing.journal(key, n, location, sku, doc, since, until)  # type: ignore[arg-type]
        events = listing.events([(r.origin, r.seq) for r in rows])
        out = []
        for r in rows:
            event = events.get((r.origin, r.seq))
            body = event.body if event else None
            src = dst = None
            cost = r.unit_cost
            if isinstance(body, Movement):
                src, dst = body.src, body.dst
                cost = cost if cost is not None else body.unit_cost
            elif not isinstance(body, Count):
                src = dst = "?"  # its event is not at the hub as a movement: say so
            view_kind = "other" if src == "?" else kind_of(src, dst, r.location, r.doc_type)
            out.append(MovementView(r, view_kind, src, dst, event.user if event else None, cost))
        return out

    views, last = _scan(
        fetch,
        lambda v: (v.row.hlc, v.row.origin, v.row.seq, v.row.location, v.row.sku, v.row.part),
        before,
        limit,
        None if kind is None else (lambda v: v.kind == kind),
    )
    return Page(views, _next("movements", last))


# ---- documents ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentView:
    row: DocumentRow
    status: DocumentStatus
    user: str | None

    @property
    def has_discrepancy(self) -> bool:
        return self.status.differs or self.status.status == "received_with_discrepancy"


def documents(hub: HubService, query: dict[str, str | None]) -> Page[DocumentView]:
    limit = _refuse(lambda: paging.parse_limit(query.get("limit")))
    before = _refuse(
        lambda: paging.decode_cursor("documents", query.get("cursor"), (int, str, int))
    )
    doc_type = _refuse(lambda: paging.parse_choice(query.get("type"), "type", DOCUMENT_TYPES))
    status = _refuse(lambda: paging.parse_choice(query.get("status"), "status", DOCUMENT_STATUSES))
    discrepancy = _refuse(
        lambda: paging.parse_bool(query.get("has_discrepancy"), "has_discrepancy")
    )
    location = _location(query.get("location"))
    since, until = _bounds(query)
    listing = Listing(hub.store.events.conn)
    read = hub.store.events.read

    def fetch(key: tuple | None, n: int) -> list[DocumentView]:
        types = () if doc_type is None else (doc_type,)
        rows = listing.documents(key, n, types, location, since, until)  # type: ignore[arg-type]
        events = listing.events([(r.origin, r.seq) for r in rows])
        out = []
        for r in rows:
            derived = read.document(r.header.doc)
            if derived is None:
                continue
            event = events.get((r.origin, r.seq))
            out.append(DocumentView(r, derived, event.user if event else None))
        return out

    def keep(view: DocumentView) -> bool:
        return (status is None or view.status.status == status) and (
            discrepancy is None or view.has_discrepancy == discrepancy
        )

    filtered = status is not None or discrepancy is not None
    views, last = _scan(
        fetch,
        lambda v: (v.row.hlc, v.row.origin, v.row.seq),
        before,
        limit,
        keep if filtered else None,
    )
    return Page(views, _next("documents", last))


# ---- alerts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    row: AlertRow
    key: str
    acknowledged: bool


def alert_key(row: AlertRow) -> str:
    """The key a till acknowledges a stored alert under (node/alerts.py names negative
    stock by the event that left it negative)."""
    return rules.key(row.kind, row.location, row.sku, row.lot, f"{row.origin}-{row.seq}")  # type: ignore[arg-type]


def _alert_order(row: AlertRow) -> tuple[int, str, int, str]:
    return (row.hlc, row.origin, row.seq, row.kind)


#: the kinds derived when read, not stored: a scanned lot not held, documents received
#: twice or not as ordered or shipped
DERIVED_ALERTS = ("lot_mismatch", "received_twice", "receipt_discrepancy", "transfer_discrepancy")


def derived_alerts(hub: HubService, kind: str | None) -> list[tuple[AlertRow, str]]:
    """Alerts the read model derives when asked (each with its till key, as node/alerts.py
    names it), placed at the event they are about: a sale's, or a document's latest
    receipt's."""
    read = hub.store.events.read
    listing = Listing(hub.store.events.conn)
    found: list[tuple[AlertRow, str]] = []
    if kind in (None, "lot_mismatch"):
        mismatches = read.lot_mismatches()
        events = listing.events([(a.origin, a.seq) for a in mismatches])
        for a in mismatches:
            event = events.get((a.origin, a.seq))
            hlc = event.hlc if event else 0
            row = AlertRow(
                None, a.kind, a.location, a.sku, a.lot, a.qty, a.origin, a.seq, hlc, a.message
            )
            found.append((row, rules.key("lot_mismatch", a.origin, a.seq)))
    if kind is not None and kind not in DERIVED_ALERTS[1:]:
        return found
    for header, status in read.document_statuses(("purchase_order", "transfer")):
        live = [r for r in status.receipts if not r.reversed_by]
        if not live:
            continue
        receipts = "+".join(r.doc for r in live)
        place = listing.document_place(max(live, key=lambda r: r.at).doc)
        if place is None:
            continue
        origin, seq, hlc = place
        doc_kind = (
            "receipt_discrepancy" if header.type == "purchase_order" else ("transfer_discrepancy")
        )
        differing = [x for x in status.lines if x.discrepancy] if status.differs else []
        lines = ", ".join(f"{x.sku} {format_qty(x.done)}/{format_qty(x.target)}" for x in differing)
        if any(a.kind == "received_twice" for a in status.alerts):
            this, key = "received_twice", rules.key("received_twice", header.doc, receipts)
            message = (
                f"{header.doc} was received twice ({lines}): a manager reverses one receipt "
                "or accepts them"
            )
        elif differing and not status.differences_accepted:
            this, key = doc_kind, rules.key(doc_kind, header.doc, receipts)
            than = "the order" if header.type == "purchase_order" else "the shipment"
            message = f"{header.doc}: received differs from {than} (received/expected: {lines})"
        else:
            continue
        if kind is None or kind == this:
            where = header.counterparty if header.type == "transfer" else header.location
            found.append(
                (AlertRow(None, this, where, None, None, None, origin, seq, hlc, message), key)
            )
    return found


def alerts(hub: HubService, query: dict[str, str | None]) -> Page[AlertView]:
    limit = _refuse(lambda: paging.parse_limit(query.get("limit")))
    shape = (int, str, int, str)
    before = _refuse(lambda: paging.decode_cursor("alerts", query.get("cursor"), shape))
    kind = _refuse(lambda: paging.parse_choice(query.get("kind"), "kind", rules.KINDS))
    acknowledged = _refuse(lambda: paging.parse_bool(query.get("acknowledged"), "acknowledged"))
    location = _location(query.get("location"))
    listing = Listing(hub.store.events.conn)
    acks = {h.ref for h in listing.headers_of_type("alert_ack") if h.ref}
    derived = sorted(
        (
            (row, key)
            for row, key in derived_alerts(hub, kind)
            if location is None or row.location == location
        ),
        key=lambda item: _alert_order(item[0]),
        reverse=True,
    )

    def fetch(key: tuple | None, n: int) -> list[AlertView]:
        stored = [
            (r, alert_key(r))
            for r in listing.alerts(key, n, location, kind)  # type: ignore[arg-type]
        ]
        later = [d for d in derived if key is None or _alert_order(d[0]) < tuple(key)]
        merged = sorted(stored + later[:n], key=lambda item: _alert_order(item[0]), reverse=True)
        return [AlertView(r, k, k in acks) for r, k in merged[:n]]

    views, last = _scan(
        fetch,
        lambda v: _alert_order(v.row),
        before,
        limit,
        None if acknowledged is None else (lambda v: v.acknowledged == acknowledged),
    )
    return Page(views, _next("alerts", last))


# ---- users -------------------------------------------------------------------------------


def users(hub: HubService, query: dict[str, str | None]) -> Page[tuple[str, dict[str, object]]]:
    from hub.service import ROLES

    limit = _refuse(lambda: paging.parse_limit(query.get("limit")))
    after = _refuse(lambda: paging.decode_cursor("users", query.get("cursor"), (str,)))
    role = _refuse(lambda: paging.parse_choice(query.get("role"), "role", ROLES))
    active = _refuse(lambda: paging.parse_bool(query.get("active"), "active"))
    location = _location(query.get("location"))
    listing = Listing(hub.store.events.conn)
    rows, last = _scan(
        lambda key, n: listing.users(
            None if key is None else str(key[0]), n, role, active, location
        ),
        lambda r: (r[0],),
        after,
        limit,
    )
    return Page(rows, _next("users", last))


# ---- dead letters ------------------------------------------------------------------------


def rejected(hub: HubService, query: dict[str, str | None]) -> Page[RejectedRow]:
    limit = _refuse(lambda: paging.parse_limit(query.get("limit")))
    after = _refuse(lambda: paging.decode_cursor("rejected", query.get("cursor"), (int,)))
    origin = _filter_key(query.get("origin"), "origin")
    listing = Listing(hub.store.events.conn)
    rows, last = _scan(
        lambda key, n: listing.rejected(None if key is None else int(key[0]), n, origin),  # type: ignore[arg-type]
        lambda r: (r.id,),
        after,
        limit,
    )
    return Page(rows, _next("rejected", last))
