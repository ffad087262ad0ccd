"""`kucun node transfer …`, `kucun node po …`, `kucun node documents`."""

from __future__ import annotations

import argparse
import json

from node.service import Node
from protocol.documents import DocumentStatus
from protocol.events import document_header
from protocol.units import format_money, format_qty

LINES_HELP = "lines as SKU=QTY, e.g. A1=3 RICE=1.250"
RECEIPT_LINES_HELP = (
    "what arrived, if it differs from what is outstanding: SKU=QTY[@COST][:LOT[:EXPIRY]], "
    "e.g. A1=5, A1=5@2.30 (unit cost), A1=5:L1:2027-01-31 (lot and expiry); the code may "
    "be a barcode or a GS1 element string such as (01)06901234567892(10)L1(17)270131=5"
)


def register(
    sub: argparse._SubParsersAction,
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
) -> None:
    """The logistics commands; `db` and `as_json` are node.cli's shared --db and --json."""
    approver = argparse.ArgumentParser(add_help=False)
    approver.add_argument("--approver", metavar="USER", help="the manager who confirms")
    approver.add_argument("--pin", help="the manager's PIN")
    confirm = argparse.ArgumentParser(add_help=False)
    confirm.add_argument(
        "--recount",
        nargs="+",
        metavar="SKU=QTY",
        help="a second count of what arrived; it must agree with the lines when they differ "
        "from the order or shipment",
    )
    confirm.add_argument(
        "--force",
        action="store_true",
        help="record an extra receipt of a document already fully received (needs "
        "--approver and --pin)",
    )

    transfer = sub.add_parser(
        "transfer",
        help="ship or receive a transfer between stores (调拨)",
        description="Ship stock to another store, or receive it.",
    )
    tsub = transfer.add_subparsers(dest="transfer_command", required=True, metavar="COMMAND")
    p = tsub.add_parser(
        "ship",
        parents=[db],
        help="ship lines to another location",
        description="Ship stock to another location (it goes in transit at its average cost).",
    )
    p.add_argument("--to", required=True, help="receiving location, e.g. S02")
    p.add_argument("lines", nargs="+", metavar="SKU=QTY", help=LINES_HELP)
    p.set_defaults(func=cmd_ship)
    p = tsub.add_parser(
        "receive",
        parents=[db, confirm, approver],
        help="receive an inbound transfer",
        description="Receive an inbound transfer; by default all that was shipped, in the "
        "shipped lots and at the shipper's cost. A quantity that differs from the shipment "
        "needs --recount or a manager (--approver/--pin).",
    )
    p.add_argument("doc", metavar="DOC", help="the transfer's document id, e.g. W01-4")
    p.add_argument("lines", nargs="*", metavar="LINE", help=RECEIPT_LINES_HELP)
    p.set_defaults(func=cmd_receive_transfer)
    _resolution_commands(tsub, db, approver, "transfer", "W01-4")

    po = sub.add_parser("po", help="purchase orders (采购单)", description="Purchase orders.")
    psub = po.add_subparsers(dest="po_command", required=True, metavar="COMMAND")
    p = psub.add_parser(
        "receive",
        parents=[db, confirm, approver],
        help="receive against a purchase order",
        description="Receive against a purchase order; by default all that is outstanding, "
        "at the order's cost. More than ordered needs --recount or a manager "
        "(--approver/--pin); a fully received order needs --force and a manager.",
    )
    p.add_argument("doc", metavar="DOC", help="the purchase order's id, e.g. PO-S01-1")
    p.add_argument("lines", nargs="*", metavar="LINE", help=RECEIPT_LINES_HELP)
    p.set_defaults(func=cmd_receive_po)
    _resolution_commands(psub, db, approver, "purchase order", "PO-S01-1")

    p = sub.add_parser(
        "documents",
        parents=[db, as_json],
        help="open orders and transfers for this store",
        description="List open purchase orders and transfers, any received twice, and any "
        "where what arrived differs until a manager accepts it.",
    )
    p.add_argument("--all", action="store_true", help="also list finished ones")
    p.set_defaults(func=cmd_documents)


