"""The stocktake screen (盘点): join or open the store's count, choose a place, scan, finish
the place (a tally), review, approve (a manager). Layout only: node.stocktake.Counting
decides, the ledger keeps every step."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Input, Static

from node.permissions import User, may
from node.service import Node
from node.stocktake import Counting
from node.till.approval import ManagerModal
from node.till.confirm import PromptModal, bind_keys
from node.till.message import MessageScreen
from node.till.status import StatusBar
from node.till.texts_stocktake import t
from node.users import APPROVER_ROLES
from protocol.i18n import Translatable
from protocol.units import format_money, format_qty

#: (key, action, text key): what the footer shows
KEYS = (
    ("f2", "join", "key_join"),
    ("f3", "place", "key_place"),
    ("f5", "finish", "key_finish"),
    ("f6", "review", "key_review"),
    ("f9", "approve", "key_approve"),
    ("escape", "back", "key_back"),
)


class StocktakeScreen(MessageScreen[None]):
    """Count this store with others. `scanned(code)` is the scanner's way in."""

    CSS_PATH = "stocktake.tcss"

    def __init__(self, node: Node, user: User, scale: Any = None) -> None:
        super().__init__()
        self.node = node
        self.user = user
        self.counting = Counting(node, user.id)
        self._scale = scale
        self.reviewing = False
        bind_keys(self, KEYS, t)

    @property
    def scale(self) -> Any:
        return self._scale if self._scale is not None else getattr(self.app, "scale", None)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="stocktake-title", classes="title")
        yield Input(placeholder=t("prompt"), id="scan")
        yield DataTable(id="counted", cursor_type="row", zebra_stripes=True)
        yield Static("", id="message")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#counted", DataTable).can_focus = False
        if not may(self.user.role, "count"):
            self.refuse(t("not_allowed", user=self.user.id))
        else:  # join the store's open session; starting one is F2's, never a side effect
            found = self._try(lambda: self.counting.join(open_new=False))
            if found is not None:
                self.say(t("joined", doc=found[0]))
                self.title_line()
            else:
                self.say(t("none_open"))
        self.show_place()
        self.query_one("#scan", Input).focus()

    # ---- showing ------------------------------------------------------------------------

    def title_line(self) -> None:
        self.query_one("#stocktake-title", Static).update(
            t(
                "title",
                doc=self.counting.doc or t("no_session"),
                place=self.counting.place or t("no_place"),
                user=self.user.name,
            )
        )

    def show_place(self) -> None:
        """The table lists what was scanned at the place so far."""
        self.reviewing = False
        table = self.query_one("#counted", DataTable)
        table.clear(columns=True)
        table.add_column(t("col_item"), width=30)
        table.add_column(t("col_lot"), width=12)
        table.add_column(t("col_qty"), width=12)
        for (sku, lot), qty in self.counting.lines.items():
            table.add_row(self.product_name(sku), lot or "", format_qty(qty))
        self.title_line()

    def show_review(self) -> None:
        self.reviewing = True
        rows = self.counting.review()
        session = self.counting.status()
        table = self.query_one("#counted", DataTable)
        table.clear(columns=True)
        for key, width in (
            ("col_item", 20),
            ("col_lot", 8),
            ("col_expected", 9),
            ("col_counted", 9),
            ("col_variance", 9),
            ("col_value", 10),
        ):
            table.add_column(t(key), width=width)
        for r in rows:
            table.add_row(
                self.product_name(r.sku),
                r.lot or "",
                format_qty(r.expected),
                "-" if r.counted is None else format_qty(r.counted),
                "-" if r.variance is None else format_qty(r.variance),
                "-" if r.value is None else format_money(r.value),
            )
        value = sum(r.value or 0 for r in rows)
        missing = sum(1 for r in rows if r.counted is None)
        who = ", ".join(sorted({f"{p.user}@{p.place}" for p in session.places}))
        self.say(
            t("review", counted=len(rows) - missing, missing=missing, value=format_money(value))
            + "\n"
            + t("review_places", who=who or "-")
        )

    def product_name(self, sku: str) -> str:
        product = self.node.read.product(sku)
        return f"{product.name} ({sku})" if product and product.name else sku

    def _try(self, act: Any) -> Any:
        try:
            return act()
        except Translatable as exc:
            self.refuse(str(exc))
            return None

    # ---- actions ------------------------------------------------------------------------

    def action_join(self) -> None:
        found = self._try(self.counting.join)
        if found:
            doc, opened = found
            self.say(t("opened" if opened else "joined", doc=doc))
            self.title_line()

    def action_place(self) -> None:
        def answered(value: str | None) -> None:
            if value is None:
                return
            place = self._try(lambda: self.counting.choose_place(value))
            if place is not None:
                self.show_place()
                self.say(t("place_chosen", place=place))

        self.app.push_screen(PromptModal(t("ask_place"), self.counting.place), answered)

    def action_finish(self) -> None:
        place = self.counting.place
        tally = self._try(self.counting.finish)
        if tally is not None:
            self.show_place()
            self.say(t("finished", place=place, tally=tally))

    def action_review(self) -> None:
        if self.reviewing:
            self.show_place()
            self.say("")
            return
        self._try(self.show_review)

    def action_approve(self) -> None:
        if self.user.role in APPROVER_ROLES:
            close = self._try(self.counting.approve)
            if close is not None:
                self._approved(close)
            return

        def answered(done: tuple[object] | None) -> None:
            if done is None:
                self.refuse(t("not_approved"))
            else:
                self._approved(str(done[0]))

        self.app.push_screen(ManagerModal(t("approval_title"), "", self.counting.approve), answered)

    def _approved(self, close: str) -> None:
        self._try(self.show_review)
        self.say(t("approved", close=close))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    # ---- scanning -----------------------------------------------------------------------

    def scanned(self, code: str) -> None:
        """A code from the scanner: the same as typing it and pressing Enter."""
        self.handle_line(code)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "scan":
            return
        event.input.value = ""
        self.handle_line(event.value)

    def handle_line(self, text: str) -> None:
        from node.counter import needs_weight

        if not text.strip():
            return
        scale = self.scale
        if scale is not None and self.counting.place and needs_weight(self.node, text):
            self.say(t("weighing"))
            self.run_worker(
                lambda: self._weigh(scale, text), thread=True, group="scale", exit_on_error=False
            )
            return
        self.count(text)

    def _weigh(self, scale: Any, text: str) -> None:
        """On a worker thread: wait for the scale's stable weight, then count on the UI."""
        from node.counter import weight_from_scale

        try:
            reading = scale.read_weight(timeout=5.0)
            weight = weight_from_scale(reading)
        except Exception as exc:  # a scale that fails is told, the count goes on
            self.app.call_from_thread(self.refuse, str(exc))
            return
        self.app.call_from_thread(self.count, text, weight)

    def count(self, text: str, weight: int | None = None) -> None:
        found = self._try(lambda: self.counting.scan(text, weight))
        if found is None:
            return
        (sku, _lot), qty = found
        self.show_place()
        self.say(t("counted", name=self.product_name(sku), qty=format_qty(qty)))
