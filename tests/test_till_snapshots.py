"""Snapshots of the selling screens at 80×24 in zh-CN and English: what the cashier sees,
as text, cell for cell (times of day masked). A changed layout fails here until the
snapshot is looked at and rewritten: `KUCUN_UPDATE_SNAPSHOTS=1 pytest tests/test_till_snapshots.py`.

Text rather than SVG: pytest-textual-snapshot 1.1.0 needs syrupy 4, which needs pytest < 9.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from rich.console import Console
from textual.app import App

from tests.test_till_sale import SIZE, Till, session_of, shop

SNAPSHOTS = Path(__file__).parent / "snapshots" / "till"
_TIMES = re.compile(r"\d{4}-\d\d-\d\d( |T)\d\d:\d\d(:\d\d)?|\b\d\d:\d\d\b")


def screen_text(app: App) -> str:
    """The screen on top as a terminal shows it, one line per row, times masked."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
    )
    console.print(
        app.screen._compositor.render_update(  # pyright: ignore[reportPrivateUsage]
            full=True,
            screen_stack=app._background_screens,  # pyright: ignore[reportPrivateUsage]
        )
    )
    text = console.export_text()
    return "\n".join(
        _TIMES.sub(lambda m: re.sub(r"\d", "9", m.group()), line.rstrip())
        for line in text.splitlines()
    )


def check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("KUCUN_UPDATE_SNAPSHOTS") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == path.read_text(encoding="utf-8")


@pytest.fixture(params=["zh-CN", "en"])
def lang(request, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", request.param)
    return request.param


def store(tmp_path):
    node = shop(tmp_path / "store.db")
    node.add_product("TEA", "龙井绿茶 250g", price="48.00")
    node.receive("TEA", "5")
    return node


async def test_sale_and_pay_screens(tmp_path, lang):
    session = session_of(store(tmp_path))
    app = Till(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"COLA 2", "enter", *"EGG 0.642", "enter", *"TEA", "enter")
        await pilot.pause()
        check(f"sale-{lang}", screen_text(app))
        await pilot.press("f12", *"10", "f3", *"100", "f2")
        await pilot.pause()
        check(f"pay-{lang}", screen_text(app))


async def test_return_screen(tmp_path, lang):
    session = session_of(store(tmp_path))
    session.scan("COLA 3")
    session.scan("TEA")
    sale = session.pay(["wechat"])
    app = Till(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", *sale.doc, "enter", "plus", "f3")
        await pilot.pause()
        check(f"return-{lang}", screen_text(app))


async def test_shift_screen(tmp_path, lang):
    session = session_of(store(tmp_path))
    session.scan("TEA")
    session.pay(["cash:50.00"])
    app = Till(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f10", "f2")
        await pilot.pause()
        check(f"shift-x-{lang}", screen_text(app))
        await pilot.press(*"248.00", "enter", "y")
        await pilot.pause()
        check(f"shift-z-{lang}", screen_text(app))
