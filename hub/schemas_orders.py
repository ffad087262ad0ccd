"""The bodies of the online orders API, as msgspec Structs (bounded: the decoder refuses
a value beyond its bounds before a handler runs). Quantities and money are decimal
strings, as everywhere outside the ledger."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from protocol import limits

_DECIMAL = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
_LOCATION = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"

Key = Annotated[str, Meta(min_length=1, max_length=limits.MAX_KEY_TEXT)]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Note = Annotated[str, Meta(max_length=limits.MAX_TEXT)]
Decimal = Annotated[str, Meta(min_length=1, max_length=limits.MAX_AMOUNT_TEXT, pattern=_DECIMAL)]
LocationId = Annotated[str, Meta(min_length=1, max_length=32, pattern=_LOCATION)]
Url = Annotated[str, Meta(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$")]
Phone = Annotated[str, Meta(min_length=1, max_length=32)]

#: the most lines one online order has
MAX_ORDER_LINES = 200


class _Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Unknown fields are refused: a misspelt field must not be silently ignored."""


class CustomerIn(_Strict):
    """Who ordered: the shop's customer id if it has one, a name, a phone."""

    name: Name
    id: Key | None = None
    phone: Phone | None = None


class OrderLineIn(_Strict):
    """One line: qty in the product's unit; price (yuan) as the shop sold it, if given."""

    sku: Key
    qty: Decimal
    price: Decimal | None = None


class OrderIn(_Strict):
    """An online order. `order_id` is the caller's own id: sent again with the same body it
    is answered as before and nothing is written; with another body it is refused (409)."""

    order_id: Key
    customer: CustomerIn
    lines: Annotated[list[OrderLineIn], Meta(min_length=1, max_length=MAX_ORDER_LINES)]
    fulfilment: Literal["pickup", "delivery"]
    preferred_store: LocationId | None = None
    webhook_url: Url | None = None
    #: signs each webhook call: X-Kucun-Signature is "sha256=" + the hex HMAC-SHA256 of
    #: the body with this secret (16 to 200 characters; never shown back)
    webhook_secret: Annotated[str, Meta(min_length=16, max_length=200)] | None = None
    note: Note | None = None


class OrderLineOut(msgspec.Struct):
    """One SKU: ordered, sold by the sales citing the order, declared short."""

    sku: str
    qty: str
    sold: str
    short: str
    price: str | None = None


class OrderAlertOut(msgspec.Struct):
    """`fulfilled_twice` (extra: quantity sold beyond the order), `sold_after_cancel`."""

    kind: str
    sku: str | None = None
    extra: str | None = None


class OrderOut(msgspec.Struct):
    """An order as the hub derives it from the documents citing it."""

    order: str
    doc: str
    store: str
    status: str
    fulfilment: str
    lines: list[OrderLineOut]
    alerts: list[OrderAlertOut] = []
    sales: list[str] = []
    customer: str | None = None


class OrderTaken(msgspec.Struct):
    """The answer to an order taken (201), and to the same order sent again (200)."""

    order: str
    doc: str
    store: str
    status: str


class OrdersOut(msgspec.Struct):
    items: list[OrderOut]
    next_cursor: str | None = None


class CancelIn(_Strict):
    """Why the order is cancelled (optional)."""

    reason: Note | None = None


class OrderCancelled(msgspec.Struct):
    order: str
    doc: str
    cancel: str
    status: str


class WebhookBody(msgspec.Struct):
    """What the webhook URL receives (POST, JSON) each time the order's status changes."""

    order_id: str
    doc: str
    status: str
    store: str
    fulfilment: str
    lines: list[OrderLineOut]
    alerts: list[OrderAlertOut] = []
    sales: list[str] = []
