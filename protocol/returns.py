"""What can still be returned of a sale, what a return refunds, and to which tenders.

Pure: derived from the sale's header and the headers of the returns and voids citing it
(`ref` = the sale), whichever till wrote them, so every replica holding the same events
shows the same. Rules (docs/merge-rules.md "Returns and voids at several tills"):

- A sale's lines are grouped by (sku, charged unit price): a return line names the sku
  and, when the sale sold it at more than one price, the price.
- What is left of a group = sold − returned, never below zero. Two tills that were both
  offline may each return the whole receipt: each checked what it knew, the money left
  both drawers and the goods came back, so both returns stand; the group then shows
  `returned_twice` (returned > sold), an alert for a manager, like `received_twice`.
- A refund is the line's amount (after discount) pro rata, rounded half-up *cumulatively*:
  returning q when R were returned before refunds round(amount·(R+q)/sold) − refunded so
  far (never below zero, never more than what is left of the amount). Refunds in any split
  thus add up to round(amount·R/sold), and returning all that is left refunds exactly
  what is left of the line's amount: no fen is lost or gained to rounding.
- The refund goes back by the sale's own tenders: non-cash first (in the sale's order), up
  to what each paid minus what earlier returns refunded to it, the rest in cash. Money paid
  by card or wallet goes back to that account, so a return never turns card money into
  cash (the usual refund fraud), and the drawer pays out only what came in as cash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protocol.events import DocLine, Document, Tender
from protocol.units import QTY_SCALE, format_qty

#: the document types that take goods back against a sale
RETURN_TYPES = ("return", "void")


def half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up (both ≥ 0, denominator > 0)."""
    whole, rest = divmod(numerator, denominator)
    return whole + (1 if 2 * rest >= denominator else 0)


@dataclass(frozen=True)
class ReturnGroup:
    """The sale lines of one sku at one charged price, and what came back of them."""

    sku: str
    unit_price: int | None
    sold: int
    amount: int
    returned: int = 0
    refunded: int = 0

    @property
    def left(self) -> int:
        """Milli-units that may still be returned."""
        return max(self.sold - self.returned, 0)

    @property
    def amount_left(self) -> int:
        return max(self.amount - self.refunded, 0)

    @property
    def unit_amount(self) -> int:
        """Fen paid per base unit after discount (amount / qty, half-up): what one piece or
        one kg refunds."""
        return half_up_div(self.amount * QTY_SCALE, self.sold) if self.sold else 0

    @property
    def returned_twice(self) -> bool:
        """More came back than was sold: returns at two tills that did not know each other."""
        return self.returned > self.sold

    def refund(self, qty: int) -> int:
        """What returning `qty` more refunds (cumulative half-up; see the module)."""
        if self.sold <= 0 or qty <= 0:
            return 0
        upto = min(self.returned + qty, self.sold)
        due = half_up_div(self.amount * upto, self.sold) - self.refunded
        return min(max(due, 0), self.amount_left)

    def matches(self, line: DocLine) -> bool:
        return line.sku == self.sku and (
            line.unit_price is None or self.unit_price is None or line.unit_price == self.unit_price
        )


def groups(sale: Document, returns: Sequence[Document]) -> list[ReturnGroup]:
    """The sale's lines grouped by (sku, unit price) in sale order, with what the returns
    and voids citing it took back and refunded."""
    order: list[tuple[str, int | None]] = []
    sold: dict[tuple[str, int | None], list[int]] = {}
    for line in sale.lines:
        key = (line.sku, line.unit_price)
        if key not in sold:
            order.append(key)
            sold[key] = [0, 0, 0, 0]
        sold[key][0] += line.qty
        sold[key][1] += line.amount or 0
    for doc in returns:
        for line in doc.lines:
            key = _group_of(order, line)
            if key is not None:
                sold[key][2] += line.qty
                sold[key][3] += line.amount or 0
    return [ReturnGroup(k[0], k[1], *sold[k]) for k in order]


def _group_of(
    order: Sequence[tuple[str, int | None]], line: DocLine
) -> tuple[str, int | None] | None:
    exact = (line.sku, line.unit_price)
    if exact in order:
        return exact
    same_sku = [k for k in order if k[0] == line.sku]
    return same_sku[0] if same_sku else None


@dataclass(frozen=True)
class ReturnAlert:
    """Something about a sale's returns a manager must look at; derived, so replicas agree."""

    kind: str
    sku: str
    sold: int
    returned: int
    message: str


def alerts(sale: Document, returns: Sequence[Document]) -> list[ReturnAlert]:
    """`returned_twice` for each group that came back more than it was sold."""
    found = []
    for g in groups(sale, returns):
        if g.returned_twice:
            by = ", ".join(d.doc for d in returns if any(g.matches(x) for x in d.lines))
            found.append(
                ReturnAlert(
                    "returned_twice",
                    g.sku,
                    g.sold,
                    g.returned,
                    f"{sale.doc} returned twice: {g.sku} {format_qty(g.returned)} of "
                    f"{format_qty(g.sold)} came back ({by}); check the goods and the drawers",
                )
            )
    return found


def refund_tenders(
    refund: int, sale_tenders: Sequence[Tender], earlier: Sequence[Sequence[Tender]]
) -> list[Tender]:
    """Split `refund` over the sale's tenders: non-cash first, each up to what it paid
    minus what `earlier` refunds gave back to it, the rest in cash."""
    left: dict[str, int] = {}
    for t in sale_tenders:
        left[t.method] = left.get(t.method, 0) + t.amount
    for tenders in earlier:
        for t in tenders:
            if t.method in left:
                left[t.method] -= t.amount
    methods = [m for m in left if m != "cash"] + ["cash"]
    out: list[Tender] = []
    remaining = refund
    for method in methods:
        if remaining <= 0:
            break
        take = remaining if method == "cash" else min(max(left.get(method, 0), 0), remaining)
        if take > 0:
            out.append(Tender(method=method, amount=take))
            remaining -= take
    return out or [Tender(method="cash", amount=0)]


def lots_back(
    drawn: Sequence[tuple[str | None, int]], back: Sequence[tuple[str | None, int]], qty: int
) -> list[tuple[str | None, int]]:
    """Which lots `qty` returned goes back into: the lots the sale drew from (`drawn`),
    less what earlier returns put back (`back`), the last drawn first; what they cannot
    take goes back without a lot. The parts sum to `qty`."""
    room: dict[str | None, int] = {}
    for lot, q in drawn:
        room[lot] = room.get(lot, 0) + q
    for lot, q in back:
        if lot in room:
            room[lot] -= q
    parts: list[tuple[str | None, int]] = []
    remaining = qty
    for lot in reversed(list(room)):
        if remaining <= 0:
            break
        take = min(max(room[lot], 0), remaining)
        if take > 0:
            parts.append((lot, take))
            remaining -= take
    if remaining > 0:
        parts.append((None, remaining))
    merged: dict[str | None, int] = {}
    for lot, q in parts:
        merged[lot] = merged.get(lot, 0) + q
    return list(merged.items())
