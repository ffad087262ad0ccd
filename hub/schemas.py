"""Every body the hub's HTTP API reads or sends, as msgspec Structs.

Requests are decoded into these types and responses are encoded from them, and the OpenAPI
document's components are generated from the same classes (hub/openapi.py), so the
description cannot drift from what the server accepts and sends. Quantities and money
are decimal strings ("1.250", "12.80"), as everywhere a person or a program outside the
ledger sees them. Docstrings become the schemas' descriptions.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from protocol import limits
from protocol.documents import Status

# ---- bounded field types ---------------------------------------------------------------
# Every field of a request has one of these: the decoder refuses a value beyond its bounds
# before a handler runs (400, the field named), and the OpenAPI document states them. The
# service's checks (hub/service.py) still run after: control characters, blank keys,
# amounts' ranges and decimals, which the messages there explain better than a regex.

#: a decimal string: an optional sign, digits, a point and decimals (not a JSON number:
#: floats are inexact and big integers unbounded)
DECIMAL_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
#: a location (store) id: it becomes a NATS subject token (protocol/events.py)
LOCATION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
#: a till PIN
PIN_PATTERN = r"^[0-9]{4,12}$"
#: longest one-line name a person gives (a product's, a user's, a supplier)
MAX_NAME = 200

#: a SKU, lot, user id or document id: matched exactly, one line
Key = Annotated[
    str,
    Meta(min_length=1, max_length=limits.MAX_KEY_TEXT, description="an id: one line, not blank"),
]
#: a store's id, e.g. S01
LocationId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=32,
        pattern=LOCATION_PATTERN,
        description="a location id: letters, digits, '-' or '_', e.g. S01",
        examples=["S01"],
    ),
]
#: a name or supplier: one line
Name = Annotated[str, Meta(max_length=MAX_NAME, description="one line of text")]
#: a note or reason: free text, line breaks allowed
Note = Annotated[str, Meta(max_length=limits.MAX_TEXT, description="free text")]
#: money in yuan, e.g. "12.80" (two decimals at most, 0 to 100,000,000)
Amount = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=limits.MAX_AMOUNT_TEXT,
        pattern=DECIMAL_PATTERN,
        description="yuan as a decimal string, at most two decimals",
        examples=["12.80"],
    ),
]
#: a quantity in the product's unit, e.g. "1.250" (three decimals at most)
Qty = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=limits.MAX_AMOUNT_TEXT,
        pattern=DECIMAL_PATTERN,
        description="a quantity as a decimal string, at most three decimals",
        examples=["1.250"],
    ),
]
#: a barcode as scanned (EAN-13, Code 128…)
Barcode = Annotated[str, Meta(min_length=1, max_length=limits.MAX_KEY_TEXT)]
#: a till PIN: 4 to 12 digits
Pin = Annotated[str, Meta(pattern=PIN_PATTERN, description="4 to 12 digits")]
#: several location ids, comma-separated ("S01,S02")
LocationList = Annotated[str, Meta(max_length=limits.MAX_TEXT)]
#: the bounds of a document's lines: `Annotated[list[LineIn], LINES]`
LINES = Meta(min_length=1, max_length=limits.MAX_DOC_LINES, description="at least one line")
#: a till user's role (API tokens have theirs: hub/route.py TOKEN_ROLES)
TillRole = Literal["cashier", "clerk", "manager", "finance", "admin"]
#: a product's unit: pieces, or kilograms (weighed, three decimals)
Unit = Literal["pcs", "kg"]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Unknown fields are refused: a misspelt field must not be silently ignored."""


# ---- requests --------------------------------------------------------------------------


class ProductIn(Strict):
    """Create or change a product; fields left out keep their value (per-field LWW)."""

    sku: Key
    name: Name | None = None
    barcode: Barcode | None = None
    unit: Unit | None = None
    price: Amount | None = None


class LineIn(Strict):
    """One ordered line; qty in the product's unit, unit_cost in CNY."""

    sku: Key
    qty: Qty
    unit_cost: Amount | None = None


class PurchaseOrderIn(Strict):
    """A purchase order for one store, sent to the nodes at that location."""

    location: LocationId
    supplier: Name
    lines: Annotated[list[LineIn], LINES]
    note: Note | None = None


class UserIn(Strict):
    """Create or change a user; fields left out keep their value (per-field LWW)."""

    user: Key
    name: Name | None = None
    role: TillRole | None = None
    locations: LocationList | None = None
    active: bool | None = None
    #: 4 to 12 digits, to log in at the tills; the hub keeps and sends only its salted
    #: scrypt hash (`pin_hash`), never the PIN
    pin: Pin | None = None


class ReorderPointIn(Strict):
    """Head office's reorder point for a product at one store: the till shows an alert
    when stock on hand there is at or below `point`; `qty` is how much to reorder."""

    location: LocationId
    sku: Key
    point: Qty
    qty: Qty


class CorrectionIn(Strict):
    """A head-office stock correction: positive adds stock, negative removes it."""

    location: LocationId
    sku: Key
    qty: Qty
    reason: Note
    lot: Key | None = None


# ---- responses -------------------------------------------------------------------------


class FieldError(Strict):
    """One field a refusal is about: a JSON path into the body (`$.lines[0].qty`), or a
    query or path parameter's name (`limit`)."""

    field: str
    message: str


