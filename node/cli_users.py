"""`kucun node user add`: users and their PINs (for managers' confirmations).

Once the ledger holds a manager or admin with a PIN, adding or changing a user needs a
confirmation: `--approver ID --approver-pin PIN` of an admin for a user who is or becomes
a manager or admin, of a manager or admin for anyone else. The first user of an empty
ledger needs none. `--pin` stays the (new) user's own PIN."""

from __future__ import annotations

import argparse

from node import users
from node.service import Node


def register(sub: argparse._SubParsersAction, *, db: argparse.ArgumentParser) -> None:
    """The `user` command; `db` is node.cli's shared --db."""
    user = sub.add_parser("user", help="users and PINs (用户)", description="Manage users.")
    usub = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    p = usub.add_parser(
        "add",
        parents=[db],
        help="add or change a user",
        description="Add or change a user. The PIN is stored only as a salted hash.",
    )
    p.add_argument("user", metavar="ID", help="the user's id, e.g. wang")
    p.add_argument("--name", help="the name people know them by, e.g. 王芳")
    p.add_argument("--role", required=True, choices=users.ROLES, help="what they may do")
    p.add_argument("--pin", help="the user's PIN: 4 to 12 digits; they log in with it")
    p.add_argument(
        "--approver",
        metavar="ID",
        help="who confirms the change once users are managed here: an admin for managers "
        "and admins, a manager for others",
    )
    p.add_argument("--approver-pin", metavar="PIN", help="the approver's PIN")
    p.set_defaults(func=cmd_user_add)


def cmd_user_add(args) -> int:
    node = Node.open(args.db)
    users.add_user(
        node,
        args.user,
        args.name,
        args.role,
        args.pin,
        approver=args.approver,
        approver_pin=args.approver_pin,
        guarded=True,
    )
    confirmed = f", confirmed by {args.approver}" if args.approver else ""
    print(f"user {args.user} ({args.role}) saved" + (" with a PIN" if args.pin else "") + confirmed)
    return 0
