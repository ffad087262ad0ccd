"""`kucun hub serve`: run the hub (ingest, publish, HTTP API).

Every option can come from a TOML file (`--config`, docs/operations.md); an option given
on the command line wins over the file.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction, db: argparse.ArgumentParser) -> None:
    """`db` is the other hub commands' required --db; serve's is optional (the config
    file may give it), so it declares its own."""
    p = sub.add_parser(
        "serve",
        help="ingest node events and serve the HTTP API",
        description="Ingest node events from NATS and serve the HTTP API. Options override "
        "the --config file; see docs/operations.md.",
    )
    p.add_argument("--config", metavar="FILE", help="a TOML file of these options")
    p.add_argument("--db", help="path of the hub's SQLite database (or db in --config)")
    p.add_argument("--nats", help="NATS URL, e.g. nats://127.0.0.1:4222 (or nats in --config)")
    p.add_argument("--http", help="listen address, default 127.0.0.1:8080")
    p.add_argument(
        "--log-level",
        dest="serve_log_level",
        choices=["debug", "info", "warning", "error"],
        help="overrides log_level in --config and the global --log-level",
    )
    p.add_argument(
        "--publish-interval",
        type=float,
        metavar="S",
        help="seconds between rounds of publishing the hub's logs, default 2",
    )
    p.add_argument(
        "--readers", type=int, metavar="N", help="threads answering GET routes, default 4"
    )
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from hub import config
    from hub.identities import hub_seed
    from hub.server import parse_listen, serve
    from hub.store import HubStore

    settings = config.resolve(
        args.config,
        {
            "db": args.db,
            "nats": args.nats,
            "http": args.http,
            "log_level": args.serve_log_level,
            "publish_interval": args.publish_interval,
            "readers": args.readers,
        },
    )
    if settings.log_level is not None:
        logging.getLogger().setLevel(settings.log_level.upper())  # kucun set up the handler
    parse_listen(settings.http)
    store = HubStore.open(settings.db)
    try:
        seed = hub_seed(store)  # the hub's NKEY: needed when NATS requires credentials
    finally:
        store.conn.close()
    asyncio.run(serve(settings, connect_options={"nkeys_seed_str": seed}))
    return 0
