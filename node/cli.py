"""`kucun node …`: the node's command line. Parsing only; the work is in node.service."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from devices import PROTOCOL_NAMES
from node import (
    cli_audit,
    cli_logistics,
    cli_picking,
    cli_shifts,
    cli_stocktake,
    cli_users,
    shifts,
)
from node.errors import NodeError
from node.service import Node
from protocol import i18n, tenders
from protocol.events import document_header
from protocol.i18n import Message
from protocol.units import format_money, format_qty

i18n.register(
    {
        "give --config FILE, or both --node and --nats": (
            "请给出 --config FILE，或同时给出 --node 和 --nats"
        ),
        "node {node} at location {location} ready in {db}": (
            "节点 {node}（门店 {location}）已就绪：{db}"
        ),
        "note: {note}": "提示：{note}",
        "could not reach NATS at {nats} to check that node id {node} is free; the first sync "
        "checks it": (
            "无法连接 {nats} 上的 NATS，未能确认节点编号 {node} 未被占用；首次同步时会再检查"
        ),
        "node id {node} is already taken: {taken}. Give this ledger its own id, e.g. "
        "`kucun node init --db {db} {other} --nats {nats}`": (
            "节点编号 {node} 已被占用：{taken}。请给此账本自己的编号，例如 "
            "`kucun node init --db {db} {other} --nats {nats}`"
        ),
        "cannot read node config {path}: {reason}": "无法读取节点配置 {path}：{reason}",
        "node config {path} lacks {missing} in its [node] table": (
            "节点配置 {path} 的 [node] 表缺少 {missing}"
        ),
        "product {sku} saved": "商品 {sku} 已保存",
        "received {qty} {sku} (document {doc})": "已入库 {qty} × {sku}（单据 {doc}）",
        "sold {qty} {sku}, total {total}, paid {paid} (document {doc})": (
            "已售 {qty} × {sku}，合计 {total}，支付 {paid}（单据 {doc}）"
        ),
        "change {change}": "找零 {change}",
        "counted {qty} {sku}": "已盘点 {sku}：{qty}",
        "no stock": "没有库存",
        "error: document {doc} has not come in {seconds} s: check the number, and that its "
        "sender has synced": (
            "错误：单据 {doc} 在 {seconds} 秒内未到达：请核对单号，并确认发出方已同步"
        ),
        "sent {sent} events, pulled {pulled}; {backlog} not yet sent, {unconfirmed} not yet "
        "confirmed by the hub": (
            "已发送 {sent} 条事件，已接收 {pulled} 条；"
            "{backlog} 条未发送，{unconfirmed} 条总部尚未确认"
        ),
        "warning: the hub has not confirmed {n} events yet; they are safe in NATS and on this "
        "node. Is `kucun hub serve` running?": (
            "警告：总部尚未确认 {n} 条事件；它们已安全保存在 NATS 和本节点。"
            "`kucun hub serve` 在运行吗？"
        ),
    }
)

#: `sync --once` sent everything, but the hub has not confirmed it in time.
EXIT_UNCONFIRMED = 3
#: `sync` refused: another ledger writes this node id, or this ledger's file was edited.
EXIT_REFUSED = 4

SKU_HELP = "the product's SKU, e.g. A1"


def shared_option(*flags: str, **kwargs) -> argparse.ArgumentParser:
    """An option several commands share, as an argparse parent parser (`parents=[...]`):
    defined once, with one help text."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(*flags, **kwargs)
    return parent


