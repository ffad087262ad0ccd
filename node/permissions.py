"""Who may do what at a till, and the manager override that lets a cashier do the rest.

Roles arrive with the users (replicated master data, `node.users`). Each action checks the
acting user's role; an action marked "approval" is done by a cashier only when a manager
(or admin) confirms it there and then with their own id and PIN (`approve`). An approval
covers that one action only and is recorded beside the cashier: the event's user is the
cashier, the line's or document's `approved_by` the manager.

| action                 | admin | manager | cashier  | clerk | finance |
|------------------------|-------|---------|----------|-------|---------|
| sell                   | yes   | yes     | yes      | -     | -       |
| return (with receipt)  | yes   | yes     | yes      | -     | -       |
| return_without_receipt | yes   | yes     | approval | -     | -       |
| void_line (unpaid)     | yes   | yes     | yes      | -     | -       |
| void_sale (posted)     | yes   | yes     | approval | -     | -       |
| price_override         | yes   | yes     | approval | -     | -       |
| discount               | yes   | yes     | approval | -     | -       |
| large_quantity         | yes   | yes     | approval | -     | -       |
| shift (open, X, Z)     | yes   | yes     | yes      | -     | -       |
| receive                | yes   | yes     | -        | yes   | -       |
| transfer               | yes   | yes     | -        | yes   | -       |
| count                  | yes   | yes     | -        | yes   | -       |
| lookup                 | yes   | yes     | yes      | yes   | yes     |
| manage_users           | yes   | yes (not managers or admins) | - | - | -   |

"approval": a user of a role marked "yes" confirms with their PIN. A clerk or finance
user cannot be approved into selling: approval lifts a cashier's limits, it does not
make someone a cashier.

A large quantity is more than `LARGE_PIECES` pieces or `LARGE_KG` kg on one line: a
typing slip (1000 for 10) costs real money, and a wholesale-sized sale at a till wants
a manager's eye.

The ledger's configured user (who ran `kucun node init`; the command line acts as them)
counts as an admin until a user of that id exists in the ledger with a role of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.errors import NodeError
from node.service import Node
from node.users import ROLES, checked_user
from protocol import i18n
from protocol.basket import BasketLine
from protocol.units import QTY_SCALE

#: more than this many pieces on one line needs approval
LARGE_PIECES = 99 * QTY_SCALE
#: more than this many kg on one line needs approval
LARGE_KG = 50 * QTY_SCALE

ACTIONS = (
    "sell",
    "return",
    "return_without_receipt",
    "void_line",
    "void_sale",
    "price_override",
    "discount",
    "large_quantity",
    "shift",
    "receive",
    "transfer",
    "count",
    "lookup",
    "manage_users",
)

_BOSS = frozenset({"admin", "manager"})
_TILL = _BOSS | {"cashier"}
_BACK = _BOSS | {"clerk"}

#: who may do each action themselves
ALLOWED: dict[str, frozenset[str]] = {
    "sell": _TILL,
    "return": _TILL,
    "return_without_receipt": _BOSS,
    "void_line": _TILL,
    "void_sale": _BOSS,
    "price_override": _BOSS,
    "discount": _BOSS,
    "large_quantity": _BOSS,
    "shift": _TILL,
    "receive": _BACK,
    "transfer": _BACK,
    "count": _BACK,
    "lookup": frozenset(ROLES),
    "manage_users": _BOSS,
}

#: actions a cashier does with a manager's approval
APPROVABLE = frozenset(
    {"return_without_receipt", "void_sale", "price_override", "discount", "large_quantity"}
)
#: roles an approval can lift
_APPROVED_ROLES = frozenset({"cashier"})

i18n.register(
    {
        "{user} ({role}) may not {action}: log in as a user who may": (
            "{user}（{role}）无权{action}：请用有权限的用户登录"
        ),
        "{action} needs a manager's approval: ask a manager for their id and PIN": (
            "{action}需要经理批准：请经理输入编号和 PIN"
        ),
        "{user} has no role here: ask a manager to give them one": (
            "{user} 在这里没有角色：请经理为其设置角色"
        ),
        "enter the approver's user id": "请输入批准人的用户编号",
        "the approver must be someone else than {user}: ask a manager": (
            "批准人不能是 {user} 本人：请找经理"
        ),
        "{user} ({role}) may not approve {action}: ask a manager": (
            "{user}（{role}）无权批准{action}：请找经理"
        ),
        "{user} approved {action}, but may not approve it here: ask a manager again": (
            "{user} 批准了{action}，但其在这里无权批准：请再找经理"
        ),
    }
)

#: how an action is named in a message: English (the template) and zh-CN
ACTION_NAMES_ZH = {
    "sell": "销售",
    "return": "退货",
    "return without receipt": "无小票退货",
    "void line": "删除商品行",
    "void sale": "作废已付款的销售",
    "price override": "改价",
    "discount": "打折",
    "large quantity": "大数量销售",
    "shift": "班次操作",
    "receive": "收货",
    "transfer": "调拨",
    "count": "盘点",
    "lookup": "查询",
    "manage users": "管理用户",
}
i18n.register(ACTION_NAMES_ZH)


def _action_name(action: str) -> i18n.Message:
    """An action's name inside a message, rendered in the message's language."""
    return i18n.Message(action.replace("_", " "))


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str


def may(role: str | None, action: str) -> bool:
    """True when a user of `role` may do `action` themselves."""
    return role is not None and role in ALLOWED.get(action, frozenset())


def needs_approval(user: User, action: str) -> bool:
    """True when `user` may do `action` only with a manager's approval."""
    return not may(user.role, action) and action in APPROVABLE and user.role in _APPROVED_ROLES


