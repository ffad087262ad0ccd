"""`kucun hub token …`: make, list and revoke the hub API's bearer tokens.

A token is printed once, when made: the hub keeps only its SHA-256. Its name is recorded as
the user of every event written with it, so names are unique among active tokens. A store
manager's token is bound to one store (docs/api.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from rich.cells import cell_len

from hub.errors import HubCliError
from hub.route import TOKEN_ROLES
from protocol import i18n, limits
from protocol.events import valid_replica_id

_DESCRIPTION = """\
API tokens for the hub's HTTP API (Authorization: Bearer <token>). Roles:

  admin          everything: users, tokens' routes, node identities, dead letters
  buyer          products, prices, suppliers, purchase orders; reads
  finance        stock corrections, cost and money reports; reads
  store_manager  reads and writes of one store only (--location)
  viewer         reads only

The hub keeps only each token's SHA-256: a token is shown once, when it is made.
"""


def register(sub: argparse._SubParsersAction, db: argparse.ArgumentParser) -> None:
    """The `hub token` command; `db` is hub.cli's shared --db option."""
    token = sub.add_parser(
        "token",
        help="make, list and revoke API tokens (令牌)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tsub = token.add_subparsers(dest="token_command", required=True, metavar="COMMAND")

    p = tsub.add_parser(
        "create",
        parents=[db],
        help="make a token and print it (shown once)",
        description="Make an API token with a role and print it; the hub keeps only its "
        "hash, so keep it now. A store_manager token needs --location.",
    )
    p.add_argument(
        "--name",
        required=True,
        help="who uses it, e.g. buyer-zhao: recorded as the user of every event it writes; "
        "unique among active tokens",
    )
    p.add_argument("--role", required=True, choices=TOKEN_ROLES, help="what it may do")
    p.add_argument(
        "--location",
        help="the one store a store_manager token may see and change, e.g. S01 "
        "(only for store_manager)",
    )
    p.set_defaults(func=cmd_create)

    p = tsub.add_parser(
        "list",
        parents=[db],
        help="list tokens: name, role, store, made and revoked (never the token)",
        description="List every token made: name, role, store, when it was made and when "
        "revoked (UTC). The tokens themselves are not kept, so never shown.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_list)

    p = tsub.add_parser(
        "revoke",
        parents=[db],
        help="revoke the active token of a name",
        description="Revoke the active token of this name: from now on the API answers it "
        "401 'revoked token'. The name may then be given to a new token.",
    )
    p.add_argument("--name", required=True, help="the token's name, as `token list` shows it")
    p.set_defaults(func=cmd_revoke)


def _checked(name: str, role: str, location: str | None) -> None:
    problem = limits.text_problem(name, "name", key=True)
    if problem:
        raise HubCliError("token name: {problem}", problem=problem)
    if role == "store_manager" and location is None:
        raise HubCliError("a store_manager token needs --location: the store it may see, e.g. S01")
    if role != "store_manager" and location is not None:
        raise HubCliError(
            "only a store_manager token has a --location; a {role} token sees every store",
            role=role,
        )
    if location is not None and not valid_replica_id(location):
        raise HubCliError(
            "--location {location!r} is not a valid location id: use letters, digits, "
            "'-' or '_' (at most 32), e.g. S01",
            location=location,
        )


def cmd_create(args) -> int:
    from hub.store import HubStore, TokenNameTaken

    _checked(args.name, args.role, args.location)
    store = HubStore.open(args.db)
    try:
        token = store.add_token(args.name, args.role, args.location)
    except TokenNameTaken:
        raise HubCliError(
            "an active token is named {name!r} already: choose another name, or revoke "
            "it first (`kucun hub token revoke --name {name}`)",
            name=args.name,
        ) from None
    finally:
        store.conn.close()
    print(token)
    print(
        i18n.Message(
            "token {name} ({role}) made; it is shown only now: keep it",
            name=args.name,
            role=args.role,
        ).text(),
        file=sys.stderr,
    )
    return 0


def _utc(ms: int | None) -> str | None:
    if ms is None:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + "Z"


def cmd_list(args) -> int:
    from hub.store import HubStore

    store = HubStore.open(args.db)
    try:
        rows = store.tables.tokens()
    finally:
        store.conn.close()
    items = [
        {
            "name": row.name,
            "role": row.role,
            "location": row.location,
            "created": _utc(row.created_ms),
            "revoked": _utc(row.revoked_ms),
        }
        for row in rows
    ]
    if args.json:
        print(json.dumps({"items": items}, ensure_ascii=False))
        return 0
    header = [i18n.Message(word).text() for word in _COLUMNS]
    table = [header] + [
        [
            item["name"],
            item["role"],
            item["location"] or "-",
            item["created"] or "-",
            item["revoked"] or "-",
        ]
        for item in items
    ]
    # by terminal cells, not characters: a Chinese heading is twice as wide as it is long
    widths = [max(cell_len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        cells = zip(row, widths, strict=True)
        print("  ".join(f"{c}{' ' * (w - cell_len(str(c)))}" for c, w in cells).rstrip())
    return 0


_COLUMNS = ("name", "role", "location", "created (UTC)", "revoked (UTC)")


def cmd_revoke(args) -> int:
    from hub.store import HubStore

    store = HubStore.open(args.db)
    try:
        revoked = store.revoke_token(args.name)
    finally:
        store.conn.close()
    if not revoked:
        raise HubCliError(
            "no active token is named {name!r}: see `kucun hub token list`", name=args.name
        )
    print(i18n.Message("token {name} revoked", name=args.name).text())
    return 0


i18n.register(
    {
        "token name: {problem}": "令牌名称：{problem}",
        "a store_manager token needs --location: the store it may see, e.g. S01": (
            "store_manager 令牌需要 --location：它可查看的门店，例如 S01"
        ),
        "only a store_manager token has a --location; a {role} token sees every store": (
            "只有 store_manager 令牌才有 --location；{role} 令牌可查看所有门店"
        ),
        "--location {location!r} is not a valid location id: use letters, digits, "
        "'-' or '_' (at most 32), e.g. S01": (
            "--location {location!r} 不是有效的地点编号：请用字母、数字、'-' 或 '_'"
            "（最多 32 个），例如 S01"
        ),
        "an active token is named {name!r} already: choose another name, or revoke "
        "it first (`kucun hub token revoke --name {name}`)": (
            "已有名为 {name!r} 的有效令牌：请换一个名称，或先撤销它"
            "（`kucun hub token revoke --name {name}`）"
        ),
        "token {name} ({role}) made; it is shown only now: keep it": (
            "令牌 {name}（{role}）已创建；只显示这一次：请妥善保存"
        ),
        "no active token is named {name!r}: see `kucun hub token list`": (
            "没有名为 {name!r} 的有效令牌：请查看 `kucun hub token list`"
        ),
        "token {name} revoked": "令牌 {name} 已撤销",
        "name": "名称",
        "role": "角色",
        "location": "门店",
        "created (UTC)": "创建时间（UTC）",
        "revoked (UTC)": "撤销时间（UTC）",
    }
)
