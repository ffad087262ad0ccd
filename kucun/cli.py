"""`kucun`: one command for every part of the system."""

from __future__ import annotations

import argparse
import functools
import logging
import sqlite3
import sys
from collections.abc import Callable, Sequence

from hub import cli as hub_cli
from kucun import __version__, logs, natsserver
from ledger.sqlite import LedgerError
from node import cli as node_cli
from protocol import i18n

log = logging.getLogger("kucun")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kucun",
        description="kucun (库存): purchasing, sales and inventory for chains of small shops.",
    )
    parser.add_argument("--version", action="version", version=f"kucun {__version__}")
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="what is logged to stderr (default warning)",
    )
    parser.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="json: one structured object per line on stderr",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    nats = sub.add_parser(
        "nats",
        help="the embedded NATS server",
        description="Run the real nats-server with JetStream.",
    )
    nsub = nats.add_subparsers(dest="nats_command", required=True, metavar="COMMAND")
    p = nsub.add_parser(
        "serve",
        help="run nats-server with JetStream in the foreground",
        description="Run nats-server with JetStream in the foreground.",
    )
    p.add_argument("--port", type=int, default=4222, help="port (default 4222)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    p.add_argument("--data", default="nats-data", help="JetStream storage dir (default nats-data)")
    p.add_argument(
        "--hub-db",
        help="require NKEY credentials: the hub's and those of the "
        "nodes registered in this hub database (kucun hub add-node); SIGHUP reloads",
    )
    p.add_argument(
        "--leafnodes-port",
        type=int,
        metavar="PORT",
        help=f"head office: accept stores' own servers (--leaf) on this port, e.g. "
        f"{natsserver.DEFAULT_LEAFNODES_PORT}; JetStream then has the domain "
        f"{natsserver.HQ_DOMAIN}",
    )
    p.add_argument(
        "--leaf",
        metavar="URL",
        help="a store's own server, without JetStream, as a leaf of head office's at URL "
        "(e.g. nats://hq:7422): the store's tills keep seeing each other while its link is "
        f"down; init them with --jetstream-domain {natsserver.HQ_DOMAIN}",
    )
    p.set_defaults(func=_nats_serve)

    hub_cli.register(sub)
    node_cli.register(sub)
    _register_devices(sub)

    p = sub.add_parser(
        "demo",
        help="everything on loopback with sample data",
        description="Start NATS, a hub and a node with sample data, then open the till "
        "(it prints the demo users to log in with).",
    )
    p.add_argument("--dir", default=".demo", help="where the demo keeps its files (default .demo)")
    p.add_argument(
        "--no-ui", action="store_true", help="set up, sync once, print the hub's stock and exit"
    )
    p.add_argument("--http", default="127.0.0.1:8080", help="hub address (default 127.0.0.1:8080)")
    p.add_argument(
        "--reset",
        action="store_true",
        help="start from fresh sample data: remove only the demo's own files in --dir first",
    )
    p.set_defaults(func=_demo)
    return parser


def nats_authorization(hub_db: str) -> str:
    """The server's authorization block from the hub's registered identities."""
    from hub import identities
    from hub.store import HubStore
    from protocol.subjects import node_permissions

    store = HubStore.open(hub_db)
    try:
        nodes = [
            (n.public_key, node_permissions(n.node, n.location)) for n in identities.nodes(store)
        ]
        return natsserver.authorization_block(identities.hub_public_key(store), nodes)
    finally:
        store.conn.close()


def _nats_serve(args) -> int:
    authorization: Callable[[], str] | None = None
    if args.leaf and (args.hub_db or args.leafnodes_port):
        raise natsserver.NatsServerError(  # shown in the reader's language
            i18n.Message(
                "--leaf is a store's server: give it without --hub-db and --leafnodes-port "
                "(those are for head office's server)"
            )
        )
    if args.leaf and not args.leaf.partition("://")[2]:
        raise natsserver.NatsServerError(  # shown in the reader's language
            i18n.Message(
                "--leaf {leaf!r} is not a URL: give head office's leaf port, e.g. "
                "nats://hq.example.com:{port}",
                leaf=args.leaf,
                port=natsserver.DEFAULT_LEAFNODES_PORT,
            )
        )
    if args.hub_db and args.leafnodes_port:
        raise natsserver.NatsServerError(  # shown in the reader's language
            i18n.Message(
                "--leafnodes-port cannot be combined with --hub-db yet: leaf connections carry "
                "no per-node credentials (docs/security.md)"
            )
        )
    if args.hub_db:
        nats_authorization(args.hub_db)  # fail now, with a clear message, if it is not a hub db
        authorization = functools.partial(nats_authorization, args.hub_db)
    return natsserver.serve_foreground(
        args.port, args.data, args.host, authorization, args.leafnodes_port, args.leaf
    )


def _register_devices(sub) -> None:
    try:
        from devices import cli as devices_cli
    except ImportError:
        return
    register = getattr(devices_cli, "register", None)
    if register is not None:
        register(sub)


def _demo(args) -> int:
    from kucun import demo

    return demo.run(args.dir, args.http, ui=not args.no_ui, fresh_data=args.reset)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    for arg in argv:
        if not _is_text(arg):
            # bytes that are not UTF-8 arrive as lone surrogates, which no ledger, NATS
            # message or terminal can carry: refuse them here, not deep in a write
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            message = i18n.Message(
                "argument {argument!r} is not UTF-8 text: check the terminal's encoding",
                argument=shown[:60],
            )
            print(f"error: {message}", file=sys.stderr)
            return 2
    args = parser.parse_args(argv)
    logs.setup(args.log_level, args.log_format)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:
        # a ledger that opened but fails later (a damaged page, a full disk): one line for
        # the person, the traceback only for whoever asked for debug logs
        log.debug("ledger error", exc_info=True)
        message = i18n.Message(
            "the ledger could not be read or written ({cause}): check --db and the disk, or "
            "restore the ledger from a backup",
            cause=str(exc),
        )
        print(f"error: {message}", file=sys.stderr)
        return 2
    except Exception as exc:
        for handler in (node_cli.handle_error, hub_cli.handle_error):
            code = handler(exc)
            if code is not None:
                return code
        if isinstance(exc, natsserver.NatsServerError):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if isinstance(exc, OSError):
            # the machine said no (a file in the way, a port in use, no permission)
            log.debug("OS error", exc_info=True)
            where = f": {exc.filename}" if exc.filename else ""
            print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
            return 1
        raise


def _is_text(arg: str) -> bool:
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


i18n.register(
    {
        "--leaf is a store's server: give it without --hub-db and --leafnodes-port "
        "(those are for head office's server)": (
            "--leaf 用于门店的服务器：请不要同时给出 --hub-db 和 --leafnodes-port"
            "（它们用于总部的服务器）"
        ),
        "--leaf {leaf!r} is not a URL: give head office's leaf port, e.g. "
        "nats://hq.example.com:{port}": (
            "--leaf {leaf!r} 不是 URL：请给出总部的 leaf 端口，例如 nats://hq.example.com:{port}"
        ),
        "--leafnodes-port cannot be combined with --hub-db yet: leaf connections carry "
        "no per-node credentials (docs/security.md)": (
            "--leafnodes-port 暂时不能与 --hub-db 同用：leaf 连接不带各节点的凭据"
            "（见 docs/security.md）"
        ),
        "argument {argument!r} is not UTF-8 text: check the terminal's encoding": (
            "参数 {argument!r} 不是 UTF-8 文本：请检查终端的编码"
        ),
        "the ledger could not be read or written ({cause}): check --db and the disk, or "
        "restore the ledger from a backup": (
            "账本无法读写（{cause}）：请检查 --db 和磁盘，或从备份恢复账本"
        ),
    }
)


if __name__ == "__main__":
    sys.exit(main())
