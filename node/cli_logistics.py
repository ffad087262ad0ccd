"""`kucun node transfer …`, `kucun node po …`, `kucun node documents`."""

from __future__ import annotations

import argparse
import json

from node import logistics
from node.service import Node
from protocol.events import document_header
from protocol.units import format_qty

LINES_HELP = "lines as SKU=QTY, e.g. A1=3 RICE=1.250"


def register(
    sub: argparse._SubParsersAction,
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
) -> None:
    """The logistics commands; `db` and `as_json` are node.cli's shared --db and --json."""
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
        description="Ship stock to another location (it goes in transit).",
    )
    p.add_argument("--to", required=True, help="receiving location, e.g. S02")
    p.add_argument("lines", nargs="+", metavar="SKU=QTY", help=LINES_HELP)
    p.set_defaults(func=cmd_ship)
    p = tsub.add_parser(
        "receive",
        parents=[db],
        help="receive an inbound transfer",
        description="Receive an inbound transfer; by default all it lists.",
    )
    p.add_argument("doc", metavar="DOC", help="the transfer's document id, e.g. W01-4")
    p.add_argument(
        "lines", nargs="*", metavar="SKU=QTY", help="what actually arrived, if it differs"
    )
    p.set_defaults(func=cmd_receive_transfer)

    po = sub.add_parser("po", help="purchase orders (采购单)", description="Purchase orders.")
    psub = po.add_subparsers(dest="po_command", required=True, metavar="COMMAND")
    p = psub.add_parser(
        "receive",
        parents=[db],
        help="receive against a purchase order",
        description="Receive against a purchase order; by default all that is outstanding.",
    )
    p.add_argument("doc", metavar="DOC", help="the purchase order's id, e.g. PO-S01-1")
    p.add_argument("lines", nargs="*", metavar="SKU=QTY", help="what arrived, if partial")
    p.set_defaults(func=cmd_receive_po)

    p = sub.add_parser(
        "documents",
        parents=[db, as_json],
        help="open orders and transfers for this store",
        description="List open purchase orders and transfers.",
    )
    p.set_defaults(func=cmd_documents)


def cmd_ship(args) -> int:
    node = Node.open(args.db)
    events = logistics.ship_transfer(node, args.to, logistics.parse_lines(node, args.lines))
    print(f"shipped transfer {document_header(events).doc} to {args.to}")
    return 0


def cmd_receive_transfer(args) -> int:
    return _receive(args, logistics.receive_transfer, "received transfer")


def cmd_receive_po(args) -> int:
    return _receive(args, logistics.receive_purchase_order, "received against")


def _receive(args, receive, verb: str) -> int:
    """Book what arrived on a document (all it lists when no lines are given)."""
    node = Node.open(args.db)
    lines = logistics.parse_lines(node, args.lines) if args.lines else None
    receive(node, args.doc, lines)
    _, status = logistics.document(node, args.doc)
    print(f"{verb} {args.doc}: {status.status}")
    return 0


def cmd_documents(args) -> int:
    node = Node.open(args.db)
    items = [
        {
            "doc": s.doc,
            "type": s.type,
            "status": s.status,
            "lines": [
                {
                    "sku": line.sku,
                    "expected": format_qty(line.expected),
                    "done": format_qty(line.done),
                }
                for line in s.lines
            ],
        }
        for s in logistics.open_documents(node)
    ]
    if args.json:
        print(json.dumps({"items": items}, ensure_ascii=False))
    else:
        for item in items:
            print(f"{item['doc']:<20} {item['type']:<15} {item['status']}")
        if not items:
            print("no open orders or transfers")
    return 0
