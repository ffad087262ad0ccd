"""`kucun node stocktake …`: open a count, tally a place, review, approve, list.

Parsing and printing only; the work is in node.stocktake. The command line acts as the
ledger's user; a clerk's session at the till is the same documents.
"""

from __future__ import annotations

import argparse
import json

from protocol.documents import at_text
from protocol.stocktake import ReviewLine, StocktakeStatus
from protocol.units import format_money, format_qty

_DESCRIPTION = """\
A stocktake (盘点) counts a store while selling goes on. Open one for the whole store, a
list of SKUs or a category; each clerk tallies each place (shelf, back store, …): tallies
of different places and clerks are summed, a recount of a place by the same clerk
replaces their figure. Review shows expected against counted; a manager approves, which
posts one count per counted line (the tally plus what moved since it was taken).

  open     open a session (--sku … or --category NAME; none: the whole store)
  tally    post what was counted at one place: --place shelf A1=3 B2=1.250:L7
  review   expected, counted and variance per line, who counted where
  approve  close the session and post the counts (a manager; --approver/--pin otherwise)
  list     this store's sessions and their status

DOC defaults to the session open at this store.
"""


def register(
    sub: argparse._SubParsersAction,
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
) -> None:
    """The `stocktake` command; `db` and `as_json` are node.cli's shared options."""
    top = sub.add_parser(
        "stocktake",
        help="count stock by places and clerks (盘点)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ssub = top.add_subparsers(dest="stocktake_command", required=True, metavar="COMMAND")
    doc_arg = {"nargs": "?", "metavar": "DOC", "help": "the stocktake (default: the open one)"}

    p = ssub.add_parser(
        "open",
        parents=[db, as_json],
        help="open a stocktake",
        description="Open a stocktake at this store; nothing is frozen.",
    )
    p.add_argument("--sku", nargs="+", default=[], metavar="SKU", help="count only these SKUs")
    p.add_argument("--category", metavar="NAME", help="count only products of this category")
    p.set_defaults(func=cmd_open)

    p = ssub.add_parser(
        "tally",
        parents=[db, as_json],
        help="post the count of one place",
        description="Post what was counted at one place; it replaces this user's earlier "
        "tally of that place.",
    )
    p.add_argument("--place", required=True, help="where it was counted, e.g. shelf")
    p.add_argument("--doc", help="the stocktake (default: the open one)")
    p.add_argument(
        "lines", nargs="+", metavar="SKU=QTY[:LOT]", help="e.g. A1=3 RICE=1.250:L7 (0: none)"
    )
    p.set_defaults(func=cmd_tally)

    p = ssub.add_parser(
        "review",
        parents=[db, as_json],
        help="expected against counted",
        description="Expected (stock now) against counted per line, variance in quantity "
        "and at average cost, lines not counted yet, who counted where.",
    )
    p.add_argument("doc", **doc_arg)
    p.set_defaults(func=cmd_review)

    p = ssub.add_parser(
        "approve",
        parents=[db, as_json],
        help="close the stocktake and post its counts",
        description="Close the stocktake and post one count per counted line. A manager "
        "approves; anyone else gives a manager's --approver and --pin. Refused when this "
        "ledger already knows an approval.",
    )
    p.add_argument("doc", **doc_arg)
    p.add_argument("--approver", metavar="USER", help="the manager who approves")
    p.add_argument("--pin", help="the manager's PIN")
    p.set_defaults(func=cmd_approve)

    p = ssub.add_parser(
        "list",
        parents=[db, as_json],
        help="this store's stocktakes",
        description="This store's stocktakes and their status.",
    )
    p.set_defaults(func=cmd_list)


def status_json(s: StocktakeStatus) -> dict[str, object]:
    return {
        "doc": s.doc,
        "location": s.location,
        "skus": s.skus,
        "category": s.category,
        "status": s.status,
        "counted": [
            {"sku": sku, "lot": lot, "qty": format_qty(q)} for (sku, lot), q in s.counted.items()
        ],
        "places": [
            {"user": p.user, "place": p.place, "sku": p.sku, "lot": p.lot, "qty": format_qty(p.qty)}
            for p in s.places
        ],
        "approvals": [
            {
                "doc": a.doc,
                "approved_by": a.approved_by,
                "origin": a.position[1],
                "at": at_text(a.position[0]),
            }
            for a in s.approvals
        ],
        "alert": s.alert,
    }


def review_json(rows: list[ReviewLine]) -> list[dict[str, object]]:
    return [
        {
            "sku": r.sku,
            "lot": r.lot,
            "expected": format_qty(r.expected),
            "counted": None if r.counted is None else format_qty(r.counted),
            "variance": None if r.variance is None else format_qty(r.variance),
            "value": None if r.value is None else format_money(r.value),
        }
        for r in rows
    ]


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False))