def is_large_quantity(line: BasketLine) -> bool:
    """More on one line than a till sells without a manager's eye (see the module)."""
    return line.qty > (LARGE_KG if line.unit == "kg" else LARGE_PIECES)


def user_of(node: Node, user_id: str) -> User:
    """The user `user_id` as the ledger knows them (the configured user: admin, see module)."""
    fields = node.read.master_fields("user", user_id)
    role = fields.get("role")
    name = fields.get("name")
    if not isinstance(role, str) and user_id == node.config.user:
        role = "admin"
    return User(
        user_id, name if isinstance(name, str) else user_id, role if isinstance(role, str) else ""
    )


def acting_user(node: Node) -> User:
    """Who is acting at this node (`Node.user`)."""
    return user_of(node, node.user)


def authenticate(node: Node, user_id: str, pin: str) -> User:
    """The user logging in, or NodeError: unknown, inactive, no PIN, wrong PIN, no role."""
    user_id = user_id.strip()
    fields = checked_user(node, user_id, pin)
    user = user_of(node, user_id)
    if user.role not in ROLES or fields.get("role") is None:
        raise NodeError("{user} has no role here: ask a manager to give them one", user=user_id)
    return user


def approve(node: Node, action: str, approver_id: str, pin: str) -> str:
    """The approver's id when `approver_id` with `pin` may do `action` themselves and is
    not the acting user; otherwise NodeError. Nothing is written: the caller records the
    approver on what it posts."""
    approver_id = approver_id.strip()
    if not approver_id:
        raise NodeError("enter the approver's user id")
    if approver_id == node.user:
        raise NodeError(
            "the approver must be someone else than {user}: ask a manager", user=node.user
        )
    fields = checked_user(node, approver_id, pin)
    role = fields.get("role")
    if not may(role if isinstance(role, str) else None, action):
        raise NodeError(
            "{user} ({role}) may not approve {action}: ask a manager",
            user=approver_id,
            role=role or "-",
            action=_action_name(action),
        )
    return approver_id


def require(node: Node, action: str, approved_by: str | None = None) -> str | None:
    """Check that the acting user may do `action`, themselves or with `approved_by`'s
    approval (checked again against the ledger: the approver still exists, is active and
    may do it). Returns the approver to record, None when none was needed."""
    user = acting_user(node)
    if not user.role:
        raise NodeError("{user} has no role here: ask a manager to give them one", user=user.id)
    if may(user.role, action):
        return None
    if not needs_approval(user, action):
        raise NodeError(
            "{user} ({role}) may not {action}: log in as a user who may",
            user=user.id,
            role=user.role,
            action=_action_name(action),
        )
    if approved_by is None:
        raise NodeError(
            "{action} needs a manager's approval: ask a manager for their id and PIN",
            action=_action_name(action),
        )
    approver = node.read.master_fields("user", approved_by)
    role = approver.get("role")
    if (
        approved_by == user.id
        or approver.get("active") is False
        or not may(role if isinstance(role, str) else None, action)
    ):
        raise NodeError(
            "{user} approved {action}, but may not approve it here: ask a manager again",
            user=approved_by,
            action=_action_name(action),
        )
    return approved_by
