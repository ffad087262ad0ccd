"""The bodies of the hub's paged lists (hub/routes_lists.py), as msgspec Structs.

Every page is `items` and `next_cursor`: pass it back as `?cursor=` for the next page;
None on the last (docs/lists.md). Quantities and money are decimal strings, times ISO
8601 UTC, as in hub/schemas.py.
"""

from __future__ import annotations

from hub.schemas import DocumentLine, HeldItem, SeqRange, Strict
from protocol.documents import Status

# ---- stores with sync state ------------------------------------------------------------


class ReportedOut(Strict):
    """What the node last said of itself (its backlog is only known from it); `age_s`:
    how long ago the hub got that report (an offline node's grows)."""

    head_seq: int
    published_seq: int
    unconfirmed: int
    backlog: int
    oldest_unsent_age_s: float | None
    at: str
    age_s: float


class SyncNode(Strict):
    node: str
    ingested_seq: int
    folded_seq: int
    waiting: int
    missing: list[SeqRange]
    held: list[HeldItem]
    #: since its last event by its own clock, and since the hub last heard from it
    last_event_age_s: float | None
    last_seen_age_s: float | None
    conflict: str | None
    reported: ReportedOut | None


class SyncLocation(Strict):
    location: str
    nodes: list[SyncNode]


class SyncOut(Strict):
    """Per location its nodes: what the hub holds of each, how far behind, and the
    backlog each node reported."""

    items: list[SyncLocation]
    next_cursor: str | None


# ---- stock -----------------------------------------------------------------------------


class StockLine(Strict, omit_defaults=True):
    location: str
    sku: str
    lot: str | None
    qty: str
    #: the lot's expiry (ISO date), when one was booked with it; left out otherwise
    expiry: str | None = None


class TransitLine(Strict):
    """Shipped to `location` and not received there yet, per SKU, and the transfers."""

    location: str
    sku: str
    qty: str
    transfers: list[str]


class StockPage(Strict):
    """Stock on hand per location, product and lot. `in_transit` (on the first page
    only): what transfers shipped to the locations asked for and nothing arrived yet."""

    items: list[StockLine]
    next_cursor: str | None
    in_transit: list[TransitLine]


# ---- movements -------------------------------------------------------------------------


class MovementItem(Strict):
    """One location's side of a stock change: `qty` the change there (negative: out); for
    a count, `counted` is what was counted and `qty` the variance."""

    location: str
    sku: str
    lot: str | None
    qty: str | None
    kind: str
    src: str | None
    dst: str | None
    counted: str | None
    unit_cost: str | None
    doc: str | None
    doc_type: str | None
    user: str | None
    time: str
    origin: str
    seq: int


class MovementsOut(Strict):
    """Stock changes, newest first."""

    items: list[MovementItem]
    next_cursor: str | None


# ---- documents -------------------------------------------------------------------------


class DocumentItem(Strict):
    doc: str
    type: str
    location: str
    counterparty: str | None
    ref: str | None
    status: Status
    #: something arrived and not exactly what was ordered or shipped
    has_discrepancy: bool
    lines: list[DocumentLine]
    origin: str
    user: str | None
    time: str


class DocumentsOut(Strict):
    """Documents newest first, each with its derived status and discrepancies."""

    items: list[DocumentItem]
    next_cursor: str | None


# ---- alerts ----------------------------------------------------------------------------


class AlertItem(Strict):
    #: the stored alert's number; None for one derived when read (lot_mismatch, received
    #: twice, receipt or transfer discrepancies)
    id: int | None
    key: str
    kind: str
    location: str | None
    sku: str | None
    lot: str | None
    qty: str | None
    message: str | None
    origin: str
    seq: int
    time: str
    acknowledged: bool


class AlertsOut(Strict):
    """What the hub's read model flags (negative stock, a scanned lot not held, documents
    received twice or not as ordered or shipped), newest first."""

    items: list[AlertItem]
    next_cursor: str | None


# ---- users -----------------------------------------------------------------------------


class UserItem(Strict):
    user: str
    name: str | None
    role: str | None
    locations: str | None
    active: bool
    #: whether a PIN is set; the PIN's hash is never shown
    has_pin: bool


class UsersOut(Strict):
    """Till users by id, from the user registers."""

    items: list[UserItem]
    next_cursor: str | None


# ---- dead letters ----------------------------------------------------------------------


class RejectedLine(Strict):
    id: int
    origin: str | None
    seq: int | None
    reason: str
    size: int
    #: when ingest refused it (UTC)
    at: str


class RejectedPage(Strict):
    """Dead letters, oldest first: what ingest refused, why, and how many bytes it was."""

    items: list[RejectedLine]
    next_cursor: str | None
