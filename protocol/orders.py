"""Online orders, pure: where the hub routes one, what its status is, whether a body
sent again is the same order. No I/O: the hub and the node hand in what they folded.

An order is an "online_order" document the hub writes on `hub-<store>`; a till's "pick"
starts picking it, "pick_short" says what the store cannot supply, a sale with `ref` =
the order fulfils it, "order_cancel" cancels it (each cites the order with `ref`).
Everything here is derived again from those documents, so two tills acting on the same
order offline merge like any other events (docs/merge-rules.md, "Online orders").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import msgspec

from protocol.events import Document

#: an order's derived status
OrderStatus = Literal["routed", "picking", "fulfilled", "short", "cancelled"]
STATUSES: tuple[OrderStatus, ...] = ("routed", "picking", "fulfilled", "short", "cancelled")

Fulfilment = Literal["pickup", "delivery"]

#: the document types that cite an order
CITING_TYPES = ("pick", "pick_short", "sale", "order_cancel")

#: the order's `note` starts with its fulfilment, then the caller's id: "pickup WX-1001"
NOTE_SEPARATOR = " "


class Candidate(msgspec.Struct, frozen=True):
    """A location an order may go to: its id, kind ("store" or "warehouse"), whether it
    is active, and what it holds per SKU (milli-units, the hub's folded stock)."""

    location: str
    held: Mapping[str, int]
    kind: str = "store"
    active: bool = True


class Routing(msgspec.Struct, frozen=True):
    """Where the order goes, and per SKU what that store lacks (empty: it holds it all)."""

    store: str
    short: dict[str, int] = {}


def needed(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Per SKU, the quantity ordered (lines of the same SKU add up)."""
    total: dict[str, int] = {}
    for sku, qty in lines:
        total[sku] = total.get(sku, 0) + qty
    return total


def _lacks(need: Mapping[str, int], held: Mapping[str, int]) -> dict[str, int]:
    return {
        sku: qty - max(held.get(sku, 0), 0)
        for sku, qty in need.items()
        if max(held.get(sku, 0), 0) < qty
    }


def eligible(candidate: Candidate, fulfilment: Fulfilment) -> bool:
    """An active store; a warehouse too when the order is delivered (nobody picks up
    from a warehouse)."""
    if not candidate.active:
        return False
    return candidate.kind == "store" or (fulfilment == "delivery" and candidate.kind == "warehouse")


def route(
    lines: Sequence[tuple[str, int]],
    candidates: Sequence[Candidate],
    fulfilment: Fulfilment,
    preferred: str | None = None,
) -> Routing | None:
    """The preferred store when it holds every line; else the eligible location holding
    all of it with the most stock of the ordered SKUs; else the one covering the most
    lines (then the most stock), routed short by what it lacks. None when no eligible
    location holds any of it: the hub refuses the order then (nothing written, the
    caller may send it again later), since a store that has nothing cannot pick it.
    Ties go to the smaller location id, so every replica of the decision agrees."""
    need = needed(lines)
    pool = [c for c in candidates if eligible(c, fulfilment)]
    for c in pool:
        if c.location == preferred and not _lacks(need, c.held):
            return Routing(store=c.location)

    def stock(c: Candidate) -> int:
        """What it holds of the ordered SKUs (left over after picking, it serves others)."""
        return sum(max(c.held.get(sku, 0), 0) for sku in need)

    def useful(c: Candidate) -> int:
        """What of the order itself it could pick."""
        return sum(min(max(c.held.get(sku, 0), 0), qty) for sku, qty in need.items())

    def covered(c: Candidate) -> int:
        return sum(1 for sku, qty in need.items() if c.held.get(sku, 0) >= qty)

    full = [c for c in pool if not _lacks(need, c.held)]
    if full:
        best = min(full, key=lambda c: (-stock(c), c.location))
        return Routing(store=best.location)
    some = [c for c in pool if useful(c) > 0]
    if not some:
        return None
    best = min(some, key=lambda c: (-covered(c), -useful(c), c.location))
    return Routing(store=best.location, short=_lacks(need, best.held))


# ---- status ------------------------------------------------------------------------------


class LineState(msgspec.Struct, frozen=True):
    """One SKU of an order: ordered, sold by the sales citing it, declared short."""

    sku: str
    ordered: int
    sold: int = 0
    short: int = 0


class OrderAlert(msgspec.Struct, frozen=True):
    """Something a person should look at: `fulfilled_twice` (two sales cite the order
    and together sold `extra` more than ordered of `sku`), `sold_after_cancel`."""

    kind: str
    sku: str | None = None
    extra: int = 0


class State(msgspec.Struct, frozen=True):
    status: OrderStatus
    lines: list[LineState]
    alerts: list[OrderAlert] = []
    #: the sales citing the order, in fold order
    sales: list[str] = []
    #: still to pick at the store: no sale, cancel or pick_short cites it
    open: bool = True


def status(
    order: Document,
    citing: Sequence[Document],
    routed_short: Mapping[str, int] | None = None,
) -> State:
    """The order's status from the documents citing it (in fold order).

    Sales decide once there is one: fulfilled when they sold every line's quantity, else
    short; a sale stands even after a cancel (the goods left: alert `sold_after_cancel`)
    and two sales both stand (alert `fulfilled_twice` with the extra). Without a sale: a
    cancel makes it cancelled; a pick_short, or a routing short of stock, short; a pick,
    picking; otherwise routed."""
    need = needed((line.sku, line.qty) for line in order.lines)
    sold: dict[str, int] = {}
    short: dict[str, int] = dict(routed_short or {})
    sales: list[str] = []
    picked = cancelled = declared_short = False
    for doc in citing:
        if doc.type == "sale":
            sales.append(doc.doc)
            for line in doc.lines:
                sold[line.sku] = sold.get(line.sku, 0) + line.qty
        elif doc.type == "pick":
            picked = True
        elif doc.type == "pick_short":
            declared_short = True
            for line in doc.lines:
                short[line.sku] = max(short.get(line.sku, 0), line.qty)
        elif doc.type == "order_cancel":
            cancelled = True
    lines = [
        LineState(sku, qty, sold.get(sku, 0), min(short.get(sku, 0), qty))
        for sku, qty in need.items()
    ]
    alerts: list[OrderAlert] = []
    state: OrderStatus
    if sales:
        state = "fulfilled" if all(x.sold >= x.ordered for x in lines) else "short"
        if cancelled:
            alerts.append(OrderAlert("sold_after_cancel"))
        if len(sales) > 1:
            alerts.extend(
                OrderAlert("fulfilled_twice", x.sku, x.sold - x.ordered)
                for x in lines
                if x.sold > x.ordered
            )
    elif cancelled:
        state = "cancelled"
    elif declared_short or any(x.short for x in lines):
        state = "short"
    elif picked:
        state = "picking"
    else:
        state = "routed"
    closed = bool(sales) or cancelled or declared_short
    return State(state, lines, alerts, sales, not closed)


def order_note(fulfilment: str, order_id: str, note: str | None) -> str:
    """The order document's note: "<fulfilment> <caller's id>", then the caller's note."""
    head = f"{fulfilment}{NOTE_SEPARATOR}{order_id}"
    return head if not note else f"{head}\n{note}"


def parse_note(note: str | None) -> tuple[str, str, str | None]:
    """(fulfilment, caller's order id, note) back from an order document's note."""
    first, _, rest = (note or "").partition("\n")
    fulfilment, _, order_id = first.partition(NOTE_SEPARATOR)
    return fulfilment, order_id, rest or None


# ---- idempotency -------------------------------------------------------------------------


def canonical(order: Mapping[str, Any]) -> str:
    """The order as compared when its id is sent again: its checked values (quantities and
    prices parsed to integers, so "1" and "1.000" are the same) as sorted JSON."""
    return json.dumps(order, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def same_order(stored: str, sent: str) -> bool:
    """The same body again (answer as before, write nothing) or another one (409)."""
    return stored == sent
