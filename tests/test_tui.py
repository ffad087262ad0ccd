"""The counter UI driven by Textual's pilot against a real ledger file."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from node.service import Node
from node.tui import CounterApp


async def test_scan_sells_and_updates_stock(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.receive("COLA", "10")
    app = CounterApp(node, sync=False)
    async with app.run_test() as pilot:
        await pilot.press(*"6901234567892 2", "enter")
        message = str(app.query_one("#message", Static).render())
        assert "Sold 2.000 × COLA, total 6.00" in message
        table = app.query_one("#stock", DataTable)
        assert table.get_row_at(0)[3] == "8.000"
        await pilot.press(*"NOPE", "enter")
        assert "unknown code 'NOPE'" in str(app.query_one("#message", Static).render())
    # committed before it was shown: a fresh connection sees the sale
    reopened = Node.open(tmp_path / "store.db")
    assert reopened.stock(sku="COLA")[0].qty == 8000


async def test_offline_link_is_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    app = CounterApp(node, sync_interval=0.2)
    async with app.run_test() as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.status.last_error:
                break
        app.refresh_link()
        assert "offline" in str(app.query_one("#link", Static).render())
        assert "hub unreachable" in app.status.last_error
