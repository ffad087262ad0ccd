"""`kucun node audit` and `kucun node verify`: who did what, and is the ledger intact."""

from __future__ import annotations

import argparse
import json
import sys

import msgspec

from ledger import audit, verify
from node.errors import NodeError
from protocol import i18n


def register(
    sub: argparse._SubParsersAction,
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
) -> None:
    """The `audit` and `verify` commands; `db` and `as_json` are node.cli's shared options."""
    p = sub.add_parser(
        "audit",
        parents=[db, as_json],
        help="who did what, when, on which document (审计)",
        description="List the ledger's events newest first: origin, seq, time (UTC), user, "
        "kind, document and what moved or changed.",
    )
    p.add_argument("--user", help="only this user's events, e.g. wang")
    p.add_argument("--since", help="only events on or after this day (UTC), e.g. 2026-12-01")
    p.add_argument(
        "--limit",
        type=int,
        default=100,
        help=f"events per page (default 100, at most {audit.MAX_LIMIT})",
    )
    p.add_argument("--offset", type=int, default=0, help="skip this many (the next page)")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser(
        "verify",
        parents=[db],
        help="re-hash every event of the ledger (校验)",
        description="Re-hash every event of every origin this ledger holds and report the "
        "first break of a hash chain (an event edited in the file). Exit 1 on a break.",
    )
    p.set_defaults(func=cmd_verify)


def cmd_audit(args) -> int:
    if args.limit < 1 or args.offset < 0:
        raise NodeError("--limit must be at least 1 and --offset at least 0")
    try:
        since = None if args.since is None else audit.parse_since(args.since)
    except ValueError:
        # parse_since has one reason to refuse: said here in the reader's language
        raise NodeError(
            "since {text!r} is not a date: use e.g. 2026-12-01", text=args.since
        ) from None
    from node.service import Node  # here: opening the ledger is this command's, not start-up's

    node = Node.open(args.db)
    entries = audit.audit(node.store.log, args.user, since, args.limit, args.offset)
    if args.json:
        items = msgspec.to_builtins(entries)
        print(json.dumps({"items": items}, ensure_ascii=False))
        return 0
    if not entries:
        print(i18n.Message("no events match" if args.user or args.since else "no events"))
        return 0
    print(f"{'TIME (UTC)':<20} {'ORIGIN:SEQ':<14} {'USER':<10} {'KIND':<9} {'DOCUMENT':<14} WHAT")
    for e in entries:
        where = f"{e.origin}:{e.seq}"
        print(f"{e.time:<20} {where:<14} {e.user:<10} {e.kind:<9} {e.doc or '-':<14} {e.summary}")
    return 0


def cmd_verify(args) -> int:
    from node.service import Node

    node = Node.open(args.db)
    report = verify.verify(node.store.log)
    if report.broken is not None:
        broken = report.broken
        message = i18n.Message(
            "hash chain broken at {origin}:{seq}: {problem}; the ledger file was changed "
            "after it was written. Keep this file for head office and restore the ledger "
            "from a copy that verifies",
            origin=broken.origin,
            seq=broken.seq,
            problem=broken.problem,
        )
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(
        i18n.Message(
            "{events} events of {origins} origins verified"
            if report.origins != 1
            else "{events} events of 1 origin verified",
            events=report.events,
            origins=report.origins,
        )
    )
    return 0


i18n.register(
    {
        "--limit must be at least 1 and --offset at least 0": (
            "--limit 至少为 1，--offset 至少为 0"
        ),
        "since {text!r} is not a date: use e.g. 2026-12-01": (
            "起始日期 {text!r} 不是日期：请写成 2026-12-01 这样"
        ),
        "no events": "没有事件",
        "no events match": "没有符合条件的事件",
        "hash chain broken at {origin}:{seq}: {problem}; the ledger file was changed "
        "after it was written. Keep this file for head office and restore the ledger "
        "from a copy that verifies": (
            "哈希链在 {origin}:{seq} 处断开：{problem}；账本文件在写入后被改动过。请把此文件"
            "留给总部，并从一份能通过校验的副本恢复账本"
        ),
        "{events} events of {origins} origins verified": (
            "已校验 {origins} 个来源的 {events} 个事件"
        ),
        "{events} events of 1 origin verified": "已校验 1 个来源的 {events} 个事件",
    }
)
