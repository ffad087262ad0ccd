"""`kucun hub …`: set up and run the head-office hub."""

from __future__ import annotations

import argparse
import os
import sys

from hub import cli_serve, cli_tokens
from hub.errors import HubCliError, HubError
from protocol import i18n


def register(subparsers: argparse._SubParsersAction) -> None:
    # every hub command's --db: an argparse parent parser, defined once with one help text
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", required=True, help="path of the hub's SQLite database")
    hub = subparsers.add_parser(
        "hub", help="the head-office hub (总部)", description="Set up and run the head-office hub."
    )
    sub = hub.add_subparsers(dest="hub_command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "init",
        help="create the hub database and print an admin API token",
        description="Create the hub database; print an admin API token.",
        parents=[db],
    )
    p.set_defaults(func=cmd_init)

    cli_serve.register(sub, db)
    cli_tokens.register(sub, db)

    p = sub.add_parser(
        "add-node",
        help="register a node and print its NATS credentials and config",
        description="Register a node (till, store or warehouse) and print its config with its "
        "NKEY seed. The seed is shown once and not stored at the hub. Then reload NATS "
        "(kill -HUP the `kucun nats serve --hub-db` process).",
        parents=[db],
    )
    p.add_argument("node", metavar="NODE", help="the node id, e.g. S02 or S02-T1")
    p.add_argument("--location", help="its stock location (default: the node id)")
    p.add_argument("--nats", default="nats://127.0.0.1:4222", help="NATS URL the node uses")
    p.set_defaults(func=cmd_add_node)

    p = sub.add_parser(
        "verify",
        help="re-hash every event the hub holds",
        description="Re-hash every event of every origin the hub holds and report the first "
        "break of a hash chain (an event edited in the database). Exit 1 on a break.",
        parents=[db],
    )
    p.set_defaults(func=cmd_verify)


def cmd_init(args) -> int:
    from hub.identities import hub_seed
    from hub.store import HubStore

    _refuse_node_ledger(args.db)
    _refuse_hub_database(args.db)
    store, token = HubStore.init(args.db)
    hub_seed(store)  # the hub's NKEY, for when NATS requires credentials
    store.conn.close()
    print(token)
    return 0


def _refuse_hub_database(path: str) -> None:
    """A second `hub init` would make a second admin token nobody asked to keep."""
    from ledger.hub_tables import is_hub_database
    from ledger.sqlite import connect

    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    conn = connect(path)
    try:
        if is_hub_database(conn):
            raise HubCliError(
                "{path} is already a hub database; make more tokens with `kucun hub token create`",
                path=path,
            )
    finally:
        conn.close()


def _refuse_node_ledger(path: str) -> None:
    """`hub init` on a store's ledger would add the hub's tables to it and print a token."""
    from ledger.node_tables import NodeSettings
    from ledger.sqlite import connect

    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    conn = connect(path)
    try:
        node = NodeSettings(conn).read().get("node")
    finally:
        conn.close()
    if node:
        raise HubError(
            f"{path} is the ledger of node {node}, not a hub database: give another --db file"
        )


def cmd_add_node(args) -> int:
    from hub.identities import add_node
    from hub.store import HubStore

    store = HubStore.open(args.db)
    location = args.location or args.node
    seed = add_node(store, args.node, location)
    print(f"""# kucun node config for {args.node}: keep it secret, it holds the node's NKEY seed.
# On the node:  kucun node init --db store.db --config {args.node}.toml
[node]
id = "{args.node}"
location = "{location}"
nats = "{args.nats}"
nkey_seed = "{seed}"
""")
    print(
        f"registered {args.node}; reload NATS so it accepts the new credentials "
        "(kill -HUP the `kucun nats serve --hub-db` process)",
        file=sys.stderr,
    )
    return 0


def cmd_verify(args) -> int:
    from hub.store import HubStore
    from ledger.verify import verify

    store = HubStore.open(args.db)
    report = verify(store.events.log)
    store.conn.close()
    if report.broken is not None:
        print(
            f"error: {report}; the hub database was changed after it stored the event. "
            "Keep this file and restore the hub from a copy that verifies",
            file=sys.stderr,
        )
        return 1
    print(report)
    return 0


def handle_error(exc: BaseException) -> int | None:
    if isinstance(exc, HubError):
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return None


i18n.register(
    {
        "{path} is already a hub database; make more tokens with `kucun hub token create`": (
            "{path} 已是总部数据库；要更多令牌请用 `kucun hub token create`"
        ),
    }
)
