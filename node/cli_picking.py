"""`kucun node picks …`: the online orders head office routed to this store, picking
them, what the store cannot supply, and the sale that hands them over.

Parsing and printing only; the work is in node.picking. Quantities are decimal strings in
the product's unit, like everywhere on the command line.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from node.errors import NodeError
from protocol import i18n
from protocol.i18n import Message
from protocol.units import format_money, format_qty, parse_qty

if TYPE_CHECKING:  # the ledger and the sale are imported by the commands that use them:
    # every `kucun` command would otherwise load the barcode parser at start
    from node import picking

i18n.register(
    {
        "{doc}  {order}  {fulfilment}  {customer}  {status}  {lines}": (
            "{doc}  {order}  {fulfilment}  {customer}  {status}  {lines}"
        ),
        "no online orders to pick at this store": "本店没有待拣货的线上订单",
        "picking {doc}: pick {pick}": "正在拣货 {doc}：拣货单 {pick}",
        "{doc}: short recorded as {short}": "{doc}：已记录缺货 {short}",
        "{doc} handed over: sale {sale}, {total}": "{doc} 已交付：销售单 {sale}，金额 {total}",
        "{line!r}: write SKU=QTY, e.g. A1=2": "{line!r}：请写成 SKU=数量，例如 A1=2",
        "{line!r}: {reason}": "{line!r}：{reason}",
        "give the ledger's file with --db": "请用 --db 指定账本文件",
    }
)

_DESCRIPTION = """\
Head office routes each online order (线上订单) to a store that holds its stock; the store's
tills receive it as a pick request. Pick it, then sell it: the sale cites the order, and
the order's status at head office follows (routed → picking → fulfilled, or short).

  list    the orders still to pick here (--all: every order routed here)
  start   post a pick for ORDER: somebody is picking it
  short   record what this store cannot supply: short ORDER A1=1 B2=0.500
  sell    sell ORDER's lines at the order's prices (the sale cites the order)
"""


def register(
    sub: argparse._SubParsersAction,
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
) -> None:
    """The `picks` command; `db` and `as_json` are node.cli's shared options."""
    # the options of its own, not required: `picks --db F` lists, and a subcommand takes
    # its own required --db (`picks start ORD --db F`)
    top = sub.add_parser(
        "picks",
        help="online orders to pick at this store (线上订单)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--db", help="path of the node's SQLite ledger, e.g. store.db")
    top.add_argument("--json", action="store_true", help="print JSON instead of text")
    top.add_argument("--all", action="store_true", help="every order routed here, not only open")
    top.set_defaults(func=cmd_list)
    psub = top.add_subparsers(dest="picks_command", metavar="COMMAND")

    p = psub.add_parser("list", parents=[db, as_json], help="orders still to pick")
    p.add_argument("--all", action="store_true", help="every order routed here")
    p.set_defaults(func=cmd_list)

    p = psub.add_parser("start", parents=[db, as_json], help="start picking an order")
    p.add_argument("order", metavar="ORDER", help="the order's document, e.g. ORD-S01-3")
    p.set_defaults(func=cmd_start)

    p = psub.add_parser("short", parents=[db, as_json], help="what the store cannot supply")
    p.add_argument("order", metavar="ORDER")
    p.add_argument("lines", nargs="+", metavar="SKU=QTY", help="e.g. A1=1 B2=0.500")
    p.add_argument("--note", help="why, e.g. damaged")
    p.set_defaults(func=cmd_short)

    p = psub.add_parser("sell", parents=[db, as_json], help="sell an order's lines")
    p.add_argument("order", metavar="ORDER")
    p.add_argument("--tender", nargs="+", default=["cash"], help="how it is paid (default: cash)")
    p.add_argument(
        "--beyond-stock",
        action="store_true",
        help="sell even where the ledger holds less (the shelf was checked)",
    )
    p.set_defaults(func=cmd_sell)


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False))


def pick_json(p: picking.Pick) -> dict[str, object]:
    return {
        "doc": p.doc,
        "order": p.order_id,
        "fulfilment": p.fulfilment,
        "customer": p.customer,
        "note": p.note,
        "status": p.status,
        "lines": [
            {
                "sku": x.sku,
                "qty": format_qty(x.qty),
                "price": None if x.unit_price is None else format_money(x.unit_price),
            }
            for x in p.lines
        ],
    }


def parse_lines(texts: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for text in texts:
        sku, sep, qty = text.partition("=")
        if not sep or not sku.strip():
            raise NodeError("{line!r}: write SKU=QTY, e.g. A1=2", line=text)
        try:
            out[sku.strip()] = out.get(sku.strip(), 0) + parse_qty(qty.strip())
        except ValueError as exc:
            raise NodeError("{line!r}: {reason}", line=text, reason=exc) from None
    return out


def cmd_list(args) -> int:
    from node import picking
    from node.service import Node

    if not args.db:
        raise NodeError("give the ledger's file with --db")
    node = Node.open(args.db)
    try:
        found = picking.picks(node, every=args.all)
    finally:
        node.close()
    if args.json:
        _print_json([pick_json(p) for p in found])
        return 0
    for p in found:
        lines = ", ".join(f"{x.sku}×{format_qty(x.qty)}" for x in p.lines)
        print(
            Message(
                "{doc}  {order}  {fulfilment}  {customer}  {status}  {lines}",
                doc=p.doc,
                order=p.order_id,
                fulfilment=p.fulfilment,
                customer=p.customer or "-",
                status=p.status,
                lines=lines,
            )
        )
    if not found:
        print(Message("no online orders to pick at this store"))
    return 0


def cmd_start(args) -> int:
    from node import picking
    from node.service import Node

    node = Node.open(args.db)
    try:
        started = picking.start(node, args.order)
    finally:
        node.close()
    if args.json:
        _print_json({"order": args.order, "pick": started})
    else:
        print(Message("picking {doc}: pick {pick}", doc=args.order, pick=started))
    return 0


def cmd_short(args) -> int:
    from node import picking
    from node.service import Node

    node = Node.open(args.db)
    try:
        done = picking.short(node, args.order, parse_lines(args.lines), args.note)
    finally:
        node.close()
    if args.json:
        _print_json({"order": args.order, "short": done})
    else:
        print(Message("{doc}: short recorded as {short}", doc=args.order, short=done))
    return 0


def cmd_sell(args) -> int:
    from node import picking
    from node.sales import post_sale
    from node.service import Node
    from node.shifts import current_shift

    node = Node.open(args.db)
    try:
        basket = picking.basket(node, args.order)
        shift = current_shift(node)
        sale = post_sale(
            node,
            basket,
            args.tender,
            shift=shift.doc if shift is not None else None,
            confirmed_beyond_stock=args.beyond_stock,
            order=args.order,
        )
    finally:
        node.close()
    if args.json:
        _print_json({"order": args.order, "sale": sale.doc, "total": format_money(sale.total)})
    else:
        print(
            Message(
                "{doc} handed over: sale {sale}, {total}",
                doc=args.order,
                sale=sale.doc,
                total=format_money(sale.total),
            )
        )
    return 0
