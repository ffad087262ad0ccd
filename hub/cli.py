"""`kucun hub …`: set up and run the head-office hub."""

from __future__ import annotations

import argparse
import asyncio
import sys

from hub.store import HubError, HubStore


def register(subparsers: argparse._SubParsersAction) -> None:
    hub = subparsers.add_parser(
        "hub", help="the head-office hub (总部)", description="Set up and run the head-office hub."
    )
    sub = hub.add_subparsers(dest="hub_command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "init",
        help="create the hub database and print an admin API token",
        description="Create the hub database; print an admin API token.",
    )
    p.add_argument("--db", required=True, help="path of the hub's SQLite database")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "serve",
        help="ingest node events and serve the HTTP API",
        description="Ingest node events from NATS and serve the HTTP API.",
    )
    p.add_argument("--db", required=True, help="path of the hub's SQLite database")
    p.add_argument("--nats", required=True, help="NATS URL, e.g. nats://127.0.0.1:4222")
    p.add_argument(
        "--http", default="127.0.0.1:8080", help="listen address, default 127.0.0.1:8080"
    )
    p.set_defaults(func=cmd_serve)


def cmd_init(args) -> int:
    _, token = HubStore.init(args.db)
    print(token)
    return 0


def cmd_serve(args) -> int:
    from hub.server import parse_listen, serve

    parse_listen(args.http)
    HubStore.open(args.db).conn.close()
    asyncio.run(serve(args.db, args.nats, args.http))
    return 0


def handle_error(exc: BaseException) -> int | None:
    if isinstance(exc, HubError):
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return None
