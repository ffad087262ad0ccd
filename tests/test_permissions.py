"""Roles, login and approvals, and the guarded `kucun node user add`."""

from __future__ import annotations

import pytest

from node import permissions, users
from node.errors import NodeError
from node.permissions import (
    ACTIONS,
    ALLOWED,
    User,
    approve,
    authenticate,
    is_large_quantity,
    may,
    needs_approval,
)
from node.service import Node
from protocol.basket import BasketLine
from protocol.events import Upsert
from tests.helpers import kucun

TABLE = {
    # action: (admin, manager, cashier, clerk, finance); "a" = with approval
    "sell": "yyy--",
    "return": "yyy--",
    "return_without_receipt": "yya--",
    "void_line": "yyy--",
    "void_sale": "yya--",
    "price_override": "yya--",
    "discount": "yya--",
    "large_quantity": "yya--",
    "shift": "yyy--",
    "receive": "yy-y-",
    "transfer": "yy-y-",
    "count": "yy-y-",
    "lookup": "yyyyy",
    "manage_users": "yy---",
}


@pytest.mark.parametrize("action", ACTIONS)
def test_who_may_do_what_is_the_documented_table(action):
    for role, cell in zip(users.ROLES, TABLE[action], strict=True):
        user = User("u", "u", role)
        assert may(role, action) == (cell == "y"), (action, role)
        assert needs_approval(user, action) == (cell == "a"), (action, role)
    assert set(ALLOWED) == set(TABLE) == set(ACTIONS)
    assert not may(None, action) and not may("stranger", action)


def test_the_table_is_in_the_module_docstring():
    doc = permissions.__doc__ or ""
    for action in ACTIONS:
        assert f"| {action}" in doc


def line(unit: str, qty: int) -> BasketLine:
    return BasketLine("X", "X", unit, qty, 100, 100)


def test_large_quantities():
    assert not is_large_quantity(line("pcs", 99_000))
    assert is_large_quantity(line("pcs", 100_000))
    assert not is_large_quantity(line("kg", 50_000))
    assert is_large_quantity(line("kg", 50_001))


