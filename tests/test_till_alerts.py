"""The alerts screen driven by Textual's pilot at 80×24 on a real ledger, in zh-CN and
English: the list, filters, acknowledging (Enter, F5, F8 with a note) and refusals."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import DataTable, Static

from node.permissions import User
from node.service import Node
from node.till.alerts import AlertsScreen
from node.users import add_user
from protocol.events import Document, Upsert
from replication.clock import wall_ms
from tests.test_receiving import hub_log

SIZE = (80, 24)
CLERK = User("zhao", "赵敏", "clerk")


class Shell(App[None]):
    """The smallest frame the alerts screen needs: it pushes it."""

    def __init__(self, node: Node, user: User) -> None:
        super().__init__()
        self.node = node
        self.user = user

    def on_mount(self) -> None:
        self.push_screen(AlertsScreen(self.node, self.user))


@pytest.fixture
def node(tmp_path) -> Node:
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1", user="zhao")
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.add_product("RICE", "Rice", price="25.00")
    add_user(node, "zhao", "赵敏", "clerk", "2222")
    node.receive("RICE", "3")
    node.store.ingest(
        hub_log(
            "hub", Upsert(entity="reorder", key="S01/RICE", fields={"point": 5000, "qty": 20000})
        ),
        wall_ms(),
    )
    node.sell("COLA", "2")  # negative stock, newest
    return node


async def until(pilot, condition, tries: int = 250) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


def text(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def rows(app: App) -> list[list[str]]:
    table = app.screen.query_one("#alerts", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def acks(node: Node) -> list[tuple[str, str | None, str | None]]:
    return [
        (e.user, e.body.ref, e.body.note)
        for e in node.store.log.events()
        if isinstance(e.body, Document) and e.body.type == "alert_ack"
    ]


def fits(app: App) -> bool:
    table = app.screen.query_one("#alerts", DataTable)
    return table.virtual_size.width <= table.size.width


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_the_list_and_acknowledging_with_enter(node, monkeypatch, lang):
    monkeypatch.setenv("KUCUN_LANG", lang)
    app = Shell(node, CLERK)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        await until(pilot, lambda: len(rows(app)) == 2)
        kinds = [r[1] for r in rows(app)]
        if lang == "en":
            assert kinds == ["negative", "reorder"]
            assert "2, 2 not acknowledged" in text(app, "#title")
            assert "COLA has stock -2" in text(app, "#detail")
        else:
            assert kinds == ["负库存", "需补货"]
            assert "共2条，2条未确认" in text(app, "#title")
        assert fits(app)
        await pilot.press("enter")  # the first: COLA's negative stock
        await until(pilot, lambda: len(acks(node)) == 1)
        ((user, ref, note),) = acks(node)
        assert user == "zhao" and ref is not None and ref.startswith("negative_stock:S01/COLA")
        assert note is None
        await until(pilot, lambda: rows(app)[0][4] == "zhao")
        assert ("1 not acknowledged" if lang == "en" else "1条未确认") in text(app, "#title")
        assert ("Acknowledged by zhao" if lang == "en" else "已由 zhao") in text(app, "#detail")
        await pilot.press("f5")  # again: already acknowledged, nothing written
        await until(pilot, lambda: "already" in screen.message or "已确认过" in screen.message)
        assert len(acks(node)) == 1


async def test_f8_acknowledges_with_a_note_and_down_selects(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    app = Shell(node, CLERK)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(rows(app)) == 2)
        await pilot.press("down", "f8")
        await pilot.pause()
        await pilot.press(*"order sent", "enter")
        await until(pilot, lambda: len(acks(node)) == 1)
        ((_, ref, note),) = acks(node)
        assert ref == "below_reorder:S01/RICE/5000" and note == "order sent"
        await until(pilot, lambda: "order sent" in text(app, "#detail"))


async def test_filter_by_kind_and_by_scanned_product(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    app = Shell(node, CLERK)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        await until(pilot, lambda: len(rows(app)) == 2)
        await pilot.press("f4")
        await until(pilot, lambda: [r[1] for r in rows(app)] == ["negative"])
        assert "negative" in text(app, "#title")
        await pilot.press("f4")
        await until(pilot, lambda: [r[1] for r in rows(app)] == ["reorder"])
        await pilot.press("f4")  # back to all
        await until(pilot, lambda: len(rows(app)) == 2)
        screen.scanned("6901234567892")  # COLA's barcode
        await until(pilot, lambda: [r[2] for r in rows(app)] == ["COLA"])
        assert "product COLA" in text(app, "#title")
        screen.scanned("NOPE")
        await until(pilot, lambda: "no product has the code 'NOPE'" in screen.message)
        assert [r[2] for r in rows(app)] == ["COLA"]  # the filter stays
        await pilot.press(*"RICE", "enter")
        await until(pilot, lambda: [r[2] for r in rows(app)] == ["RICE"])
        await pilot.press("escape")  # the product filter goes, the screen stays
        await until(pilot, lambda: len(rows(app)) == 2)
        assert app.screen is screen


async def test_a_cashier_sees_alerts_but_cannot_acknowledge(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    app = Shell(node, User("li", "李娜", "cashier"))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        await until(pilot, lambda: len(rows(app)) == 2)
        await pilot.press("enter")
        await until(pilot, lambda: "无权确认提醒" in screen.message)
        assert acks(node) == []


async def test_no_alerts_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    app = Shell(node, CLERK)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        await until(pilot, lambda: text(app, "#detail") == "No alerts")
        await pilot.press("f5")
        await until(pilot, lambda: screen.message == "No alerts")


async def test_f6_shows_what_arrived_since_and_esc_goes_back(node, monkeypatch):
    from textual.screen import Screen

    monkeypatch.setenv("KUCUN_LANG", "en")

    class Menu(App[None]):
        def on_mount(self) -> None:
            self.push_screen(Screen())
            self.push_screen(AlertsScreen(node, CLERK))

    app = Menu()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(rows(app)) == 2)
        node.add_product("TEA", "Tea", price="9.00")
        node.sell("TEA", "1")  # e.g. written by another till, brought by the sync
        await pilot.press("f6")
        await until(pilot, lambda: len(rows(app)) == 3)
        assert rows(app)[0][2] == "TEA"  # newest first
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AlertsScreen))
