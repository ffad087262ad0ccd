"""The figures of a till's shift, from the documents written in it.

Pure: the caller hands in the shift's documents (headers with the user who wrote each, as
`protocol.documents.Related`) and gets a `ShiftReport`. The same function gives the X report
(running totals, not stored) and the Z report (the same figures with the counted cash, its
number and the stretch of the log, stored in a `z_report` document).

Money is what moved, as the documents' tenders record it: a sale's tenders are already net
of change, a return's or void's tenders are what was refunded by each method. So per method
the drawer and the terminals took the sales' tenders minus the refunds, and

    expected_cash = cash_float + cash_sales − cash_refunds
    variance      = counted_cash − expected_cash
    Σ tenders     = sales_total − returns_total − voids_total

Only documents that name the shift (`Document.shift`) count: a sale taken with no shift
open, or in another shift, is not in this one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from protocol.documents import Related
from protocol.events import CashierTotals, Document, ShiftReport, Tender
from protocol.tenders import BUILT_IN

#: the document types a shift's figures are made of
COUNTED_TYPES = ("sale", "return", "void")
#: the drawer's tender: the float and the expected cash are in it
CASH = "cash"


def z_label(number: int) -> str:
    """How a Z report's number is printed and shown: `Z 0007` (four digits at least)."""
    return f"Z {number:04d}"


def tender_order(method: str) -> tuple[int, str]:
    """Built-in methods in their own order (cash first), then head office's by name."""
    return (BUILT_IN.index(method), "") if method in BUILT_IN else (len(BUILT_IN), method)


def paid(header: Document) -> int:
    """What a document's tenders add up to, in fen: taken by a sale, refunded otherwise."""
    return sum(t.amount for t in header.tenders)


def cash_of(header: Document) -> int:
    return sum(t.amount for t in header.tenders if t.method == CASH)


@dataclass
class _Cashier:
    sales: int = 0
    sales_total: int = 0
    returns: int = 0
    returns_total: int = 0


@dataclass
class _Totals:
    """The running sums while the shift's documents are read, in document order."""

    sales: int = 0
    sales_total: int = 0
    returns: int = 0
    returns_total: int = 0
    voids: int = 0
    voids_total: int = 0
    discounts_total: int = 0
    cash_sales: int = 0
    cash_refunds: int = 0
    tenders: dict[str, int] = field(default_factory=dict)
    cashiers: dict[str, _Cashier] = field(default_factory=dict)

    def add(self, header: Document, user: str) -> None:
        amount = paid(header)
        cashier = self.cashiers.setdefault(user, _Cashier())
        sign = 1 if header.type == "sale" else -1
        for tender in header.tenders:
            self.tenders[tender.method] = self.tenders.get(tender.method, 0) + sign * tender.amount
        if header.type == "sale":
            self.sales += 1
            self.sales_total += amount
            self.cash_sales += cash_of(header)
            self.discounts_total += sum(line.discount or 0 for line in header.lines)
            cashier.sales += 1
            cashier.sales_total += amount
            return
        # a return or a void: money out of the drawer (or back to the card), under this user
        self.cash_refunds += cash_of(header)
        cashier.returns += 1
        cashier.returns_total += amount
        if header.type == "return":
            self.returns += 1
            self.returns_total += amount
        else:
            self.voids += 1
            self.voids_total += amount


def in_shift(header: Document, shift: str) -> bool:
    """A sale, return or void taken in `shift` (its shift_open document)."""
    return header.shift == shift and header.type in COUNTED_TYPES


def shift_report(
    shift: str,
    cash_float: int,
    documents: Iterable[Related],
    *,
    number: int | None = None,
    counted_cash: int | None = None,
    first_seq: int | None = None,
    last_seq: int | None = None,
) -> ShiftReport:
    """The figures of `shift` from `documents` (any documents: those not of the shift are
    left out). `number` and `counted_cash` make it a Z report; without them it is an X
    report. Per cashier, refunds (returns and voids) count as their returns."""
    totals = _Totals()
    for item in documents:
        if in_shift(item.header, shift):
            totals.add(item.header, item.user)
    expected = cash_float + totals.cash_sales - totals.cash_refunds
    return ShiftReport(
        number=number,
        sales=totals.sales,
        sales_total=totals.sales_total,
        returns=totals.returns,
        returns_total=totals.returns_total,
        voids=totals.voids,
        voids_total=totals.voids_total,
        discounts_total=totals.discounts_total,
        tenders=[
            Tender(method=m, amount=totals.tenders[m])
            for m in sorted(totals.tenders, key=tender_order)
        ],
        cash_float=cash_float,
        cash_sales=totals.cash_sales,
        cash_refunds=totals.cash_refunds,
        expected_cash=expected,
        counted_cash=counted_cash,
        variance=None if counted_cash is None else counted_cash - expected,
        cashiers=[
            CashierTotals(
                user=user,
                sales=c.sales,
                sales_total=c.sales_total,
                returns=c.returns,
                returns_total=c.returns_total,
            )
            for user, c in sorted(totals.cashiers.items())
        ],
        first_seq=first_seq,
        last_seq=last_seq,
    )


def net_total(report: ShiftReport) -> int:
    """What the shift took in, net of refunds: the sum of its per-tender figures."""
    return report.sales_total - report.returns_total - report.voids_total
