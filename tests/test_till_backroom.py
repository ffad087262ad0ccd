"""The back room's menu: clerks land on it, managers reach it with F3, each task checks the
role, and a scan on the menu looks the code up."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from node.service import Node
from node.till.app import TillApp
from node.till.backroom import TASKS, BackRoomScreen, task_screen
from node.users import add_user


@pytest.fixture
def node(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    n = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    n.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    n.receive("COLA", "10")
    add_user(n, "li", "Li", "manager", "1111")
    add_user(n, "zhao", "Zhao", "clerk", "3333")
    add_user(n, "wang", "Wang", "cashier", "2222")
    return n


async def log_in(pilot, user: str, pin: str) -> None:
    await pilot.press(*user, "enter", *pin, "enter")
    for _ in range(100):
        await pilot.pause(0.02)
        if pilot.app.user is not None:
            return


def message(app) -> str:
    return str(app.screen.query_one("#message", Static).render())


async def test_a_clerk_lands_in_the_back_room_and_cannot_leave_it_to_sell(node):
    app = TillApp(node, sync=False, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "zhao", "3333")
        assert isinstance(app.screen, BackRoomScreen)
        await pilot.press("escape")  # a clerk has no till to go back to
        assert isinstance(app.screen, BackRoomScreen)
        assert node.user == "zhao"


async def test_a_manager_comes_from_the_sale_screen_and_goes_back(node):
    app = TillApp(node, sync=False, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "li", "1111")
        assert type(app.screen).__name__ == "SaleScreen"
        await pilot.press("f3")
        assert isinstance(app.screen, BackRoomScreen)
        await pilot.press("escape")
        assert type(app.screen).__name__ == "SaleScreen"


async def test_a_cashier_is_refused_a_task_of_the_back_room(node):
    app = TillApp(node, sync=False, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "wang", "2222")
        await pilot.press("f3", "f3")  # the back room, then receiving
        assert isinstance(app.screen, BackRoomScreen)
        assert "Wang (cashier) may not do this" in message(app)


def test_every_task_has_its_screen(node):
    """Each task's module and screen class exist and take (node, user)."""
    from node.permissions import User

    manager = User("li", "Li", "manager")
    for _, action, *_ in TASKS:
        screen = task_screen(action, node, manager)
        assert callable(getattr(screen, "scanned", None)), action


async def test_each_task_opens_from_the_menu_and_esc_comes_back(node):
    app = TillApp(node, sync=False, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "li", "1111")
        await pilot.press("f3")
        for key, _, _, _, _, cls in TASKS:
            await pilot.press(key)
            await pilot.pause(0.1)
            assert type(app.screen).__name__ == cls, key
            for _ in range(3):  # a task may first drop a filter or a step
                if isinstance(app.screen, BackRoomScreen):
                    break
                await pilot.press("escape")
                await pilot.pause(0.1)
            assert isinstance(app.screen, BackRoomScreen), cls


async def test_a_code_scanned_on_the_menu_is_looked_up(node):
    app = TillApp(node, sync=False, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "zhao", "3333")
        app.scanned("6901234567892")
        for _ in range(50):
            await pilot.pause(0.05)
            if type(app.screen).__name__ == "LookupScreen":
                break
        assert type(app.screen).__name__ == "LookupScreen"
        await pilot.pause(0.3)
        shown = "".join(str(w.render()) for w in app.screen.query("Static"))
        assert "COLA" in shown and "Cola" in shown  # the product and its details