def _summary(s: StocktakeStatus) -> str:
    scope = f"category {s.category}" if s.category else ", ".join(s.skus or []) or "whole store"
    return f"{s.doc}  {s.status:<14} {scope}  ({len(s.places)} place counts)"


def cmd_open(args) -> int:
    from node import stocktake  # here, not at start: it loads the barcode parser
    from node.service import Node

    node = Node.open(args.db)
    try:
        (event,) = stocktake.open_stocktake(node, args.sku, args.category)
        session = stocktake.status(node, f"{node.config.node}-{event.seq}")
    finally:
        node.close()
    if args.json:
        _print_json(status_json(session))
    else:
        print(f"stocktake {_summary(session)} open: tally each place, then review")
    return 0


def cmd_tally(args) -> int:
    from node import stocktake  # here, not at start: it loads the barcode parser
    from node.service import Node

    node = Node.open(args.db)
    try:
        doc = stocktake.session_or_current(node, args.doc)
        (event,) = stocktake.tally(node, doc, args.place, stocktake.parse_lines(node, args.lines))
        session = stocktake.status(node, doc)
    finally:
        node.close()
    if args.json:
        _print_json({"tally": f"{node.config.node}-{event.seq}", **status_json(session)})
    else:
        print(f"tally {node.config.node}-{event.seq}: {args.place} counted into {doc}")
    return 0


def cmd_review(args) -> int:
    from node import stocktake  # here, not at start: it loads the barcode parser
    from node.service import Node

    node = Node.open(args.db)
    try:
        doc = stocktake.session_or_current(node, args.doc)
        session = stocktake.status(node, doc)
        rows = stocktake.review(node, doc)
    finally:
        node.close()
    if args.json:
        _print_json({**status_json(session), "lines": review_json(rows)})
        return 0
    print(_summary(session))
    print(f"{'SKU':<14}{'lot':<8}{'expected':>10}{'counted':>10}{'variance':>10}{'value':>10}")
    for r in rows:
        counted = "-" if r.counted is None else format_qty(r.counted)
        variance = "-" if r.variance is None else format_qty(r.variance)
        value = "-" if r.value is None else format_money(r.value)
        print(
            f"{r.sku:<14}{r.lot or '':<8}{format_qty(r.expected):>10}{counted:>10}"
            f"{variance:>10}{value:>10}"
        )
    print(f"variance at cost: {format_money(stocktake.variance_value(rows))}")
    for p in session.places:
        print(f"  {p.place:<12} {p.user:<10} {p.sku:<14}{format_qty(p.qty):>10}")
    if session.alert:
        print(f"alert: {session.alert}")
    return 0


def cmd_approve(args) -> int:
    from node import stocktake  # here, not at start: it loads the barcode parser
    from node.service import Node

    node = Node.open(args.db)
    try:
        doc = stocktake.session_or_current(node, args.doc)
        events = stocktake.approve(node, doc, args.approver, args.pin)
        session = stocktake.status(node, doc)
    finally:
        node.close()
    close = f"{node.config.node}-{events[0].seq}"
    if args.json:
        _print_json({"close": close, **status_json(session)})
    else:
        print(f"{doc} approved ({close}): {len(events) - 1} counts posted")
    return 0


def cmd_list(args) -> int:
    from node import stocktake  # here, not at start: it loads the barcode parser
    from node.service import Node

    node = Node.open(args.db)
    try:
        found = stocktake.sessions(node)
    finally:
        node.close()
    if args.json:
        _print_json([status_json(s) for s in found])
    else:
        for s in found:
            print(_summary(s))
        if not found:
            print("no stocktakes here yet: open one with `kucun node stocktake open`")
    return 0
