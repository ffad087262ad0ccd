"""`kucun node shift …`: open a shift, its X report, close it with a Z report, list them.

Parsing and printing only; the work is in node.shifts. Money in and out is yuan as a
decimal string (`200.00`), like every amount of the command line and of the hub's API.
"""

from __future__ import annotations

import argparse
import json

from node import shifts
from node.service import Node
from protocol.events import ShiftReport
from protocol.shifts import z_label
from protocol.units import format_money

_DESCRIPTION = """\
A shift is one till's trading from the cash float to the Z report. Sales, returns and
voids taken while it is open belong to it, and only those count in its reports.

  open    put the float in the drawer and open the shift
  x       the open shift's running totals (an X report: shown, never stored)
  close   count the drawer, type the cash counted, and close the shift with its Z report
          (numbered Z 0001, Z 0002, … per till; immutable, replicated to the hub)
  list    the till's Z reports, and the shift open now

Expected cash = float + cash sales − cash refunds; variance = counted − expected.
"""


def register(
    sub: argparse._SubParsersAction,
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
) -> None:
    """The `shift` command; `db` and `as_json` are node.cli's shared options."""
    shift = sub.add_parser(
        "shift",
        help="shifts: float, X and Z reports (班次)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ssub = shift.add_subparsers(dest="shift_command", required=True, metavar="COMMAND")

    p = ssub.add_parser(
        "open",
        parents=[db, as_json],
        help="open a shift with its cash float",
        description="Open a shift on this till with the cash float in the drawer. Refused "
        "while a shift is open (close it with its Z report first). Recorded as the "
        "ledger's user.",
    )
    p.add_argument(
        "--float",
        dest="cash_float",
        required=True,
        metavar="YUAN",
        help="the cash in the drawer at the start, e.g. 200.00 (0 for none)",
    )
    p.set_defaults(func=cmd_open)

    p = ssub.add_parser(
        "x",
        parents=[db, as_json],
        help="the open shift's running totals (X report)",
        description="Show the open shift's figures so far: sales, returns, voids, per "
        "tender, expected cash, per cashier. Nothing is written.",
    )
    p.set_defaults(func=cmd_x)

    p = ssub.add_parser(
        "close",
        parents=[db, as_json],
        help="close the shift with the counted cash (Z report)",
        description="Close the open shift: its Z report keeps the figures with the cash "
        "counted in the drawer and the variance, under the till's next Z number.",
    )
    p.add_argument(
        "--counted",
        required=True,
        metavar="YUAN",
        help="the cash counted in the drawer, e.g. 512.30",
    )
    p.set_defaults(func=cmd_close)

    p = ssub.add_parser(
        "list",
        parents=[db, as_json],
        help="the till's Z reports and its open shift",
        description="List this till's Z reports, oldest first, and the shift open now.",
    )
    p.set_defaults(func=cmd_list)


# ---- JSON ----------------------------------------------------------------------------------


def report_json(report: ShiftReport) -> dict[str, object]:
    """A report with money as yuan strings, as the hub's API shows a Z report."""
    money = format_money
    return {
        "number": report.number,
        "z": None if report.number is None else z_label(report.number),
        "sales": report.sales,
        "sales_total": money(report.sales_total),
        "returns": report.returns,
        "returns_total": money(report.returns_total),
        "voids": report.voids,
        "voids_total": money(report.voids_total),
        "discounts_total": money(report.discounts_total),
        "tenders": [{"method": t.method, "amount": money(t.amount)} for t in report.tenders],
        "cash_float": money(report.cash_float),
        "cash_sales": money(report.cash_sales),
        "cash_refunds": money(report.cash_refunds),
        "expected_cash": money(report.expected_cash),
        "counted_cash": None if report.counted_cash is None else money(report.counted_cash),
        "variance": None if report.variance is None else money(report.variance),
        "cashiers": [
            {
                "user": c.user,
                "sales": c.sales,
                "sales_total": money(c.sales_total),
                "returns": c.returns,
                "returns_total": money(c.returns_total),
            }
            for c in report.cashiers
        ],
        "first_seq": report.first_seq,
        "last_seq": report.last_seq,
    }


def shift_json(shift: shifts.Shift) -> dict[str, object]:
    return {
        "shift": shift.doc,
        "opened_by": shift.opened_by,
        "opened_at": shift.opened_at,
        "cash_float": format_money(shift.cash_float),
        "seq": shift.seq,
    }


def closed_json(closed: shifts.ClosedShift) -> dict[str, object]:
    return {
        "doc": closed.doc,
        "shift": closed.shift,
        "closed_by": closed.closed_by,
        "closed_at": closed.closed_at,
        "report": report_json(closed.report),
    }


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False))


