"""The till's frame: login and lock, status bar, help and palette, sync on its own thread,
scans routed to the sale screen (a burst of 30 loses none), logs to a file."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import warnings
from datetime import datetime
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import Input, Static

from node.service import Node
from node.till.app import TillApp, log_file_for, log_to_file
from node.till.help import HelpScreen
from node.till.login import LoginScreen
from node.till.palette import TillCommand
from node.till.status import StatusBar, TillStatus, format_age, status_line
from node.users import add_user
from tests.helpers import kucun

OFFLINE = "nats://127.0.0.1:1"


def make_node(tmp_path: Path) -> Node:
    node = Node.init(tmp_path / "store.db", "S01", None, OFFLINE)
    add_user(node, "wang", "王芳", "cashier", "1234")
    add_user(node, "li", "李强", "manager", "5678")
    return node


def stocked(node: Node, count: int) -> list[str]:
    """`count` products with barcodes, stocked: what a scanner may scan."""
    codes = []
    for i in range(count):
        code = f"69000000{i:05d}"
        node.add_product(f"P{i:02d}", f"Item {i}", barcode=code, price="1.00")
        node.receive(f"P{i:02d}", "100")
        codes.append(code)
    return codes


def scanned_skus(app: TillApp) -> list[str]:
    """What reached the sale screen's `scanned`: its basket's SKUs."""
    return [line.sku for line in app.session.basket.lines]


async def wait_for(pilot, condition, tries: int = 200, step: float = 0.05) -> bool:
    for _ in range(tries):
        if condition():
            return True
        await pilot.pause(step)
    return condition()


def pin_focused(app: TillApp) -> bool:
    """The lock screen is up and waits for the PIN."""
    return app.locked and app.focused is not None and app.focused.id == "pin"


async def log_in(pilot, user: str = "wang", pin: str = "1234") -> None:
    await pilot.press(*user, "enter", *pin, "enter")
    app = pilot.app
    await wait_for(
        pilot, lambda: not isinstance(app.screen, LoginScreen) and isinstance(app.focused, Input)
    )


# ---- the status line (pure) ------------------------------------------------------------

BUSY = TillStatus(
    user="欧阳娜娜娜娜娜娜",
    shift_opened_at="2026-12-02T08:00:00Z",
    devices=(("scanner", "ready"), ("scale", "disconnected"), ("printer", "connecting")),
    online=False,
    unsent_sales=1234,
    oldest_unsent_age_s=3 * 3600,
    last_confirmed_ms=1_764_662_400_000,
)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("width", [80, 100])
def test_status_line_fits_with_every_part(lang, width):
    line = status_line(BUSY, width, lang)
    assert cell_len(line) <= width - 2
    scale = "秤✗" if lang == "zh-CN" else "scale✗"
    unsent = "待传1234单3时" if lang == "zh-CN" else "1234 unsent 3h"
    for part in (scale, unsent, "离线" if lang == "zh-CN" else "offline"):
        assert part in line
    assert line.startswith("欧阳")  # the name gives way, nothing else


def test_status_line_parts():
    quiet = TillStatus(user="王芳", online=True, last_confirmed_ms=None)
    assert status_line(quiet, 80, "zh-CN") == "王芳 | 未开班 | 在线 | 已传完 | 未确认"
    assert status_line(quiet, 80, "en") == "王芳 | no shift | online | all sent | unconfirmed"
    assert "no user" in status_line(TillStatus(), 80, "en")
    unsynced = TillStatus(user="w", sync_enabled=False, unsent_sales=2)
    assert status_line(unsynced, 80, "en") == "w | no shift | 2 unsent"
    assert "scan~" in status_line(TillStatus(devices=(("scanner", "connecting"),)), 80, "en")


def test_ages_are_short():
    assert [format_age(s, "en") for s in (5, 59, 60, 3599, 7200, 200000)] == [
        "5s",
        "59s",
        "1m",
        "59m",
        "2h",
        "2d",
    ]
    assert format_age(125, "zh-CN") == "2分"


@pytest.mark.parametrize("width", [80, 100])
async def test_the_bar_on_screen_is_whole(tmp_path, width):
    node = make_node(tmp_path)
    app = TillApp(node, sync=True, lock_after_s=0)
    async with app.run_test(size=(width, 24)) as pilot:
        await log_in(pilot)
        bar = app.screen.query_one(StatusBar)
        bar.redraw()
        shown = str(bar.render())
        assert shown == status_line(app.till_status(), width)
        assert cell_len(shown) <= width - 2
        assert shown.endswith("unconfirmed")  # the last part is there: nothing cut


# ---- login and lock --------------------------------------------------------------------


async def test_login_refuses_a_wrong_pin_then_opens_the_sale_screen(tmp_path):
    node = make_node(tmp_path)
    app = TillApp(node, sync=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await pilot.press(*"wang", "enter", *"9999", "enter")
        message = str(app.screen.query_one("#login-message", Static).render())
        assert "wrong PIN" in message
        assert isinstance(app.screen, LoginScreen)
        await pilot.press(*"1234", "enter")
        assert await wait_for(pilot, lambda: not isinstance(app.screen, LoginScreen))
        assert node.user == "wang"
        assert app.user.id == "wang"
        assert app.screen.query(StatusBar)
        bar = app.screen.query_one(StatusBar)
        bar.redraw()
        assert str(bar.render()).startswith("王芳 | ")


async def test_login_in_chinese(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    node = make_node(tmp_path)
    app = TillApp(node, sync=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "收银员登录" in str(app.screen.query_one("#login-title").render())
        await pilot.press(*"nobody", "enter", *"1234", "enter")
        message = str(app.screen.query_one("#login-message", Static).render())
        assert "nobody" in message
        assert not message.isascii()


async def test_idle_till_locks_and_the_same_cashier_unlocks(tmp_path):
    node = make_node(tmp_path)
    app = TillApp(node, sync=False, lock_after_s=0.5)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        sale = app.screen_stack[2]  # the default screen, the login screen, the sale
        assert type(sale).__name__ == "SaleScreen"
        assert await wait_for(pilot, lambda: pin_focused(app), tries=100)
        app.scanned("6900000000000")  # a scan on the lock screen sells nothing
        assert app.screen.query_one("#user", Input).value == "wang"
        await pilot.press("ctrl+q")  # a locked till is not closed by whoever walks by
        assert app.is_running and app.locked
        await pilot.press(*"0000", "enter")
        assert app.locked
        await pilot.press(*"1234", "enter")
        assert await wait_for(pilot, lambda: not app.locked)
        assert app.screen is sale
        assert app.user.id == "wang"


async def test_another_cashier_takes_over_the_basket(tmp_path):
    node = make_node(tmp_path)
    codes = stocked(node, 2)
    app = TillApp(node, sync=False, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        app.scanned(codes[0])
        await pilot.pause()
        assert scanned_skus(app) == ["P00"]
        await pilot.press("ctrl+l")
        assert await wait_for(pilot, lambda: pin_focused(app))
        user = app.screen.query_one("#user", Input)
        user.value = ""
        user.focus()
        await pilot.press(*"li", "enter", *"5678", "enter")
        assert await wait_for(pilot, lambda: not app.locked)
        assert node.user == "li"
        assert app.user.id == "li"
        if app.session is not None:
            assert app.session.user.id == "li"
        assert scanned_skus(app) == ["P00"]  # the basket stays


async def test_lock_after_zero_never_locks(tmp_path):
    node = make_node(tmp_path)
    app = TillApp(node, sync=False, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await pilot.pause(1.5)
        assert not app.locked


async def test_a_scan_before_login_is_refused(tmp_path):
    node = make_node(tmp_path)
    codes = stocked(node, 1)
    app = TillApp(node, sync=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.scanned(codes[0])
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        await log_in(pilot)
        assert scanned_skus(app) == []


# ---- scans in bursts -------------------------------------------------------------------


@pytest.mark.slow
async def test_a_wedge_burst_of_30_codes_loses_none(tmp_path):
    node = make_node(tmp_path)
    stocked(node, 30)
    codes = [f"P{i:02d}" for i in range(30)]
    app = TillApp(node, sync=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        # typed as a wedge scanner types them; SKUs rather than 13-digit barcodes, as the
        # pilot waits for the screen after every key (the pty scanner's burst of 30
        # barcodes is tests/test_tui.py's)
        keys = [key for code in codes for key in (*code, "enter")]
        await pilot.press(*keys)
        assert await wait_for(pilot, lambda: len(scanned_skus(app)) == 30)
        assert scanned_skus(app) == [f"P{i:02d}" for i in range(30)]


# ---- sync on its own thread, the unsent count ------------------------------------------


async def test_unsent_sales_move_while_offline(tmp_path):
    """Found bug: "待同步 N 条" stayed 0 after two offline sales, and counted events."""
    node = make_node(tmp_path)
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.receive("COLA", "10")
    app = TillApp(node, sync=True, sync_interval=0.2, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        bar = app.screen.query_one(StatusBar)
        assert await wait_for(pilot, lambda: app.sync is not None and app.sync.status().last_error)
        node.sell("COLA", "2")
        node.sell("COLA", "1")
        await pilot.pause(1.2)
        text = str(bar.render())
        assert "offline" in text
        assert "2 unsent" in text  # two sales, not their six events
        assert app.till_status().unsent_sales == 2
        # the worker runs on its own thread and loop, never the UI's
        assert app.sync is not None
        assert app.sync._thread is not threading.current_thread()
        assert app.sync._loop is not asyncio.get_running_loop()
        assert "hub unreachable" in (app.sync.status().last_error or "")


async def test_the_ui_answers_while_sync_is_busy(tmp_path):
    """A long round on the sync thread does not hold up the UI's loop."""
    node = make_node(tmp_path)
    app = TillApp(node, sync=True, sync_interval=0.2, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.sync is not None and app.sync._loop is not None)
        assert app.sync is not None
        loop = app.sync._loop
        assert loop is not None
        blocked = threading.Event()
        loop.call_soon_threadsafe(lambda: blocked.wait(3))  # the sync loop is stuck
        await log_in(pilot)
        assert app.user.id == "wang"
        blocked.set()


