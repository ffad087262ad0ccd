"""The event model: every change of state is one immutable event.

An `Event` is an envelope (who wrote it, where in their log, when, chained to the previous
one) around a `Body`, a tagged union decoded with msgspec and dispatched with `match`.
Quantities are integer milli-units, money integer fen (see `protocol.units`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import msgspec

#: Locations starting with "@" are virtual: they make every movement double-entry.
SUPPLIER = "@supplier"
CUSTOMER = "@customer"
TRANSIT = "@transit"
SCRAP = "@scrap"
COUNT = "@count"
VIRTUAL_LOCATIONS = frozenset({SUPPLIER, CUSTOMER, TRANSIT, SCRAP, COUNT})

#: matched whole (fullmatch): "$" would also match before a final newline, and "S09\n"
#: is no NATS subject token
_REPLICA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


def is_virtual(location: str) -> bool:
    return location.startswith("@")


#: The hub writes its own logs: "hub" (to every node) and "hub-<location>" (to one store).
HUB_ORIGIN = "hub"


def hub_origin_for(location: str) -> str:
    return f"{HUB_ORIGIN}-{location}"


def is_hub_origin(origin: str) -> bool:
    return origin == HUB_ORIGIN or origin.startswith(HUB_ORIGIN + "-")


def valid_replica_id(name: str) -> bool:
    """Replica and location ids become NATS subject tokens, so no dots, spaces or wildcards;
    "hub" and "hub-…" are the hub's own origins."""
    return (
        isinstance(name, str)
        and _REPLICA_ID.fullmatch(name) is not None
        and not is_hub_origin(name)
    )


# Events are immutable values that never refer back to themselves, so they opt out of
# the cycle collector (gc=False): a hub holding a batch of decoded events otherwise spends
# two thirds of decoding time in collections that can never find anything.
_VALUE = {"frozen": True, "kw_only": True, "gc": False}


class _Body(msgspec.Struct, tag_field="kind", omit_defaults=True, **_VALUE):
    """Event bodies are told apart on the wire by their "kind" field."""


class Movement(_Body, tag="movement"):
    """`qty` of `sku` leaves `src` and arrives at `dst`; the sum over all locations stays 0."""

    sku: str
    qty: int
    src: str
    dst: str
    lot: str | None = None
    expiry: str | None = None
    doc: str | None = None
    unit_cost: int | None = None
    unit_price: int | None = None


class Count(_Body, tag="count"):
    """A stocktake observation: at `location` there were `qty` of `sku` (`lot`)."""

    location: str
    sku: str
    qty: int
    lot: str | None = None
    doc: str | None = None


FieldValue = str | int | bool | None


#: What master data an upsert changes.
#: "reorder" (key "<location>/<sku>", fields "point" and "qty"): head office's reorder
#: point for a product at one store, below which the till shows an alert.
Entity = Literal[
    "product",
    "price",
    "supplier",
    "store",
    "user",
    "tender",
    "reorder",
    "customer",
    "barcode",
]


class Upsert(_Body, tag="upsert"):
    """Master data: each field is a last-writer-wins register ordered by (hlc, origin)."""

    entity: Entity
    key: str
    fields: dict[str, FieldValue]


#: "reversal" undoes one receipt (`ref` = the receipt), "acceptance" keeps an over-receipt
#: (`ref` = the order or transfer): how a manager resolves a document received twice.
#: At the till: "return" takes goods back against a sale (`ref` = the sale; none for a
#: return without receipt), "void" cancels a posted sale whole (`ref` = the sale);
#: "shift_open" opens a till's shift (its `tenders`: the cash float, as one cash tender),
#: "z_report" closes it (`ref` = the shift_open document) with the figures of the Z report.
#: "alert_ack" records that a user saw an alert (`ref` = the alert's key, `note` optional).
#: A "stocktake" opens a count session at a store (no lines: the whole store; lines: those
#: SKUs; note "category:<name>"), a "tally" is one clerk's count of one place (`ref` = the
#: stocktake, `note` = the place), "stocktake_close" approves it (`ref`, `approved_by`).
#: An "online_order" is a customer's order the hub routed to a store as a pick request
#: (on `hub-<location>`); a till's "pick" starts picking it, "pick_short" says what the
#: store cannot supply, "order_cancel" cancels it (each `ref` = the order); the sale that
#: fulfils it cites it with `ref`.
DocumentType = Literal[
    "sale",
    "receipt",
    "purchase_order",
    "transfer",
    "count",
    "reversal",
    "acceptance",
    "return",
    "void",
    "shift_open",
    "z_report",
    "alert_ack",
    "stocktake",
    "tally",
    "stocktake_close",
    "online_order",
    "pick",
    "pick_short",
    "order_cancel",
]


class Tender(msgspec.Struct, omit_defaults=True, **_VALUE):
    """How a sale was paid: method ("cash", "wechat", "alipay", "card") and amount in fen."""

    method: str
    amount: int