class Problem(Strict):
    """Why the request was refused (RFC 9457, application/problem+json); nothing was
    written. `detail` says what to send instead; `errors` names the fields, when known."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []


class Healthz(Strict):
    """Liveness. origins: per origin the seq verified (what nodes call confirmed);
    folded: the seq stock, cost and documents show; unfolded: events still to fold."""

    status: Literal["ok"]
    origins: dict[str, int]
    folded: dict[str, int]
    unfolded: int


class StockItem(Strict):
    location: str
    sku: str
    lot: str | None
    qty: str


class StockOut(Strict):
    """Stock on hand per location, product and lot."""

    items: list[StockItem]


class CostItem(Strict):
    location: str
    sku: str
    qty: str
    value: str


class CostOut(Strict):
    """Moving-average cost: quantity and stock value per location and product."""

    items: list[CostItem]


class RejectedItem(Strict):
    id: int
    origin: str | None
    seq: int | None
    reason: str
    size: int


class RejectedOut(Strict):
    """Dead letters: what ingest refused, why, and how many bytes it was."""

    items: list[RejectedItem]


class SeqRange(Strict):
    first: int
    last: int


class HeldItem(Strict):
    """An event kept aside (its clock is too far ahead), with its origin's later ones."""

    origin: str
    seq: int
    reason: str
    since_ms: int


class NodeItem(Strict):
    origin: str
    ingested_seq: int
    folded_seq: int
    waiting: int
    missing: list[SeqRange]
    held: list[HeldItem]
    last_event_age_s: float | None
    last_ingest_age_s: float | None
    #: a second ledger claims this node id (it refused to sync and said why); None if not
    conflict: str | None = None


class NodesOut(Strict):
    """Per origin: what the hub has, what it waits for, and how far behind it is."""

    items: list[NodeItem]


class AuditItem(Strict):
    """One event: who (user) did what (kind, summary), when (UTC), on which document."""

    origin: str
    seq: int
    time: str
    user: str
    kind: str
    doc: str | None
    summary: str


class AuditOut(Strict):
    """The audit trail, newest first; `next_offset` asks for the next page (None: last)."""

    items: list[AuditItem]
    next_offset: int | None


class DocumentLine(Strict):
    sku: str
    expected: str
    done: str
    shipped: str
    discrepancy: str


class DocumentOut(Strict):
    """A document and its status, derived from the movements that cite it."""

    doc: str
    type: str
    status: Status
    lines: list[DocumentLine]
    #: each receiving act on an order or transfer (several: it was received twice)
    receipts: list[DocumentReceipt] = []
    #: what a manager must resolve, e.g. "received_twice"; derived, so every replica agrees
    alerts: list[DocumentAlert] = []
    #: on a z_report: the till's shift in figures, as printed when it closed
    shift_report: ShiftReportOut | None = None
    #: the shift (its shift_open document) a sale, return, void or Z report belongs to
    shift: str | None = None
    #: on a stocktake: its sessions' counts by place and clerk, and its approval(s)
    stocktake: StocktakeOut | None = None


class CountedLine(Strict):
    sku: str
    lot: str | None
    qty: str


class PlaceCountOut(Strict):
    user: str
    place: str
    sku: str
    lot: str | None
    qty: str


class ApprovedLine(Strict):
    """What an approval posted: the count, and the variance against the stock the
    approving till held, in quantity and at the hub's moving-average cost."""

    sku: str
    lot: str | None
    counted: str
    variance: str | None
    value: str | None


class StocktakeApproval(Strict):
    doc: str
    approved_by: str
    origin: str
    at: str
    lines: list[ApprovedLine]


class StocktakeOut(Strict):
    """A stocktake session: open, approved, or approved twice (offline: both stand, the
    first carries the variance; docs/merge-rules.md)."""

    status: Literal["open", "approved", "approved_twice"]
    skus: list[str] | None
    category: str | None
    counted: list[CountedLine]
    places: list[PlaceCountOut]
    approvals: list[StocktakeApproval]
    alert: str | None = None


class TenderTotal(Strict):
    method: str
    amount: str


class CashierTotal(Strict):
    user: str
    sales: int
    sales_total: str
    returns: int
    returns_total: str


class ShiftReportOut(Strict):
    """A Z report's figures; money in yuan as decimal strings, like every amount here."""

    number: int | None
    sales: int
    sales_total: str
    returns: int
    returns_total: str
    voids: int
    voids_total: str
    discounts_total: str
    tenders: list[TenderTotal]
    cash_float: str
    cash_sales: str
    cash_refunds: str
    expected_cash: str
    counted_cash: str | None
    variance: str | None
    cashiers: list[CashierTotal]


class DocumentReceipt(Strict):
    """One receipt of an order or transfer: which till, which user, when, what arrived."""

    doc: str
    origin: str
    user: str
    at: str
    lines: list[ReceiptLine]
    approved_by: str | None = None
    recounted: bool = False
    reversed_by: list[str] = []


class ReceiptLine(Strict):
    """What arrived on one line of a receipt, at what unit cost, in which lot."""

    sku: str
    qty: str
    unit_cost: str | None = None
    lot: str | None = None
    expiry: str | None = None


class DocumentAlert(Strict):
    kind: str
    message: str


class ProductCreated(Strict):
    """The hub event that carries the change: origin and seq on the hub's log."""

    sku: str
    origin: str
    seq: int


class UserCreated(Strict):
    """The seq of the hub event that carries the change."""

    user: str
    seq: int


class ReorderPointSet(Strict):
    """The hub event that carries the reorder point: origin and seq on the hub's log."""

    location: str
    sku: str
    origin: str
    seq: int


class DocCreated(Strict):
    """The id of the document written."""

    doc: str


class OpenApiDocument(Strict):
    """This API's OpenAPI 3.1 document."""

    openapi: str
    info: dict[str, Any]
    security: list[dict[str, list[str]]]
    paths: dict[str, dict[str, Any]]
    components: dict[str, Any]