def _resolution_commands(
    sub: argparse._SubParsersAction,
    db: argparse.ArgumentParser,
    approver: argparse.ArgumentParser,
    what: str,
    example: str,
) -> None:
    """`reverse RECEIPT` and `accept DOC`: how a manager resolves a document received twice."""
    p = sub.add_parser(
        "reverse",
        parents=[db, approver],
        help="undo one receipt (a manager)",
        description=f"Reverse one receipt of a {what}: its lines go back out, citing the "
        f"{what}. Needs --approver and --pin.",
    )
    p.add_argument("receipt", metavar="RECEIPT", help="the receipt's id, e.g. S01-T2-7")
    p.set_defaults(func=cmd_reverse)
    p = sub.add_parser(
        "accept",
        parents=[db, approver],
        help="accept what arrived, differences included (a manager)",
        description=f"Accept what arrived on a {what} where it differs from what was "
        "expected: clears 'received twice' and takes it off the open list. Needs --approver "
        "and --pin.",
    )
    p.add_argument("doc", metavar="DOC", help=f"the {what}'s id, e.g. {example}")
    p.set_defaults(func=cmd_accept)


def cmd_ship(args) -> int:
    from node import logistics

    node = Node.open(args.db)
    events = logistics.ship_transfer(node, args.to, logistics.parse_lines(node, args.lines))
    print(f"shipped transfer {document_header(events).doc} to {args.to}")
    return 0


def cmd_receive_transfer(args) -> int:
    from node import logistics

    return _receive(args, logistics.receive_transfer, "received transfer")


def cmd_receive_po(args) -> int:
    from node import logistics

    return _receive(args, logistics.receive_purchase_order, "received against")


def _receive(args, receive, verb: str) -> int:
    """Book what arrived on a document (all that is outstanding when no lines are given)."""
    from node import logistics

    node = Node.open(args.db)
    lines = logistics.parse_receipt_lines(node, args.lines) if args.lines else None
    recount = logistics.parse_receipt_lines(node, args.recount) if args.recount else None
    confirm = logistics.Confirmation(args.force, recount, args.approver, args.pin)
    events = receive(node, args.doc, lines, confirm)
    _, status = logistics.document(node, args.doc)
    print(f"{verb} {args.doc}: {status.status} (receipt {document_header(events).doc})")
    for alert in status.alerts:
        print(f"alert: {alert.message}")
    return 0


def cmd_reverse(args) -> int:
    from node import logistics

    node = Node.open(args.db)
    events = logistics.reverse_receipt(node, args.receipt, args.approver, args.pin)
    receipt = node.read.document_header(args.receipt)
    target = receipt.ref if receipt is not None else None
    status = node.read.document(target) if target else None
    after = f": {target} is {status.status}" if status else ""
    print(f"reversed receipt {args.receipt} ({document_header(events).doc}){after}")
    return 0


def cmd_accept(args) -> int:
    from node import logistics

    node = Node.open(args.db)
    events = logistics.accept_receipts(node, args.doc, args.approver, args.pin)
    print(f"accepted what arrived on {args.doc} ({document_header(events).doc})")
    return 0


def _item(s: DocumentStatus) -> dict:
    return {
        "doc": s.doc,
        "type": s.type,
        "status": s.status,
        "lines": [
            {
                "sku": line.sku,
                "expected": format_qty(line.expected),
                "done": format_qty(line.done),
                "shipped": format_qty(line.shipped),
                "discrepancy": format_qty(line.discrepancy),
            }
            for line in s.lines
        ],
        "receipts": [
            {
                "doc": r.doc,
                "origin": r.origin,
                "user": r.user,
                "at": r.at,
                "approved_by": r.approved_by,
                "recounted": r.recounted,
                "reversed_by": r.reversed_by,
                "lines": [
                    {
                        "sku": x.sku,
                        "qty": format_qty(x.qty),
                        "unit_cost": None if x.unit_cost is None else format_money(x.unit_cost),
                        "lot": x.lot,
                        "expiry": x.expiry,
                    }
                    for x in r.lines
                ],
            }
            for r in s.receipts
        ],
        "accepted": s.accepted,
        "differences_accepted": s.differences_accepted,
        "alerts": [{"kind": a.kind, "message": a.message} for a in s.alerts],
    }


def cmd_documents(args) -> int:
    from node import logistics

    node = Node.open(args.db)
    statuses = logistics.open_documents(node, everything=args.all)
    if args.json:
        print(json.dumps({"items": [_item(s) for s in statuses]}, ensure_ascii=False))
        return 0
    for s in statuses:
        print(f"{s.doc:<20} {s.type:<15} {s.status}")
        for line in s.lines:
            if line.discrepancy:
                print(
                    f"  {line.sku}: {format_qty(line.done)} arrived of {format_qty(line.target)}"
                    f" ({format_qty(line.discrepancy)})"
                )
        for r in s.receipts:
            note = f", reversed by {', '.join(r.reversed_by)}" if r.reversed_by else ""
            print(f"  receipt {r.doc} by {r.user} at {r.origin}, {r.at}{note}")
        for alert in s.alerts:
            print(f"  alert: {alert.message}")
    if not statuses:
        print("no open orders or transfers")
    return 0
