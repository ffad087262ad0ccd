"""Users and PINs: who may confirm what a till would otherwise refuse.

A user is master data (`Upsert(entity="user")`), replicated like products, so a manager
added at the hub or at any till can confirm at every till. The PIN is never stored: only
a salted scrypt hash in one string field, `pin_hash`, which the hub may also send.
"""

from __future__ import annotations

import os

from node.errors import NodeError
from node.service import Node, wall_ms
from protocol import i18n, pins
from protocol.events import Event, Upsert

ROLES = ("admin", "manager", "cashier", "clerk", "finance")
#: who may approve an extra receipt, a difference, a reversal or an acceptance
APPROVER_ROLES = ("manager", "admin")


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """The PIN's salted scrypt hash (protocol.pins), with a fresh salt unless given."""
    return pins.hash_pin(pin, salt if salt is not None else os.urandom(16))


pin_matches = pins.pin_matches


i18n.register(
    {
        "a PIN is 4 to 12 digits, e.g. --pin 4821": "PIN 是 4 到 12 位数字，例如 --pin 4821",
        "give the user id without spaces, e.g. wang": "用户编号不能含空格，例如 wang",
        "role {role!r} is not known; use one of: {roles}": (
            "角色 {role!r} 未知；请用其中之一：{roles}"
        ),
        "a manager must confirm this: add --approver USER --pin PIN": (
            "此操作须由经理确认：请加上 --approver 用户 --pin PIN"
        ),
        "no user {user!r} at this till: add them with `kucun node user add`, or sync": (
            "本收银台没有用户 {user!r}：请用 `kucun node user add` 添加，或先同步"
        ),
        "user {user} is not active: ask another manager to confirm": (
            "用户 {user} 已停用：请另一位经理确认"
        ),
        "user {user} has no PIN yet: set one with `kucun node user add {user} --pin …`": (
            "用户 {user} 还没有 PIN：请用 `kucun node user add {user} --pin …` 设置"
        ),
        "{user} is {role}: only a {roles} can confirm this": (
            "{user} 的角色是 {role}：只有 {roles} 能确认"
        ),
        "without a role": "没有角色",
    }
)


def check_pin_format(pin: str) -> None:
    if not pins.valid_pin(pin):
        raise NodeError("a PIN is 4 to 12 digits, e.g. --pin 4821")


def add_user(
    node: Node,
    user: str,
    name: str | None,
    role: str,
    pin: str | None,
    *,
    approver: str | None = None,
    approver_pin: str | None = None,
    guarded: bool = False,
) -> Event:
    """Create or change a user; the PIN goes into the ledger only as its salted hash.

    `guarded` (the command line): once users are managed here (`users_are_guarded`) an
    approver must confirm (`check_user_change`). An approver given is always checked, and
    the event records them as its user. Callers that check `manage_users` themselves (the
    till) or set up a ledger call it unguarded."""
    if not user.strip() or user != user.strip():
        raise NodeError("give the user id without spaces, e.g. wang")
    if role not in ROLES:
        raise NodeError(
            "role {role!r} is not known; use one of: {roles}", role=role, roles=", ".join(ROLES)
        )
    fields: dict[str, str | int | bool | None] = {"role": role}
    if name:
        fields["name"] = name
    if pin is not None:
        check_pin_format(pin)
        fields["pin_hash"] = hash_pin(pin)
    confirmed_by = None
    if guarded or approver:
        confirmed_by = check_user_change(node, user, role, approver, approver_pin)
    (event,) = node.store.append(
        [Upsert(entity="user", key=user, fields=fields)], confirmed_by or node.user, wall_ms()
    )
    return event


def verify_approver(
    node: Node, user: str | None, pin: str | None, roles: tuple[str, ...] = APPROVER_ROLES
) -> str:
    """The user id when `user` with `pin` exists here, is active and has one of `roles`;
    otherwise NodeError saying what is wrong."""
    if not user or pin is None:
        raise NodeError("a manager must confirm this: add --approver USER --pin PIN")
    fields = node.read.master_fields("user", user)
    if not fields:
        raise NodeError(
            "no user {user!r} at this till: add them with `kucun node user add`, or sync",
            user=user,
        )
    if fields.get("active") is False:
        raise NodeError("user {user} is not active: ask another manager to confirm", user=user)
    encoded = fields.get("pin_hash")
    if not isinstance(encoded, str):
        raise NodeError(
            "user {user} has no PIN yet: set one with `kucun node user add {user} --pin …`",
            user=user,
        )
    if not pin_matches(pin, encoded):
        raise NodeError("wrong PIN for {user}: enter it again", user=user)
    role = fields.get("role")
    if role not in roles:
        raise NodeError(
            "{user} is {role}: only a {roles} can confirm this",
            user=user,
            role=role or i18n.Message("without a role"),
            roles=" or ".join(roles),
        )
    return user