# ---- help, palette, styles, logs -------------------------------------------------------


async def test_f1_shows_the_keys_and_closes(tmp_path):
    node = make_node(tmp_path)
    app = TillApp(node, sync=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = [str(r.render()) for r in app.screen.query(".help-row")]
        for key, text in (("F12", "Pay"), ("F4", "Return"), ("F1", "Help"), ("Ctrl+L", "Lock")):
            assert any(r.startswith(key) and text in r for r in rows), (key, rows)
        assert not any("cursor" in r or "Scroll" in r or "Focus" in r for r in rows)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_palette_offers_the_tills_commands(tmp_path):
    node = make_node(tmp_path)
    app = TillApp(node, sync=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        names = [c.name for c in app.palette_commands()]
        assert {"Help: the keys", "Lock the till", "Sync now", "Close the till"} <= set(names)
        await pilot.press("ctrl+p")
        await pilot.press(*"Lock the")
        await pilot.pause(0.5)
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: pin_focused(app))


def test_styles_are_an_external_file_in_the_package():
    import node.till

    assert TillApp.CSS_PATH == "till.tcss"
    assert (Path(node.till.__file__).parent / "till.tcss").is_file()


def test_logs_go_to_a_file_beside_the_ledger(tmp_path, capsys):
    path = log_file_for(tmp_path / "store.db")
    assert path == tmp_path / "store.db.log"
    with log_to_file(path):
        logging.getLogger("kucun.node.sync").warning("sync interrupted: test")
    logging.getLogger("kucun.node.sync").warning("after")
    assert "sync interrupted: test" in path.read_text()
    assert "sync interrupted" not in capsys.readouterr().err


def test_logs_in_the_file_keep_the_chosen_format(tmp_path, capsys):
    """`kucun --log-format json node run`: the file has one JSON object per line."""
    from kucun import logs

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        logs.setup("info", "json")
        path = tmp_path / "store.db.log"
        with log_to_file(path):
            logging.getLogger("kucun.node.sync").info("sync: sent %d, pulled %d", 3, 0)
            warnings.warn("a library's warning", UserWarning, stacklevel=1)
        entries = [json.loads(line) for line in path.read_text().splitlines()]
        assert entries[0]["logger"] == "kucun.node.sync"
        assert entries[0]["msg"] == "sync: sent 3, pulled 0"
        assert "a library's warning" in entries[1]["msg"]
        assert capsys.readouterr().err == ""
    finally:
        root.handlers[:] = before
        root.setLevel(level)


@pytest.mark.slow
async def test_a_sale_is_sent_at_once_and_the_hub_confirms_it(tmp_path, nats_server, hub):
    """Sync wakes after a local write (rounds are 60 s apart here), and the bar shows the
    hub's confirmation once it comes."""
    node = Node.init(tmp_path / "store.db", "S01", None, nats_server.url)
    add_user(node, "wang", "王芳", "cashier", "1234")
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.receive("COLA", "10")
    app = TillApp(node, sync_interval=60.0, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        assert await wait_for(pilot, lambda: app.till_status().online, tries=300)
        node.sell("COLA", "1")
        assert app.till_status().unsent_sales == 1
        assert await wait_for(pilot, lambda: app.till_status().unsent_sales == 0, tries=200)
        for _ in range(60):  # the hub folds it in its own time: ask again until it says so
            if app.till_status().last_confirmed_ms:
                break
            app.wake_sync()
            await pilot.pause(0.5)
        status = app.till_status()
        assert status.last_confirmed_ms is not None
        bar = app.screen.query_one(StatusBar)
        bar.redraw()
        text = str(bar.render())
        assert "online" in text and "all sent" in text and "ok " in text


async def test_an_added_command_has_its_key_and_is_in_the_palette(tmp_path):
    """The demo's "scan a sample" (Ctrl+T) is such a command."""
    node = make_node(tmp_path)
    asked: list[str] = []
    sample = TillCommand("Demo: scan a sample", "Ctrl+T", lambda: asked.append("scan"), "ctrl+t")
    app = TillApp(node, sync=False, lock_after_s=0, commands=[sample])
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        assert sample in app.palette_commands()
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert asked == ["scan"]
        await pilot.press("f1")
        rows = [str(r.render()) for r in app.screen.query(".help-row")]
        assert any(r.startswith("Ctrl+T") and "Demo: scan a sample" in r for r in rows)


async def test_the_bar_shows_the_open_shift(tmp_path):
    from node.shifts import open_shift

    node = make_node(tmp_path)
    app = TillApp(node, sync=False, lock_after_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        bar = app.screen.query_one(StatusBar)
        bar.redraw()
        assert "no shift" in str(bar.render())
        shift = open_shift(node, "200.00")  # as the cashier who logged in
        assert shift.opened_by == "wang"
        bar.redraw()
        opened = datetime.fromisoformat(shift.opened_at).astimezone().strftime("%H:%M")
        assert f"王芳 | shift {opened} |" in str(bar.render())


def test_run_refuses_a_negative_lock_time(tmp_path):
    make_node(tmp_path)
    result = kucun("node", "run", "--db", str(tmp_path / "store.db"), "--lock-after", "-5")
    assert result.returncode == 2
    assert "give idle seconds, e.g. 300, or 0 for never" in result.stderr


def test_help_lists_the_screens_own_keys_before_the_apps():
    """On the shift screen F2 is the X report: help must not call it the lookup."""
    from node.till.help import key_rows

    rows = dict(key_rows([("F2", "X report"), ("F12", "Z report")]))
    assert rows["F2"] == "X report"
    assert rows["F12"] == "Z report"
    assert {"F1", "Ctrl+P", "Ctrl+L", "Ctrl+Q"} <= set(rows)
    assert "F4" not in rows  # the sale screen's return key does nothing here
    assert {"F2", "F4", "F12"} <= set(dict(key_rows()))  # the login lists the till's keys