def register(subparsers: argparse._SubParsersAction) -> None:
    db = shared_option(
        "--db", required=True, help="path of the node's SQLite ledger, e.g. store.db"
    )
    as_json = shared_option("--json", action="store_true", help="print JSON instead of text")
    nats = shared_option("--nats", help="override the NATS URL stored at init")
    node = subparsers.add_parser(
        "node",
        help="a store or warehouse node (门店/仓库节点)",
        description="Run a store or warehouse node.",
    )
    sub = node.add_subparsers(dest="node_command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "init", parents=[db], help="create a node ledger", description="Create a node ledger."
    )
    p.add_argument(
        "--config",
        metavar="TOML",
        help="the node config printed by `kucun hub add-node` (id, location, NATS "
        "URL and NKEY seed); replaces --node/--location/--nats/--nkey-seed",
    )
    p.add_argument("--node", help="this replica's id, e.g. S01 or S01-T2")
    p.add_argument("--location", help="the stock location this node sells from (default: --node)")
    p.add_argument("--nats", help="NATS URL of the hub, e.g. nats://127.0.0.1:4222")
    p.add_argument("--nkey-seed", help="this node's NATS NKEY seed (from `kucun hub add-node`)")
    p.add_argument(
        "--jetstream-domain",
        help="head office's JetStream domain (kucun) when --nats is the store's own server "
        "(`kucun nats serve --leaf`)",
    )
    p.add_argument("--user", default="admin", help="user recorded on events (default: admin)")
    p.set_defaults(func=cmd_init)

    product = sub.add_parser("product", help="products (商品)", description="Manage products.")
    psub = product.add_subparsers(dest="product_command", required=True, metavar="COMMAND")
    p = psub.add_parser(
        "add",
        parents=[db],
        help="add or update a product",
        description="Add a product, or update its fields.",
    )
    p.add_argument("sku", metavar="SKU", help="the product's SKU, e.g. A1 (updated if it exists)")
    p.add_argument("--name", required=True, help="the product's name")
    p.add_argument("--barcode", help="GTIN / EAN-13 printed on the pack")
    p.add_argument("--price", help="selling price per unit, e.g. 12.80")
    p.add_argument("--unit", default="pcs", choices=["pcs", "kg"], help="base unit (default pcs)")
    p.set_defaults(func=cmd_product_add)

    p = sub.add_parser(
        "receive",
        parents=[db],
        help="receive stock from a supplier (入库)",
        description="Receive QTY of SKU into this node's location.",
    )
    p.add_argument("sku", metavar="SKU", help=SKU_HELP)
    p.add_argument("qty", metavar="QTY", help='quantity, e.g. "10" or "1.250"')
    p.add_argument("--cost", help="unit cost, e.g. 9.50")
    p.add_argument("--lot", help="lot or batch number printed on the pack")
    p.add_argument("--expiry", help="expiry date, e.g. 2027-01-31")
    p.add_argument("--supplier", help="who delivered it")
    p.set_defaults(func=cmd_receive)

    p = sub.add_parser(
        "sell",
        parents=[db],
        help="sell to a customer (销售)",
        description="Sell QTY of SKU from this node's location.",
    )
    p.add_argument("sku", metavar="SKU", help=SKU_HELP)
    p.add_argument("qty", metavar="QTY", help='quantity, e.g. "2" or "0.350"')
    p.add_argument("--price", help="unit price, default the product's price")
    p.add_argument(
        "--tender",
        action="append",
        metavar="METHOD[:AMOUNT]",
        help=f"how the customer pays: {', '.join(tenders.BUILT_IN)}, or a method head "
        "office configured; repeat to split, e.g. --tender card:5.00 --tender cash (one "
        "tender may leave out its amount and pays the rest; only cash gives change). "
        "Default: cash for the whole total",
    )
    p.set_defaults(func=cmd_sell)

    p = sub.add_parser(
        "count",
        parents=[db],
        help="record a stocktake (盘点)",
        description="Stocktake: QTY is what is on the shelf now.",
    )
    p.add_argument("sku", metavar="SKU", help=SKU_HELP)
    p.add_argument("qty", metavar="QTY", help="what is on the shelf now, e.g. 7 (0 allowed)")
    p.add_argument("--lot", help="count only this lot")
    p.set_defaults(func=cmd_count)

    p = sub.add_parser(
        "stock", parents=[db, as_json], help="show stock on hand (库存)", description="Show stock."
    )
    p.add_argument("--sku", help="only this product")
    p.add_argument("--location", help="only this location, e.g. S01")
    p.set_defaults(func=cmd_stock)

    p = sub.add_parser(
        "sync",
        parents=[db, nats, as_json],
        help="send events to the hub and fetch its updates (同步)",
        description="Push unsent events to the hub and pull hub events. With --once and "
        "--json: a one-line JSON summary.",
        epilog=f"exit codes with --once: 0 synced and confirmed; 1 error (e.g. hub "
        f"unreachable); {EXIT_UNCONFIRMED} sent but not yet confirmed by the hub; "
        f"{EXIT_REFUSED} refused: another ledger uses this node id, or this ledger's file "
        "was edited (nothing was sent or pulled)",
    )
    p.add_argument("--once", action="store_true", help="sync until caught up, then exit")
    p.add_argument(
        "--interval",
        type=float,
        default=5.0,
        help="seconds between syncs without --once (default 5)",
    )
    p.add_argument(
        "--confirm-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for the hub to confirm ingesting (default 10)",
    )
    p.add_argument(
        "--wait-for",
        metavar="DOC",
        help="with --once: sync again until document DOC is here (e.g. the transfer W01-4 "
        "a warehouse just shipped, which the hub routes to this store), for at most "
        "--confirm-timeout seconds; exit 1 if it has not come",
    )
    p.set_defaults(func=cmd_sync)

    cli_logistics.register(sub, db=db, as_json=as_json)
    cli_users.register(sub, db=db)
    cli_audit.register(sub, db=db, as_json=as_json)
    cli_shifts.register(sub, db=db, as_json=as_json)
    cli_stocktake.register(sub, db=db, as_json=as_json)
    cli_picking.register(sub, db=db, as_json=as_json)

    p = sub.add_parser(
        "run",
        parents=[db, nats],
        help="the till (收银台)",
        description="Run the till: log in, sell, pay, return, shifts; syncs in the background "
        "and logs to <db>.log.",
    )
    p.add_argument(
        "--sync-interval",
        type=float,
        default=5.0,
        help="seconds between syncs (default 5; a sale also triggers one)",
    )
    p.add_argument(
        "--scanner",
        metavar="URL",
        help="serial barcode scanner: /dev/ttyUSB0, /dev/ttyACM0, socket://h:p …",
    )
    p.add_argument(
        "--scanner-suffix",
        default="cr",
        choices=["cr", "lf", "crlf"],
        help="what the scanner sends after each code (default cr)",
    )
    p.add_argument("--scale", metavar="URL", help="serial weighing scale")
    p.add_argument(
        "--scale-protocol",
        default="mt-sics",
        choices=PROTOCOL_NAMES,
        help="the scale's protocol (default mt-sics)",
    )
    p.add_argument(
        "--printer",
        metavar="URL",
        help="ESC/POS receipt printer: /dev/ttyUSB1 or any pyserial URL (default: none, "
        "receipts only on screen)",
    )
    p.add_argument(
        "--printer-width",
        type=int,
        choices=(32, 42, 48),
        default=32,
        help="characters per receipt line: 32 for 58 mm paper (default), 42 or 48 for 80 mm",
    )
    p.add_argument(
        "--lock-after",
        type=idle_seconds,
        default=300.0,
        metavar="SECONDS",
        help="lock the till after this many idle seconds (default 300; 0: never)",
    )
    p.add_argument(
        "--lang",
        choices=["zh-CN", "en"],
        help="the till's language (default: KUCUN_LANG, else zh-CN)",
    )
    p.set_defaults(func=cmd_run)


