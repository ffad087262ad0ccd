"""`kucun hub serve`: run the hub (ingest, publish, HTTP API)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction, db: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "serve",
        help="ingest node events and serve the HTTP API",
        description="Ingest node events from NATS and serve the HTTP API.",
        parents=[db],
    )
    p.add_argument("--nats", required=True, help="NATS URL, e.g. nats://127.0.0.1:4222")
    p.add_argument(
        "--http", default="127.0.0.1:8080", help="listen address, default 127.0.0.1:8080"
    )
    p.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    import asyncio

    from hub.identities import hub_seed
    from hub.server import parse_listen, serve
    from hub.store import HubStore

    parse_listen(args.http)
    store = HubStore.open(args.db)
    seed = hub_seed(store)  # the hub's NKEY: needed when NATS requires credentials
    store.conn.close()
    asyncio.run(serve(args.db, args.nats, args.http, {"nkeys_seed_str": seed}))
    return 0