# ---- text ----------------------------------------------------------------------------------


def report_text(report: ShiftReport) -> list[str]:
    """The figures as lines of text (the command line's; receipts have their own layout)."""
    money = format_money

    def row(label: str, amount: int, count: int | None = None) -> str:
        counted = "" if count is None else f"{count:>5}"
        return f"{label:<16}{counted:>5} {money(amount):>14}"

    lines = [
        row("sales", report.sales_total, report.sales),
        row("returns", report.returns_total, report.returns),
        row("voids", report.voids_total, report.voids),
        row("discounts", report.discounts_total),
        "per tender (taken − refunded)",
        *(row(f"  {t.method}", t.amount) for t in report.tenders),
        *([] if report.tenders else ["  (none yet)"]),
        row("cash float", report.cash_float),
        row("cash sales", report.cash_sales),
        row("cash refunds", report.cash_refunds),
        row("expected cash", report.expected_cash),
    ]
    if report.counted_cash is not None:
        lines.append(row("counted cash", report.counted_cash))
    if report.variance is not None:
        lines.append(row("variance", report.variance))
    if report.cashiers:
        lines.append("per cashier (sales / refunds)")
        for c in report.cashiers:
            lines.append(
                f"  {c.user:<14}{c.sales:>5} {money(c.sales_total):>14}"
                f"{c.returns:>5} {money(c.returns_total):>14}"
            )
    return lines


# ---- commands ------------------------------------------------------------------------------


def cmd_open(args) -> int:
    node = Node.open(args.db)
    try:
        shift = shifts.open_shift(node, args.cash_float)
    finally:
        node.close()
    if args.json:
        _print_json(shift_json(shift))
        return 0
    print(
        f"shift {shift.doc} open since {shift.opened_at} by {shift.opened_by}, "
        f"float {format_money(shift.cash_float)}"
    )
    return 0


def cmd_x(args) -> int:
    node = Node.open(args.db)
    try:
        shift = shifts.current_shift(node)
        report = shifts.x_report(node)
    finally:
        node.close()
    assert shift is not None  # x_report refuses when none is open
    if args.json:
        _print_json({**shift_json(shift), "report": report_json(report)})
        return 0
    print(f"X report (not stored): shift {shift.doc} since {shift.opened_at} by {shift.opened_by}")
    print("\n".join(report_text(report)))
    return 0


def cmd_close(args) -> int:
    node = Node.open(args.db)
    try:
        closed = shifts.close_shift(node, args.counted)
    finally:
        node.close()
    if args.json:
        _print_json(closed_json(closed))
        return 0
    assert closed.report.number is not None
    print(
        f"{z_label(closed.report.number)} ({closed.doc}): shift {closed.shift} closed "
        f"{closed.closed_at} by {closed.closed_by}"
    )
    print("\n".join(report_text(closed.report)))
    return 0


def cmd_list(args) -> int:
    node = Node.open(args.db)
    try:
        reports = shifts.z_reports(node)
        shift = shifts.current_shift(node)
    finally:
        node.close()
    if args.json:
        _print_json(
            {
                "items": [closed_json(z) for z in reports],
                "open": None if shift is None else shift_json(shift),
            }
        )
        return 0
    if not reports:
        print("no Z reports yet")
    else:
        print(
            f"{'Z':<8} {'DOCUMENT':<12} {'CLOSED (UTC)':<21} {'BY':<10} {'SALES':>12} "
            f"{'EXPECTED':>12} {'COUNTED':>12} {'VARIANCE':>10}"
        )
    for z in reports:
        r = z.report
        counted = "-" if r.counted_cash is None else format_money(r.counted_cash)
        variance = "-" if r.variance is None else format_money(r.variance)
        label = z_label(r.number) if r.number is not None else "-"
        print(
            f"{label:<8} {z.doc:<12} {z.closed_at:<21} {z.closed_by:<10} "
            f"{format_money(r.sales_total):>12} {format_money(r.expected_cash):>12} "
            f"{counted:>12} {variance:>10}"
        )
    if shift is not None:
        print(
            f"open: shift {shift.doc} since {shift.opened_at} by {shift.opened_by}, "
            f"float {format_money(shift.cash_float)}"
        )
    return 0
