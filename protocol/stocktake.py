"""What a stocktake session is, derived from its documents: pure, no I/O.

A `stocktake` document opens a count at a store; each clerk's `tally` (ref = the
stocktake, note = the place) says what they counted there; a `stocktake_close` approves
it. Nothing is frozen: selling goes on, and a tally is an observation at its own position
in fold order (hlc, origin, seq).

The counted figure of a SKU/lot is the sum, over (clerk, place), of that clerk's latest
tally of that place: a recount of a place by the same clerk replaces their earlier figure,
two clerks counting the same place both count (the review lists who counted where, so a
place counted twice is seen). The first close in fold order is the approval; a second one
(two managers, offline) makes the status `approved_twice`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, NamedTuple

import msgspec

from protocol.documents import Related, at_text
from protocol.events import DocLine, Document
from protocol.units import line_total

#: a session's derived status
Status = Literal["open", "approved", "approved_twice"]

#: the prefix of a stocktake's `note` when its scope is a category
CATEGORY_PREFIX = "category:"

#: (hlc, origin, seq): where an event stands in fold order
Position = tuple[int, str, int]

#: (sku, lot): what one line counts
Key = tuple[str, str | None]


class Tally(NamedTuple):
    """One tally document with who wrote it and where it stands in fold order."""

    header: Document
    user: str
    position: Position


class Close(NamedTuple):
    """One stocktake_close document with who wrote it and where it stands."""

    header: Document
    user: str
    position: Position


class PlaceCount(msgspec.Struct, frozen=True):
    """The figure one clerk's latest tally of one place gives for one SKU/lot."""

    user: str
    place: str
    sku: str
    lot: str | None
    qty: int
    tally: str
    position: Position


class Approval(msgspec.Struct, frozen=True):
    """A close: its document, the manager who approved, who posted it and where."""

    doc: str
    approved_by: str
    user: str
    position: Position


class StocktakeStatus(msgspec.Struct, frozen=True):
    """A session as every replica derives it from the same documents."""

    doc: str
    location: str
    #: the SKUs in scope, or None for the whole store (or a category: see `category`)
    skus: list[str] | None
    category: str | None
    status: Status
    #: the sum over (clerk, place) of each latest tally, per SKU/lot
    counted: dict[Key, int]
    #: the latest tally per (clerk, place, SKU, lot): who counted what where
    places: list[PlaceCount]
    approvals: list[Approval]
    #: `approved_twice`: names both closes; the first in fold order is the approval
    alert: str | None = None


def scope(header: Document) -> tuple[list[str] | None, str | None]:
    """(SKUs in scope or None, category or None) of a stocktake header."""
    note = header.note or ""
    category = note[len(CATEGORY_PREFIX) :] if note.startswith(CATEGORY_PREFIX) else None
    skus = sorted({line.sku for line in header.lines}) if header.lines else None
    return skus, category


def latest_tallies(tallies: Iterable[Tally]) -> list[PlaceCount]:
    """Each (clerk, place, SKU, lot)'s figure from that clerk's latest tally of the place
    in fold order. A later tally of a place replaces the whole earlier one: a SKU counted
    before and not now is counted zero there."""
    latest: dict[tuple[str, str], Tally] = {}
    for tally in sorted(tallies, key=lambda t: t.position):
        latest[(tally.user, tally.header.note or "")] = tally
    out: list[PlaceCount] = []
    for (user, place), tally in latest.items():
        per: dict[Key, int] = defaultdict(int)
        for line in tally.header.lines:
            per[(line.sku, line.lot)] += line.qty
        for (sku, lot), qty in per.items():
            out.append(PlaceCount(user, place, sku, lot, qty, tally.header.doc, tally.position))
    out.sort(key=lambda p: (p.sku, p.lot or "", p.place, p.user))
    return out