def _open(args) -> Node:
    return Node.open(args.db)


def cmd_init(args) -> int:
    node_id, location, nats, seed = args.node, args.location, args.nats, args.nkey_seed
    if args.config:
        node_id, location, nats, seed = _read_config(args.config)
    if not node_id or not nats:
        raise NodeError("give --config FILE, or both --node and --nats")
    unchecked = _check_id_free(args.db, node_id, location, nats, seed)
    node = Node.init(args.db, node_id, location, nats, args.user, seed, args.jetstream_domain)
    print(
        Message(
            "node {node} at location {location} ready in {db}",
            node=node.config.node,
            location=node.config.location,
            db=args.db,
        )
    )
    if unchecked:
        print(Message("note: {note}", note=unchecked), file=sys.stderr)
    return 0


def _check_id_free(
    db: str, node_id: str, location: str | None, nats: str, seed: str | None
) -> Message | None:
    """Refuse an id that already has a log (in the stream or at the hub): a second ledger
    on it would lose data. Returns a note when NATS could not be asked (the first sync
    checks again); a file already initialised as this node is its own log, not checked."""
    from node import sync
    from node.errors import NotInitialised
    from node.service import NodeConfig

    try:
        if Node.open(db).config.node == node_id:
            return None
    except NotInitialised:
        pass
    config = NodeConfig(node_id, location or node_id, nats, "", seed)
    try:
        taken = asyncio.run(sync.id_taken(config, timeout=2.0))
    except NodeError:
        return Message(
            "could not reach NATS at {nats} to check that node id {node} is free; "
            "the first sync checks it",
            nats=nats,
            node=node_id,
        )
    if taken:
        raise NodeError(
            "node id {node} is already taken: {taken}. Give this ledger its own id, e.g. "
            "`kucun node init --db {db} {other} --nats {nats}`",
            node=node_id,
            taken=taken,
            db=db,
            other=sync.another_id(node_id, config.location),
            nats=nats,
        )
    return None


