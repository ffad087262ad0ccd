"""`kucun node transfer …`, `kucun node po …`, `kucun node documents`."""

from __future__ import annotations

import argparse
import json

from node.service import Node
from protocol import i18n
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
        "receive-blind",
        parents=[db, approver],
        help="receive a delivery without an order, several lines at once",
        description="Receive a delivery no purchase order announced, as one receipt "
        "document from the supplier: each line with its cost, lot and expiry. --approver "
        "and --pin record the manager who confirmed it.",
    )
    p.add_argument("--supplier", required=True, help="who delivered, e.g. ACME")
    p.add_argument("lines", nargs="+", metavar="LINE", help=RECEIPT_LINES_HELP)
    p.set_defaults(func=cmd_receive_blind)

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
    doc = document_header(events).doc
    print(i18n.Message("shipped transfer {doc} to {to}", doc=doc, to=args.to))
    return 0


def cmd_receive_transfer(args) -> int:
    from node import logistics

    return _receive(args, logistics.receive_transfer, "received transfer {doc}: {status}")


def cmd_receive_po(args) -> int:
    from node import logistics

    return _receive(args, logistics.receive_purchase_order, "received against {doc}: {status}")


def _receive(args, receive, said: str) -> int:
    """Book what arrived on a document (all that is outstanding when no lines are given)."""
    from node import logistics

    node = Node.open(args.db)
    lines = logistics.parse_receipt_lines(node, args.lines) if args.lines else None
    recount = logistics.parse_receipt_lines(node, args.recount) if args.recount else None
    confirm = logistics.Confirmation(args.force, recount, args.approver, args.pin)
    events = receive(node, args.doc, lines, confirm)
    _, status = logistics.document(node, args.doc)
    receipt = document_header(events).doc
    done = i18n.Message(said, doc=args.doc, status=status_word(status.status))
    print(i18n.Message("{done} (receipt {receipt})", done=done, receipt=receipt))
    for alert in status.alerts:
        print(i18n.Message("alert: {message}", message=alert.message))
    return 0


def cmd_receive_blind(args) -> int:
    """Book a delivery without an order: one receipt, a movement per line."""
    from node import logistics
    from node.users import verify_approver

    node = Node.open(args.db)
    lines = logistics.parse_receipt_lines(node, args.lines)
    who = verify_approver(node, args.approver, args.pin) if args.approver else None
    events = logistics.receive_blind(node, args.supplier, lines, who)
    receipt = document_header(events).doc
    print(
        i18n.Message(
            "received {count} lines from {supplier} (receipt {receipt})",
            count=len(events) - 1,
            supplier=args.supplier.strip(),
            receipt=receipt,
        )
    )
    return 0


def cmd_reverse(args) -> int:
    from node import logistics

    node = Node.open(args.db)
    events = logistics.reverse_receipt(node, args.receipt, args.approver, args.pin)
    receipt = node.read.document_header(args.receipt)
    target = receipt.ref if receipt is not None else None
    status = node.read.document(target) if target else None
    reversal = document_header(events).doc
    if status is not None:
        print(
            i18n.Message(
                "reversed receipt {receipt} ({reversal}): {doc} is {status}",
                receipt=args.receipt,
                reversal=reversal,
                doc=target,
                status=status_word(status.status),
            )
        )
    else:
        print(
            i18n.Message(
                "reversed receipt {receipt} ({reversal})", receipt=args.receipt, reversal=reversal
            )
        )
    return 0


def cmd_accept(args) -> int:
    from node import logistics

    node = Node.open(args.db)
    events = logistics.accept_receipts(node, args.doc, args.approver, args.pin)
    print(
        i18n.Message(
            "accepted what arrived on {doc} ({acceptance})",
            doc=args.doc,
            acceptance=document_header(events).doc,
        )
    )
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
        print(f"{s.doc:<20} {s.type:<15} {status_word(s.status)}")
        for line in s.lines:
            if line.discrepancy:
                arrived = i18n.Message(
                    "{sku}: {done} arrived of {target} ({discrepancy})",
                    sku=line.sku,
                    done=format_qty(line.done),
                    target=format_qty(line.target),
                    discrepancy=format_qty(line.discrepancy),
                )
                print(f"  {arrived}")
        for r in s.receipts:
            receipt = i18n.Message(
                "receipt {receipt} by {user} at {origin}, {at}",
                receipt=r.doc,
                user=r.user,
                origin=r.origin,
                at=r.at,
            )
            if r.reversed_by:
                receipt = i18n.Message(
                    "{receipt}, reversed by {by}", receipt=receipt, by=", ".join(r.reversed_by)
                )
            print(f"  {receipt}")
        for alert in s.alerts:
            print(f"  {i18n.Message('alert: {message}', message=alert.message)}")
    if not statuses:
        print(i18n.Message("no open orders or transfers"))
    return 0


def status_word(status: str) -> str:
    """A document's status: its id in English (as `--json` gives it), words in zh-CN."""
    if i18n.language() == "en":
        return status
    return i18n.Message(status.replace("_", " ")).text()


i18n.register(
    {
        "shipped transfer {doc} to {to}": "已发出调拨单 {doc}，发往 {to}",
        "received {count} lines from {supplier} (receipt {receipt})": (
            "已收 {supplier} 的 {count} 行货（收货单 {receipt}）"
        ),
        "received transfer {doc}: {status}": "已收调拨单 {doc}：{status}",
        "received against {doc}: {status}": "已按 {doc} 收货：{status}",
        "{done} (receipt {receipt})": "{done}（收货单 {receipt}）",
        "alert: {message}": "警示：{message}",
        "reversed receipt {receipt} ({reversal}): {doc} is {status}": (
            "已冲销收货单 {receipt}（{reversal}）：{doc} 现为{status}"
        ),
        "reversed receipt {receipt} ({reversal})": "已冲销收货单 {receipt}（{reversal}）",
        "accepted what arrived on {doc} ({acceptance})": "已接受 {doc} 的到货（{acceptance}）",
        "{sku}: {done} arrived of {target} ({discrepancy})": (
            "{sku}：应到 {target}，实到 {done}（{discrepancy}）"
        ),
        "{receipt}, reversed by {by}": "{receipt}，已被 {by} 冲销",
        "no open orders or transfers": "没有未完成的订单或调拨",
    }
)