def counted_totals(places: Iterable[PlaceCount]) -> dict[Key, int]:
    """The counted figure per SKU/lot: summed over places and clerks."""
    totals: dict[Key, int] = defaultdict(int)
    for p in places:
        totals[(p.sku, p.lot)] += p.qty
    return dict(sorted(totals.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")))


def stocktake_status(
    header: Document, tallies: Sequence[Tally], closes: Sequence[Close]
) -> StocktakeStatus:
    """The derived status of one session from its header, tallies and closes."""
    skus, category = scope(header)
    places = latest_tallies(tallies)
    ordered = sorted(closes, key=lambda c: c.position)
    approvals = [
        Approval(c.header.doc, c.header.approved_by or c.user, c.user, c.position) for c in ordered
    ]
    status: Status = (
        "open" if not approvals else "approved" if len(approvals) == 1 else "approved_twice"
    )
    alert = None
    if len(approvals) > 1:
        which = ", ".join(
            f"{a.doc} by {a.approved_by} ({a.position[1]}, {at_text(a.position[0])})"
            for a in approvals
        )
        alert = (
            f"{header.doc} approved twice: {which}; the first stands, the later re-asserts "
            "the levels it counted: recount where the two differ"
        )
    return StocktakeStatus(
        doc=header.doc,
        location=header.location,
        skus=skus,
        category=category,
        status=status,
        counted=counted_totals(places),
        places=places,
        approvals=approvals,
        alert=alert,
    )


def from_related(
    header: Document, tallies: Iterable[Related], closes: Iterable[Related]
) -> StocktakeStatus:
    """The status from the headers citing the stocktake as a read model lists them
    (`documents_citing(doc, ("tally",))`, `("stocktake_close",)`): what a node and the hub
    both derive."""
    return stocktake_status(
        header,
        [Tally(r.header, r.user, (r.hlc, r.origin, r.seq)) for r in tallies],
        [Close(r.header, r.user, (r.hlc, r.origin, r.seq)) for r in closes],
    )


def count_at_approval(tallied: int, sold_after: int) -> int:
    """The level a Count posts at approval: the tallied figure plus the net movement of the
    lot after its tally (negative when sold), so the Count is true when it is posted."""
    return max(tallied + sold_after, 0)


class ReviewLine(msgspec.Struct, frozen=True):
    """Expected (stock now) against counted, and the variance in quantity and value."""

    sku: str
    lot: str | None
    expected: int
    #: the tallied figure (summed over places and clerks)
    counted: int | None
    #: what the count will post (tallied + moved after) − expected; None while not counted
    variance: int | None
    #: the variance at the moving-average cost (fen); None while not counted or no cost
    value: int | None


def review(
    in_scope: Iterable[Key],
    expected: Mapping[Key, int],
    counted: Mapping[Key, int],
    unit_cost: Mapping[str, int | None],
    moved: Mapping[Key, int] | None = None,
) -> list[ReviewLine]:
    """One line per SKU/lot in scope, expected or counted; `counted` None: not counted yet.
    The variance compares the stock now with what the count will post: the tallied figure
    plus what `moved` after the tally (a sale after the count is no shortage). A SKU
    counted without lot is compared with the SKU's stock over all its lots."""
    keys = set(in_scope) | set(expected) | set(counted)
    counted_skus_whole = {sku for sku, lot in counted if lot is None}
    lines: list[ReviewLine] = []
    for sku, lot in sorted(keys, key=lambda k: (k[0], k[1] or "")):
        if lot is not None and sku in counted_skus_whole and (sku, lot) not in counted:
            continue  # folded into the SKU's whole line
        if lot is None and sku in counted_skus_whole:
            want = sum(q for (s, _), q in expected.items() if s == sku)
        else:
            want = expected.get((sku, lot), 0)
        got = counted.get((sku, lot))
        after = (moved or {}).get((sku, lot), 0)
        variance = None if got is None else count_at_approval(got, after) - want
        cost = unit_cost.get(sku)
        value = None if variance is None or cost is None else line_total(variance, cost)
        lines.append(ReviewLine(sku, lot, want, got, variance, value))
    return lines


def as_lines(rows: Iterable[ReviewLine]) -> list[DocLine]:
    """A close's lines: the counted figure of each counted line, at its unit cost."""
    return [DocLine(sku=r.sku, qty=r.counted, lot=r.lot) for r in rows if r.counted is not None]
