"""Lookup (F2): find a product by SKU, barcode, name or pinyin and see what it holds here
(per lot, with expiry), its price, its last movements, and the other stores' stock as the
hub last said. Decisions are `node.lookup.Lookup`'s; this screen lays them out.

The hub is asked on a worker thread (never on the UI loop), with a short timeout; the
answer is kept node-local, so offline the screen shows it "as of" its time. Pushed with
`pick=True` (the sale screen's F2) it dismisses with the chosen SKU, else with None.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from ledger.readmodel import Product
from node.errors import NodeError
from node.lookup import Lookup, OtherStores, ProductDetail, inactive_text
from node.permissions import User
from node.service import Node
from node.till.confirm import bind_keys
from node.till.status import StatusBar
from node.till.texts_lookup import MESSAGES, doc_kind, t
from protocol.units import format_money, format_qty
from replication.stock_query import StockAnswer

KEYS = (
    ("f5", "ask", "key_ask"),
    ("escape", "leave", "key_close"),
    ("up", "cursor(-1)", ""),
    ("down", "cursor(1)", ""),
)
#: an answer younger than this is not asked for again when a product is shown again
FRESH_S = 30.0
#: how long the cursor rests on a product before the hub is asked about it
SETTLE_S = 0.25


def _when(ms: int) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(ms / 1000))


def _qty(milli: int, unit: str) -> str:
    """Pieces as a whole number ("24"), anything else with three decimals ("1.250")."""
    if unit == "pcs" and milli % 1000 == 0:
        return str(milli // 1000)
    return format_qty(milli)


def detail_text(
    detail: ProductDetail,
    here: str,
    others: OtherStores | None,
    state: str = "",
    lang: str | None = None,
) -> str:
    """The right-hand panel: name, price and barcode, stock here per lot, other stores
    (`state`: "asking", "offline" or "" when settled), the last movements."""
    p = detail.product
    price = t("price", lang, price=format_money(p.price)) if p.price is not None else ""
    head = [f"[b]{escape(p.name or p.sku)}[/b]", f"{p.sku}  {price or t('no_price', lang)}"]
    if p.barcode:
        head.append(t("barcode", lang, barcode=p.barcode))
    inactive = inactive_text(p, lang)
    if inactive:
        head.append(f"[b]{escape(inactive)}[/b]")
    unit = t(f"unit_{p.unit}", lang) if f"unit_{p.unit}" in MESSAGES else p.unit
    lines = [*head, t("here", lang, qty=_qty(detail.on_hand, p.unit), unit=unit)]
    for lot in detail.lots:
        qty = _qty(lot.qty, p.unit)
        if lot.lot is None and lot.expiry is None:
            lines.append(t("lot_none", lang, qty=qty))
            continue
        lines.append(
            t(
                "lot",
                lang,
                lot=escape(lot.lot) if lot.lot else t("no_lot", lang),
                expiry=lot.expiry or t("no_expiry", lang),
                qty=qty,
            )
        )
    lines.append("")
    lines += _others_lines(others, here, state, p.unit, lang)
    lines.append("")
    lines.append(t("moves", lang))
    for m in detail.movements:
        sign = "+" if m.qty > 0 else ""
        lines.append(
            t(
                "move",
                lang,
                time=_when(m.at_ms),
                what=doc_kind(m.doc_type, lang),
                qty=f"{sign}{_qty(m.qty, p.unit)}",
                after=_qty(m.after, p.unit),
            )
        )
    if not detail.movements:
        lines.append(t("no_moves", lang))
    return "\n".join(lines)


def _others_lines(
    others: OtherStores | None, here: str, state: str, unit: str, lang: str | None
) -> list[str]:
    if others is None:
        title = t("others", lang)
        note = {"asking": "others_asking", "offline": "others_offline"}.get(state, "others_unknown")
        return [title, "  " + t(note, lang)]
    key = "others_now" if others.fresh else "others_as_of"
    lines = [t(key, lang, time=_when(others.as_of_ms))]
    if state == "asking":
        lines[0] += "  " + t("others_asking", lang)
    for store, qty in others.levels:
        mark = t("this_store", lang) if store == here else ""
        lines.append(t("store_qty", lang, store=f"{store}{mark}", qty=_qty(qty, unit)))
    if not others.levels:
        lines.append(t("others_none", lang))
    return lines


class LookupScreen(Screen[str | None]):
    """Search on the left, the chosen product on the right."""

    CSS_PATH = "lookup.tcss"

    def __init__(self, node: Node, user: User, pick: bool = False) -> None:
        super().__init__()
        self.node = node
        self.user = user
        self.pick = pick
        self.lookup: Lookup | None = None
        self.refused = ""
        try:
            self.lookup = Lookup(node, user)
        except NodeError as exc:
            self.refused = str(exc)
        self.shown: str | None = None
        self.others: OtherStores | None = None
        self.state = ""
        #: the hub's answers during this screen's life: (monotonic time, as shown)
        self._answers: dict[str, tuple[float, OtherStores]] = {}
        self._settle: Timer | None = None
        keys = KEYS + ((("enter", "choose", "key_pick"),) if pick else ())
        bind_keys(self, keys, texts=t)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Input(placeholder=t("prompt"), id="query")
        with Horizontal(id="lookup"):
            yield DataTable(id="found", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="detail-box"):
                yield Static(t("nothing_chosen"), id="detail")
        yield Static("", id="message")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#found", DataTable)
        table.add_column(t("col_sku"), key="sku", width=9)
        table.add_column(t("col_name"), key="name", width=14)
        table.add_column(t("col_price"), key="price", width=7)
        if self.lookup is None:
            self.say(self.refused or t("not_allowed"), error=True)
            self.query_one("#query", Input).disabled = True
            return
        self.search("")
        self.query_one("#query", Input).focus()

    # ---- searching -----------------------------------------------------------------------

    def search(self, text: str) -> list[Product]:
        if self.lookup is None:
            return []
        found = self.lookup.search(text)
        table = self.query_one("#found", DataTable)
        table.clear()
        for p in found:
            price = format_money(p.price) if p.price is not None else ""
            table.add_row(p.sku, p.name or "", price, key=p.sku)
        if text.strip():
            if found:
                self.say(t("found", count=len(found)))
            else:
                self.say(t("none_found", query=text.strip()), error=True)
        else:
            self.say("")
        if found:
            table.move_cursor(row=0)
            self.show(found[0].sku)
        else:  # nothing to show, nothing Enter could choose
            self.shown = None
            self.query_one("#detail", Static).update(t("nothing_chosen"))
        return found

    def scanned(self, code: str) -> None:
        """A scanned code: search it; a code that names one product exactly shows it (and,
        picking for a sale, chooses it)."""
        if self.lookup is None:
            return
        query = self.query_one("#query", Input)
        with query.prevent(Input.Changed):
            query.value = code
        query.cursor_position = len(code)  # the clerk may edit it on from its end
        self.search(code)
        product = self.lookup.scanned(code)
        if product is not None and self.pick:
            self.dismiss(product.sku)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.pick:
            self.action_choose()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.show(str(event.row_key.value))

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#found", DataTable)
        if step < 0:
            table.action_cursor_up()
        else:
            table.action_cursor_down()

    def action_choose(self) -> None:
        if self.pick and self.shown is not None:
            self.dismiss(self.shown)

    def action_leave(self) -> None:
        self.dismiss(None)

    # ---- one product ----------------------------------------------------------------------

    def show(self, sku: str) -> None:
        if self.lookup is None or sku == self.shown:
            return
        self.shown = sku
        recent = self._answers.get(sku)
        if recent is not None and time.monotonic() - recent[0] <= FRESH_S:
            self.others, self.state = recent[1], ""  # answered a moment ago: not asked again
            self.redraw()
            return
        self.others = self.lookup.cached_other_stores(sku)
        if not self._online():
            self.state = "offline"
            self.redraw()
            return
        # asked once the cursor rests: scrolling through the results asks for none of them
        self.state = "asking"
        self.redraw()
        if self._settle is not None:
            self._settle.stop()
        self._settle = self.set_timer(SETTLE_S, lambda: self._settled(sku))

    def _settled(self, sku: str) -> None:
        self._settle = None
        if sku == self.shown:
            self.ask(sku)

    def action_ask(self) -> None:
        if self.shown is not None:
            self.ask(self.shown, force=True)

    def ask(self, sku: str, force: bool = False) -> None:
        """Ask the hub on a worker thread; offline (as the status bar knows it) only when
        the clerk asks with F5."""
        if not force and not self._online():
            self.state = "offline"
            self.redraw()
            return
        lookup = self.lookup
        if lookup is None:
            return
        self.state = "asking"
        self.redraw()
        self.run_worker(
            lambda: self._ask(lookup, sku),
            thread=True,
            group="ask",
            exit_on_error=False,
        )

    def _ask(self, lookup: Lookup, sku: str) -> None:
        """On a worker thread: network only; the answer goes to the UI's thread."""
        answer = lookup.ask_other_stores(sku)
        with contextlib.suppress(RuntimeError):  # the app has stopped
            self.app.call_from_thread(self.answered, sku, answer)

    def answered(self, sku: str, answer: StockAnswer | None) -> None:
        """On the UI's thread: keep the answer, show it if the product is still shown."""
        if self.lookup is None:
            return
        if answer is not None:
            kept = self.lookup.remember(answer)
            self._answers[sku] = (time.monotonic(), kept)
        else:
            kept = self.lookup.cached_other_stores(sku)
        if sku == self.shown:
            self.others = kept
            self.state = "" if answer is not None or kept is not None else "unknown"
            self.redraw()

    def _online(self) -> bool:
        source: Any = getattr(self.app, "till_status", None)
        status = source() if callable(source) else None
        if status is None or not getattr(status, "sync_enabled", False):
            return True  # nothing tells us: try, the timeout is short
        return bool(getattr(status, "online", False))

    def redraw(self) -> None:
        if self.lookup is None or self.shown is None or not self.is_attached:
            return  # (an answer may come after the clerk has left)
        detail = self.lookup.detail(self.shown)
        text = detail_text(detail, self.node.config.location, self.others, self.state)
        if self.pick:
            text += "\n\n" + t("picked_hint")
        self.query_one("#detail", Static).update(text)

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#message", Static)
        message.update(text)
        message.set_class(error, "error")