@pytest.fixture
def node(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    n = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    users.add_user(n, "zhao", "赵经理", "manager", "2468")
    users.add_user(n, "li", "李收银", "cashier", "1357", approver="zhao", approver_pin="2468")
    return n


def test_login_with_id_and_pin(node):
    assert authenticate(node, "li", "1357") == User("li", "李收银", "cashier")
    assert authenticate(node, " zhao ", "2468").role == "manager"


@pytest.mark.parametrize(
    ("user", "pin", "message"),
    [
        ("li", "0000", "wrong PIN for li"),
        ("wu", "1357", "no user 'wu' here"),
        ("", "1357", "no user '' here"),
    ],
)
def test_login_refusals(node, user, pin, message):
    with pytest.raises(NodeError, match=message):
        authenticate(node, user, pin)


def test_inactive_users_and_users_without_a_pin_cannot_log_in(node):
    node.store.append([Upsert(entity="user", key="li", fields={"active": False})], "zhao", 1)
    with pytest.raises(NodeError, match="user li is not active"):
        authenticate(node, "li", "1357")
    users.add_user(node, "sun", None, "cashier", None, approver="zhao", approver_pin="2468")
    with pytest.raises(NodeError, match="user sun has no PIN yet"):
        authenticate(node, "sun", "1357")


def test_an_approval_covers_only_an_action_the_approver_may_do(node):
    node.user = "li"
    assert approve(node, "void_sale", "zhao", "2468") == "zhao"
    users.add_user(node, "qian", None, "finance", "9999", approver="zhao", approver_pin="2468")
    with pytest.raises(NodeError, match=r"qian \(finance\) may not approve discount"):
        approve(node, "discount", "qian", "9999")


def test_the_configured_user_of_the_command_line_acts_as_admin(node):
    assert node.user == "admin" and permissions.acting_user(node).role == "admin"
    node.user = "someone"
    assert permissions.acting_user(node).role == ""
    with pytest.raises(NodeError, match="someone has no role here"):
        permissions.require(node, "sell")


def test_login_messages_in_chinese(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    with pytest.raises(NodeError) as caught:
        authenticate(node, "li", "0000")
    assert str(caught.value) == "li 的 PIN 不对：请重新输入"
    node.user = "li"
    with pytest.raises(NodeError) as caught:
        permissions.require(node, "void_sale")
    assert str(caught.value) == "作废已付款的销售需要经理批准：请经理输入编号和 PIN"


# ---- who may add users ------------------------------------------------------------------


def test_user_changes_are_guarded_once_a_manager_has_a_pin(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    n = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    # the command line's guard (guarded=True): no manager yet, anyone adds
    users.add_user(n, "wu", None, "cashier", "1111", guarded=True)
    users.add_user(n, "boss", None, "admin", None, guarded=True)  # no PIN: guards nothing
    assert not users.users_are_guarded(n)
    users.add_user(n, "boss", None, "admin", "8642", guarded=True)
    assert users.users_are_guarded(n)
    head = n.store.log.head_seq("S01")
    with pytest.raises(NodeError, match="a manager must confirm"):
        users.add_user(n, "li", None, "cashier", "1357", guarded=True)
    users.add_user(n, "zhao", None, "manager", "2468", approver="boss", approver_pin="8642")
    event = users.add_user(n, "li", None, "cashier", "1357", approver="zhao", approver_pin="2468")
    assert event.user == "zhao"  # the event records who confirmed it
    # a manager can neither make a manager nor demote an admin
    for target, role in [("chen", "manager"), ("boss", "cashier")]:
        with pytest.raises(NodeError, match="an admin must confirm"):
            users.add_user(n, target, None, role, None, guarded=True)
        with pytest.raises(NodeError, match=r"zhao is manager: only admin may confirm"):
            users.add_user(n, target, None, role, None, approver="zhao", approver_pin="2468")
    with pytest.raises(NodeError, match="wrong PIN for boss"):
        users.add_user(n, "chen", None, "cashier", None, approver="boss", approver_pin="0000")
    with pytest.raises(NodeError, match=r"li is cashier: only admin / manager may confirm"):
        users.add_user(n, "chen", None, "cashier", None, approver="li", approver_pin="1357")
    assert n.store.log.head_seq("S01") == head + 2
    # set-up code and the till (which checks manage_users itself) call it unguarded
    users.add_user(n, "chen", None, "cashier", None)


@pytest.mark.slow
def test_cli_user_add_needs_an_approver_once_users_are_managed(tmp_path):
    db = str(tmp_path / "store.db")
    kucun("node", "init", "--db", db, "--node", "S01", "--nats", "nats://127.0.0.1:1", check=True)
    add = ("node", "user", "add", "--db", db)
    first = kucun(*add, "boss", "--role", "admin", "--pin", "8642", check=True)
    assert "user boss (admin) saved with a PIN" in first.stdout
    refused = kucun(*add, "zhao", "--role", "manager", "--pin", "2468")
    assert refused.returncode == 1
    assert "an admin must confirm, add --approver ID --approver-pin PIN" in refused.stderr
    assert "Traceback" not in refused.stderr
    wrong = kucun(*add, "zhao", "--role", "manager", "--approver", "boss", "--approver-pin", "1")
    assert wrong.returncode == 1 and "wrong PIN for boss" in wrong.stderr
    kucun(
        *add, "zhao", "--role", "manager", "--pin", "2468",
        "--approver", "boss", "--approver-pin", "8642", check=True,
    )  # fmt: skip
    ok = kucun(
        *add, "li", "--role", "cashier", "--pin", "1357",
        "--approver", "zhao", "--approver-pin", "2468", check=True,
    )  # fmt: skip
    assert "user li (cashier) saved with a PIN, confirmed by zhao" in ok.stdout
    help_text = kucun(*add, "--help").stdout
    assert "--approver" in help_text and "--approver-pin" in help_text
