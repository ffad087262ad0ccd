"""Document status, derived from the movements that cite a document: never stored.

A purchase order is "partly received" because receipt movements for it exist, not because
someone set a flag; so every replica that holds the same movements agrees on the status,
and a late receipt changes it without anyone editing the order.

Each receiving act is also a document of its own (type "receipt", `ref` = the order or
transfer); a manager undoes one with a "reversal" (`ref` = the receipt) or keeps an
over-receipt with an "acceptance" (`ref` = the order or transfer). The list of receipts,
their reversals and the "received twice" alert are derived here from those headers, so
every replica holding the same events shows the same receipts and the same alerts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal, NamedTuple

import msgspec

from protocol.events import SUPPLIER, TRANSIT, DocLine, Document
from protocol.hlc import physical_ms

Status = Literal[
    "ordered",
    "partly_received",
    "received",  # purchase orders
    "planned",
    "in_transit",
    "received_with_discrepancy",  # transfers (and "received")
    "over_received",  # orders and transfers: more arrived than was ordered or shipped
    "completed",
    "posted",  # sales, receipts, counts
]


class DocMovement(NamedTuple):
    sku: str
    lot: str | None
    qty: int
    src: str
    dst: str


class Related(NamedTuple):
    """A receipt, reversal or acceptance header concerning a document, with who wrote it
    and when (from its event): what the receipts list shows."""

    header: Document
    origin: str
    seq: int
    hlc: int
    user: str


class LineStatus(msgspec.Struct, frozen=True):
    sku: str
    expected: int
    done: int
    shipped: int = 0

    @property
    def discrepancy(self) -> int:
        """Received minus shipped (transfers) or received minus ordered (orders)."""
        return self.done - (self.shipped or self.expected)

    @property
    def target(self) -> int:
        """What should arrive: the shipment of a transfer, else the order."""
        return self.shipped or self.expected


class ReceiptInfo(msgspec.Struct, frozen=True):
    """One receiving act on an order or transfer: which till, who, when, what arrived."""

    doc: str
    origin: str
    user: str
    at: str
    lines: list[DocLine]
    approved_by: str | None = None
    recounted: bool = False
    #: the reversal documents that undid this receipt (normally none, at most one)
    reversed_by: list[str] = []


class DocAlert(msgspec.Struct, frozen=True):
    """Something about a document a manager must resolve; derived, so every replica agrees."""

    kind: Literal["received_twice", "reversed_twice"]
    message: str


class DocumentStatus(msgspec.Struct, frozen=True):
    doc: str
    type: str
    status: Status
    lines: list[LineStatus]
    receipts: list[ReceiptInfo] = []
    #: acceptance documents that keep an over-receipt, and who approved each
    accepted: list[str] = []
    alerts: list[DocAlert] = []
    #: a manager accepted what arrived: every line that differs is covered by an acceptance
    differences_accepted: bool = False

    @property
    def differs(self) -> bool:
        """Something arrived, and not exactly what was ordered or shipped."""
        return any(line.done for line in self.lines) and any(
            line.discrepancy for line in self.lines
        )


def _sum_by_sku(movements: Iterable[DocMovement], src: str | None, dst: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for m in movements:
        if m.dst == dst and (src is None or m.src == src):
            totals[m.sku] += m.qty
    return totals


def _net(movements: list[DocMovement], outside: str, here: str) -> dict[str, int]:
    """What arrived at `here` from `outside`, less what a reversal sent back."""
    net = _sum_by_sku(movements, outside, here)
    for sku, qty in _sum_by_sku(movements, here, outside).items():
        net[sku] -= qty
    return net


def at_text(hlc: int) -> str:
    """An event's time for people: UTC to the second."""
    moment = datetime.fromtimestamp(physical_ms(hlc) / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def document_status(
    header: Document, movements: list[DocMovement], related: Sequence[Related] = ()
) -> DocumentStatus:
    ordered: dict[str, int] = defaultdict(int)
    for line in header.lines:
        ordered[line.sku] += line.qty
    match header.type:
        case "purchase_order":
            received = _net(movements, SUPPLIER, header.location)
            skus = sorted(set(ordered) | set(received))
            lines = [LineStatus(s, ordered.get(s, 0), received.get(s, 0)) for s in skus]
            if not any(q > 0 for q in received.values()):
                status: Status = "ordered"
            elif any(line.done > line.expected for line in lines):
                status = "over_received"
            elif all(received.get(s, 0) >= q for s, q in ordered.items()):
                status = "received"
            else:
                status = "partly_received"
        case "transfer":
            shipped = _sum_by_sku(movements, header.location, TRANSIT)
            if not shipped:  # the receiving store sees the shipment only through the hub
                for line in header.shipped:
                    shipped[line.sku] += line.qty
            received = _net(movements, TRANSIT, header.counterparty or "")
            skus = sorted(set(ordered) | set(shipped) | set(received))
            lines = [
                LineStatus(s, ordered.get(s, 0), received.get(s, 0), shipped.get(s, 0))
                for s in skus
            ]
            if not any(shipped.values()):
                status = "planned"
            elif not any(q > 0 for q in received.values()):
                status = "in_transit"
            elif any(received.get(s, 0) > shipped.get(s, 0) for s in skus):
                status = "over_received"
            elif all(shipped.get(s, 0) == received.get(s, 0) for s in skus):
                status = "received"
            else:
                status = "received_with_discrepancy"
        case "count":
            lines, status = [], "posted"
        case _:
            lines, status = [], "completed"
    if header.type not in ("purchase_order", "transfer"):
        return DocumentStatus(header.doc, header.type, status, lines)
    receipts, accepted, alerts, covered = _receipts(header, status, lines, related)
    return DocumentStatus(
        header.doc, header.type, status, lines, receipts, accepted, alerts, covered
    )


def _receipts(
    header: Document, status: Status, lines: list[LineStatus], related: Sequence[Related]
) -> tuple[list[ReceiptInfo], list[str], list[DocAlert], bool]:
    """The receipts of a document, its acceptances, its alerts and whether an acceptance
    covers every line that differs, from the related headers.

    Order-free: each is a function of the set of headers (sorted by document id for
    display), so every replica holding the same events derives the same lists.
    """
    receipts = {r.header.doc: r for r in related if r.header.type == "receipt"}
    reversals: dict[str, list[str]] = defaultdict(list)
    for r in related:
        if r.header.type == "reversal" and r.header.ref in receipts:
            reversals[r.header.ref].append(r.header.doc)
    infos = [
        ReceiptInfo(
            doc=r.header.doc,
            origin=r.origin,
            user=r.user,
            at=at_text(r.hlc),
            lines=list(r.header.lines),
            approved_by=r.header.approved_by,
            recounted=r.header.recounted,
            reversed_by=sorted(reversals.get(doc, [])),
        )
        for doc, r in sorted(receipts.items(), key=lambda item: (item[1].hlc, item[0]))
    ]
    acceptances = [r for r in related if r.header.type == "acceptance"]
    kept: dict[str, int] = defaultdict(int)  # per SKU, the most any acceptance keeps
    for a in acceptances:
        per_sku: dict[str, int] = defaultdict(int)
        for line in a.header.lines:
            per_sku[line.sku] += line.qty
        for sku, qty in per_sku.items():
            kept[sku] = max(kept[sku], qty)
    accepted = sorted(f"{a.header.doc} ({a.header.approved_by or a.user})" for a in acceptances)

    alerts: list[DocAlert] = []
    live = [info for info in infos if not info.reversed_by]
    over = [line for line in lines if line.done > line.target]
    if status == "over_received" and len(live) >= 2 and any(kept[x.sku] < x.done for x in over):
        verb = "po" if header.type == "purchase_order" else "transfer"
        which = ", ".join(f"{i.doc} ({i.origin}, {i.user}, {i.at})" for i in live)
        amounts = ", ".join(f"{x.sku} {_qty(x.done)} of {_qty(x.target)}" for x in over)
        alerts.append(
            DocAlert(
                kind="received_twice",
                message=f"{header.doc} received twice ({amounts}) by {which}: a manager "
                f"reverses one (`kucun node {verb} reverse RECEIPT`) or keeps them "
                f"(`kucun node {verb} accept {header.doc}`)",
            )
        )
    undone = sorted(doc for docs in reversals.values() for doc in docs)
    short = [line for line in lines if line.done < line.target]
    if len(undone) >= 2 and short:
        alerts.append(
            DocAlert(
                kind="reversed_twice",
                message=f"{header.doc} had receipts reversed more than once "
                f"({', '.join(undone)}): the books now miss "
                + ", ".join(f"{x.sku} {_qty(x.target - x.done)}" for x in short)
                + "; count what is on the shelf and receive it again",
            )
        )
    differing = [line for line in lines if line.discrepancy]
    covered = bool(acceptances) and all(kept[x.sku] >= x.done for x in differing)
    return infos, accepted, alerts, covered


def _qty(milli: int) -> str:
    """Milli-units as people write them (no trailing zeros)."""
    whole, frac = divmod(abs(milli), 1000)
    text = f"{whole}.{frac:03d}".rstrip("0").rstrip(".")
    return f"-{text}" if milli < 0 else text