class CashierTotals(msgspec.Struct, omit_defaults=True, **_VALUE):
    """One cashier's part of a shift: how many sales and returns, and their totals in fen."""

    user: str
    sales: int = 0
    sales_total: int = 0
    returns: int = 0
    returns_total: int = 0


class ShiftReport(msgspec.Struct, omit_defaults=True, **_VALUE):
    """A till's shift in figures (fen): what an X report shows and a Z report keeps.

    expected_cash = cash_float + cash_sales − cash_refunds; variance = counted − expected."""

    #: the Z number: 1, 2, … per till (the till is the only writer of its log); None on X
    number: int | None = None
    sales: int = 0
    sales_total: int = 0
    returns: int = 0
    returns_total: int = 0
    voids: int = 0
    voids_total: int = 0
    discounts_total: int = 0
    #: per tender method: taken by sales minus refunded, in method order
    tenders: list[Tender] = []
    cash_float: int = 0
    cash_sales: int = 0
    cash_refunds: int = 0
    expected_cash: int = 0
    counted_cash: int | None = None
    variance: int | None = None
    cashiers: list[CashierTotals] = []
    #: the first and last document of the shift (seq of this till's log)
    first_seq: int | None = None
    last_seq: int | None = None


class DocLine(msgspec.Struct, omit_defaults=True, **_VALUE):
    """What a document asks for: e.g. a purchase order line or a transfer line."""

    sku: str
    qty: int
    unit_cost: int | None = None
    unit_price: int | None = None
    lot: str | None = None
    #: on a receipt line: the lot's expiry as written on the goods (ISO date)
    expiry: str | None = None
    #: on a sale line: fen taken off the line's total (a discount; never below zero)
    discount: int | None = None
    #: on a sale line: what the customer pays for the line, in fen, after any discount (the
    #: sale's tenders sum to the lines' amounts); on a return line: what is refunded for it
    amount: int | None = None
    #: on a sale line: the product's own price when the cashier's price replaced it
    list_price: int | None = None
    #: the manager who approved this line's price override, discount or quantity
    approved_by: str | None = None
    #: on a sale line: milli-units sold beyond the stock the ledger held, which the cashier
    #: confirmed (the shelf may be right and the ledger wrong): kept for the stock check
    beyond_stock: int | None = None
    #: on a return line: the goods went to scrap (damaged), not back to the shelf
    scrap: bool = False
    #: on a stocktake close line: the count posted minus the stock the approving till
    #: held then (milli-units): the variance the manager approved
    variance: int | None = None


class Document(_Body, tag="document"):
    """A document header; its status is derived from the movements that cite `doc`.

    `location` is where the document happens: the receiving store of a purchase order, the
    shipping store of a transfer (whose `counterparty` is the receiving store), the store
    of a sale, receipt or count.
    """

    doc: str
    type: DocumentType
    location: str
    counterparty: str | None = None
    lines: list[DocLine] = []
    #: on a transfer routed by the hub: what the shipping store actually sent
    shipped: list[DocLine] = []
    tenders: list[Tender] = []
    note: str | None = None
    #: on a sale: the lot the scanned code named when this location did not hold it in the
    #: quantity sold (the movements show the lots actually drawn from): a `lot_mismatch` alert
    scanned_lot: str | None = None
    #: on a receipt: the order or transfer it receives; on a reversal: the receipt it undoes;
    #: on an acceptance: the order or transfer whose over-receipt is kept
    ref: str | None = None
    #: the manager who confirmed it (an extra receipt, a difference, a reversal, an acceptance)
    approved_by: str | None = None
    #: a receipt whose difference from the order or shipment was confirmed by a re-count
    recounted: bool = False
    #: on a sale, return or void: the shift (its shift_open document) it was taken in
    shift: str | None = None
    #: on a z_report: the shift's figures as printed, immutable once posted
    report: ShiftReport | None = None
    # No field more: msgspec writes a struct of more than 15 fields (with the tag) with a
    # map16 header even when most are left out, which would change the canonical bytes,
    # and so the hash chain, of every event already written. Nest new fields instead.


Body = Movement | Count | Upsert | Document


class Event(msgspec.Struct, **_VALUE):
    """One entry of an origin's log; `(origin, seq)` is its global identity."""

    origin: str
    seq: int
    hlc: int
    prev: bytes
    user: str
    body: Body

    @property
    def kind(self) -> str:
        return type(self.body).__struct_config__.tag  # type: ignore[return-value]

    @property
    def order_key(self) -> tuple[int, str, int]:
        """The total order every replica folds in."""
        return (self.hlc, self.origin, self.seq)


def document_header(events: Sequence[Event]) -> Document:
    """The header of one document as written: the body of its first event (a document's
    events are its header, then the lines that cite it)."""
    body = events[0].body
    if not isinstance(body, Document):
        raise TypeError(f"a document starts with its header, not a {type(body).__name__}")
    return body