def _read_config(path: str) -> tuple[str, str, str, str | None]:
    """The [node] table of a TOML node config."""
    import tomllib

    try:
        with open(path, "rb") as f:
            table = tomllib.load(f).get("node", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise NodeError(
            "cannot read node config {path}: {reason}", path=path, reason=str(exc)
        ) from None
    missing = [k for k in ("id", "nats") if not isinstance(table.get(k), str)]
    if missing:
        raise NodeError(
            "node config {path} lacks {missing} in its [node] table",
            path=path,
            missing=", ".join(missing),
        )
    return table["id"], table.get("location"), table["nats"], table.get("nkey_seed")


def cmd_product_add(args) -> int:
    node = _open(args)
    node.add_product(args.sku, args.name, args.barcode, args.price, args.unit)
    print(Message("product {sku} saved", sku=args.sku))
    return 0


def cmd_receive(args) -> int:
    node = _open(args)
    events = node.receive(args.sku, args.qty, args.cost, args.lot, args.expiry, args.supplier)
    print(
        Message(
            "received {qty} {sku} (document {doc})",
            qty=args.qty,
            sku=args.sku,
            doc=document_header(events).doc,
        )
    )
    return 0


def cmd_sell(args) -> int:
    node = _open(args)
    given = ["cash"] if args.tender is None else args.tender
    shift = shifts.current_shift(node)  # an open shift's Z report counts this sale
    events = node.sell(
        args.sku, args.qty, args.price, given, shift=shift.doc if shift is not None else None
    )
    header = document_header(events)
    total = sum(t.amount for t in header.tenders)
    paid = ", ".join(f"{t.method} {format_money(t.amount)}" for t in header.tenders)
    print(
        Message(
            "sold {qty} {sku}, total {total}, paid {paid} (document {doc})",
            qty=args.qty,
            sku=args.sku,
            total=format_money(total),
            paid=paid,
            doc=header.doc,
        )
    )
    change = tenders.change(given, total)
    if change:
        print(Message("change {change}", change=format_money(change)))
    return 0


def cmd_count(args) -> int:
    node = _open(args)
    node.count(args.sku, args.qty, args.lot)
    print(Message("counted {qty} {sku}", qty=args.qty, sku=args.sku))
    return 0


def cmd_stock(args) -> int:
    node = _open(args)
    rows = node.stock(sku=args.sku, location=args.location)
    if args.json:
        items = [
            {"location": r.location, "sku": r.sku, "lot": r.lot, "qty": format_qty(r.qty)}
            for r in rows
        ]
        print(json.dumps({"items": items}, ensure_ascii=False))
        return 0
    if not rows:
        print(Message("no stock"))
        return 0
    print(f"{'LOCATION':<10} {'SKU':<16} {'LOT':<12} {'QTY':>12}")
    for r in rows:
        print(f"{r.location:<10} {r.sku:<16} {r.lot or '-':<12} {format_qty(r.qty):>12}")
    return 0


def cmd_sync(args) -> int:
    from node import sync  # imported here: nats-py is only needed by sync commands

    node = _open(args)
    if not args.once:
        return asyncio.run(sync.run_forever(node, args.nats, args.interval))
    deadline = time.monotonic() + args.confirm_timeout
    while True:
        try:
            summary = asyncio.run(
                _sync_with_progress(node, args.nats, not args.json, args.confirm_timeout)
            )
        except sync.SyncRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        if not args.wait_for or node.read.document_header(args.wait_for) is not None:
            break
        if time.monotonic() > deadline:
            print(
                Message(
                    "error: document {doc} has not come in {seconds} s: check the number, "
                    "and that its sender has synced",
                    doc=args.wait_for,
                    seconds=f"{args.confirm_timeout:g}",
                ),
                file=sys.stderr,
            )
            return 1
        time.sleep(0.5)
    if args.json:
        print(json.dumps(summary.as_dict()))
    else:
        print(
            Message(
                "sent {sent} events, pulled {pulled}; {backlog} not yet sent, {unconfirmed} "
                "not yet confirmed by the hub",
                sent=summary.sent_events,
                pulled=summary.pulled_events,
                backlog=summary.backlog,
                unconfirmed=summary.unconfirmed,
            )
        )
    if summary.unconfirmed:
        print(
            Message(
                "warning: the hub has not confirmed {n} events yet; they are safe in NATS and "
                "on this node. Is `kucun hub serve` running?",
                n=summary.unconfirmed,
            ),
            file=sys.stderr,
        )
        return EXIT_UNCONFIRMED
    return 0


async def _sync_with_progress(node: Node, url: str | None, show: bool, confirm_timeout: float):
    """A progress bar (events sent / total, rate) on a terminal; nothing otherwise."""
    from node import sync

    if not (show and sys.stderr.isatty()):
        return await sync.sync_once(node, url, confirm_timeout=confirm_timeout)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed or 0:,.0f} ev/s")

    columns = (
        TextColumn("sending events"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("sending events", total=None)

        def progress(sent: int, total: int) -> None:
            bar.update(task, total=total, completed=sent)

        return await sync.sync_once(node, url, progress, confirm_timeout=confirm_timeout)


def idle_seconds(text: str) -> float:
    """`--lock-after`: seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also NaN
        raise argparse.ArgumentTypeError(f"{text!r}: give idle seconds, e.g. 300, or 0 for never")
    return value


def cmd_run(args) -> int:
    import os

    if args.lang:  # before the till's modules load: their key labels are read at import
        os.environ["KUCUN_LANG"] = args.lang
    from node.till.app import DeviceConfig, TillApp, log_file_for, log_to_file

    node = _open(args)
    devices = DeviceConfig(args.scanner, args.scanner_suffix, args.scale, args.scale_protocol)
    app = TillApp(
        node,
        devices=devices,
        printer=args.printer,
        printer_width=args.printer_width,
        nats_url=args.nats,
        sync_interval=args.sync_interval,
        lock_after_s=args.lock_after,
    )
    with log_to_file(log_file_for(args.db)):
        app.run()
    return 0


def handle_error(exc: BaseException) -> int | None:
    """Exit code for errors this package knows how to explain; None for others."""
    if isinstance(exc, NodeError):
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return None