# ---- who may add or change users ----------------------------------------------------------

#: roles only an admin may give (or take away)
_SENIOR_ROLES = ("admin", "manager")

i18n.register(
    {
        "{user} is a manager or admin, or is to become one: an admin must confirm, "
        "add --approver ID --approver-pin PIN": (
            "{user} 是或将成为经理或管理员：须由管理员确认，"
            "请加上 --approver 用户 --approver-pin PIN"
        ),
        "users are managed here: a manager must confirm, add --approver ID --approver-pin PIN": (
            "本店已有用户管理：须由经理确认，请加上 --approver 用户 --approver-pin PIN"
        ),
        "no user {user!r} here: check the id, or sync first": (
            "这里没有用户 {user!r}：请检查编号，或先同步"
        ),
        "user {user} is not active: ask another manager": "用户 {user} 已停用：请找另一位经理",
        "user {user} has no PIN yet: a manager sets one with "
        "`kucun node user add {user} --pin …`": (
            "用户 {user} 还没有 PIN：请经理用 `kucun node user add {user} --pin …` 设置"
        ),
        "wrong PIN for {user}: enter it again": "{user} 的 PIN 不对：请重新输入",
        "{user} is {role}: only {roles} may confirm this": (
            "{user} 的角色是 {role}：只有 {roles} 能确认"
        ),
    }
)


def users(node: Node) -> dict[str, dict[str, object]]:
    """Every user known here and their fields (from the replicated master data)."""
    found: dict[str, dict[str, object]] = {}
    for (entity, key, name), (_, _, value) in node.read.registers().items():
        if entity == "user":
            found.setdefault(key, {})[name] = value
    return found


def _guards_users(fields: dict[str, object]) -> bool:
    return (
        fields.get("role") in _SENIOR_ROLES
        and isinstance(fields.get("pin_hash"), str)
        and fields.get("active") is not False
    )


def users_are_guarded(node: Node) -> bool:
    """Once a manager or admin with a PIN exists, adding or changing users needs one's
    confirmation; an empty ledger's first user needs none (someone has to be first)."""
    return any(_guards_users(f) for f in users(node).values())


def checked_user(node: Node, user: str, pin: str) -> dict[str, object]:
    """The fields of `user` when they exist here, are active and `pin` is theirs;
    otherwise NodeError saying what to do. A till is a closed room: saying that the PIN
    was wrong (rather than "id or PIN") costs nothing and helps the cashier."""
    fields = node.read.master_fields("user", user) if user else {}
    if not fields:
        raise NodeError("no user {user!r} here: check the id, or sync first", user=user)
    if fields.get("active") is False:
        raise NodeError("user {user} is not active: ask another manager", user=user)
    encoded = fields.get("pin_hash")
    if not isinstance(encoded, str):
        raise NodeError(
            "user {user} has no PIN yet: a manager sets one with "
            "`kucun node user add {user} --pin …`",
            user=user,
        )
    if not pin_matches(pin, encoded):
        raise NodeError("wrong PIN for {user}: enter it again", user=user)
    return fields


def check_user_change(
    node: Node, user: str, role: str, approver: str | None, approver_pin: str | None
) -> str | None:
    """Who confirmed adding or changing `user` to `role` (None while users are unguarded):
    an admin when the user is or becomes a manager or admin, else a manager or admin."""
    if not users_are_guarded(node) and not approver:
        return None
    before = node.read.master_fields("user", user).get("role")
    senior = role in _SENIOR_ROLES or before in _SENIOR_ROLES
    roles = ("admin",) if senior else _SENIOR_ROLES
    if not approver or approver_pin is None:
        if senior:
            raise NodeError(
                "{user} is a manager or admin, or is to become one: an admin must confirm, "
                "add --approver ID --approver-pin PIN",
                user=user,
            )
        raise NodeError(
            "users are managed here: a manager must confirm, add --approver ID --approver-pin PIN"
        )
    fields = checked_user(node, approver, approver_pin)
    if fields.get("role") not in roles:
        raise NodeError(
            "{user} is {role}: only {roles} may confirm this",
            user=approver,
            role=fields.get("role") or "-",
            roles=" / ".join(roles),
        )
    return approver
