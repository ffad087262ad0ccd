"""The receiving screen (入库): open purchase orders to choose from, or a delivery without
one; then scan what arrived against the order, re-count what differs, post.

`CountingScreen` is the frame receiving and transfers share: a list of documents, then a
count table (expected / scanned / difference, over and under highlighted). Every decision
is `node.till.receiving_session.Checkin`'s; the screen lays it out, forwards keys and
turns refusals into a translated message line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Input, Static

from node.permissions import User, may
from node.service import Node
from node.till.approval import ManagerModal
from node.till.confirm import ConfirmModal, PromptModal
from node.till.message import MessageScreen
from node.till.receiving_session import (
    Checkin,
    NeedsCheck,
    Row,
    differences_text,
    open_orders,
    qty_text,
    require,
)
from node.till.status import StatusBar
from node.till.texts_backroom_receiving import t
from protocol.documents import DocumentStatus
from protocol.events import Document, Event
from protocol.i18n import Message, Translatable
from protocol.units import format_money

#: (key, action, text key): every key either phase may show; `check_action` hides the rest
KEYS = (
    ("f3", "new", "key_blind"),
    ("f5", "recount", "key_recount"),
    ("f7", "cost", "key_cost"),
    ("f8", "remove", "key_remove"),
    ("f9", "manager", "key_manager"),
    ("f12", "post", "key_post"),
    ("escape", "back", "key_back"),
)
_LIST_ACTIONS = {"new", "back"}
_STYLES = {"over": "bold yellow", "extra": "bold yellow", "under": "bold red", "ok": ""}


class CountingScreen(MessageScreen[None]):
    """Choose a document, count what arrived or leaves, post. `scanned(code)` takes the
    scanner's codes; subclasses say which documents and which action."""

    CSS_PATH = "receiving.tcss"
    ACTION = "receive"
    NEW_KEY = "key_blind"

    def __init__(self, node: Node, user: User) -> None:
        super().__init__()
        self.node = node
        self.user = user
        self.checkin: Checkin | None = None
        self.documents: list[DocumentStatus] = []
        for key, action, text in KEYS:
            label = t(self.NEW_KEY if action == "new" else text)
            self._bindings.bind(key, action, label, key_display=_display(key))
        self._bindings.bind("up", "cursor(-1)", "", show=False)
        self._bindings.bind("down", "cursor(1)", "", show=False)

    # ---- what subclasses give ---------------------------------------------------------

    def list_title(self) -> str:
        return t("receiving_title")

    def list_empty(self) -> str:
        return t("no_orders")

    def list_documents(self) -> list[DocumentStatus]:
        return open_orders(self.node)

    def party_of(self, status: DocumentStatus) -> str:
        header = self.node.read.document_header(status.doc)
        return (header.counterparty or "") if header is not None else ""

    def open_document(self, doc: str) -> Checkin:
        return Checkin.purchase_order(self.node, self.user, doc)

    def action_new(self) -> None:
        """F3: a delivery without an order, from the supplier typed."""
        if self.checkin is not None or not self._allowed():
            return

        def answered(value: str | None) -> None:
            if value and value.strip():
                self._start(lambda: Checkin.blind(self.node, self.user, value))

        self.app.push_screen(PromptModal(t("ask_supplier")), answered)

    def posted_text(self, events: list[Event]) -> str:
        return t("posted_receipt", doc=_doc_of(events))

    # ---- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="title", classes="title")
        yield Input(placeholder=t("choose_prompt"), id="scan")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="summary")
        yield Static("", id="message")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#table", DataTable).can_focus = False
        self.query_one("#scan", Input).focus()
        if self._allowed():
            self.show_list()
        else:
            self.query_one("#title", Static).update(self.list_title())

    def _allowed(self) -> bool:
        if may(self.user.role, self.ACTION):
            return True
        try:
            require(self.user, self.ACTION)
        except Translatable as exc:
            self.refuse(str(exc))
        return False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer shows the keys of the phase the screen is in."""
        if action not in {a for _, a, _ in KEYS}:
            return True
        if self.checkin is None:
            return action in _LIST_ACTIONS
        if action == "new":
            return False
        if action == "cost":
            return self.checkin.kind in ("po", "blind")
        if action in ("recount", "manager"):
            return self.checkin.compares
        return True

    def show_list(self) -> None:
        self.checkin = None
        self.documents = self.list_documents()
        self.query_one("#title", Static).update(self.list_title())
        self.query_one("#scan", Input).placeholder = t("choose_prompt")
        table = self.query_one("#table", DataTable)
        table.clear(columns=True)
        table.add_column(t("col_doc"), width=16, key="doc")
        table.add_column(t("col_party"), width=12, key="party")
        table.add_column(t("col_lines"), width=4, key="lines")
        table.add_column(t("col_status"), width=18, key="status")
        table.add_column(t("col_diff"), width=16, key="diff")
        for status in self.documents:
            table.add_row(
                status.doc,
                self.party_of(status),
                str(len(status.lines)),
                str(Message(status.status.replace("_", " "))),
                differences_text(status, self.node),
            )
        self.query_one("#summary", Static).update("" if self.documents else self.list_empty())
        self.refresh_bindings()

    def show_count(self) -> None:
        checkin = self.checkin
        assert checkin is not None
        title = t(f"{checkin.kind}_title", doc=checkin.doc or "", party=checkin.party or "")
        if checkin.recounting is not None:
            title = t("recount_title")
        self.query_one("#title", Static).update(title)
        self.query_one("#title", Static).set_class(checkin.recounting is not None, "recount")
        self.query_one("#scan", Input).placeholder = t("scan_prompt")
        table = self.query_one("#table", DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        costs = checkin.kind in ("po", "blind")
        table.add_column(t("col_sku"), width=9, key="sku")
        table.add_column(t("col_name"), width=14 if checkin.compares else 30, key="name")
        if checkin.compares:
            expected = "col_expected_po" if checkin.kind == "po" else "col_expected_transfer"
            table.add_column(t(expected), width=7, key="expected")
        table.add_column(t("col_scanned"), width=7, key="scanned")
        if checkin.compares:
            table.add_column(t("col_diff"), width=7, key="diff")
            table.add_column(t("col_recount"), width=7, key="recount")
        if costs:
            table.add_column(t("col_cost"), width=8, key="cost")
        rows = checkin.rows()
        waiting = set(checkin.unconfirmed())
        for row in rows:
            cells: list[object] = [row.sku, _name(row)]
            if checkin.compares:
                cells.append(qty_text(row.expected or 0, row.unit))
            cells.append(qty_text(row.scanned, row.unit))
            if checkin.compares:
                cells.append(_difference(row, row.sku in waiting))
                cells.append("" if row.recount is None else qty_text(row.recount, row.unit))
            if costs:
                cells.append(format_money(row.unit_cost) if row.unit_cost is not None else "")
            table.add_row(*cells, key=row.sku)
        if rows:
            table.move_cursor(row=max(0, min(keep, len(rows) - 1)))
        self.query_one("#summary", Static).update(self._summary(rows, waiting))
        self.refresh_bindings()

    def _summary(self, rows: list[Row], waiting: set[str]) -> str:
        checkin = self.checkin
        assert checkin is not None
        if not checkin.compares:
            total = sum(r.scanned for r in rows)
            unit = rows[0].unit if rows and all(r.unit == rows[0].unit for r in rows) else "pcs"
            return t("summary_ship", lines=len(rows), qty=qty_text(total, unit))
        return t(
            "summary",
            lines=len(rows),
            over=sum(1 for r in rows if r.state in ("over", "extra")),
            under=sum(1 for r in rows if r.state == "under"),
            waiting=len(waiting),
        )

    def _try(self, act: Callable[[], Any]) -> Any:
        try:
            return act()
        except (Translatable, ValueError) as exc:
            self.refuse(str(exc))
            return None

    # ---- input ----------------------------------------------------------------------

    def scanned(self, code: str) -> None:
        """A code from the scanner: the same as typing it and pressing Enter."""
        self.handle_line(code)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "scan":
            return
        event.input.value = ""
        self.handle_line(event.value)

    def handle_line(self, text: str) -> None:
        if not self._allowed():
            return
        if self.checkin is None:
            doc = text.strip()
            if not doc:
                table = self.query_one("#table", DataTable)
                if not self.documents:
                    self.refuse(self.list_empty())
                    return
                doc = self.documents[min(table.cursor_row, len(self.documents) - 1)].doc
            self._start(lambda: self.open_document(doc))
            return
        checkin = self.checkin
        scale = getattr(self.app, "scale", None)
        if scale is not None and checkin.needs_weight(text):
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
            weight = weight_from_scale(scale.read_weight(timeout=5.0))
        except Exception as exc:  # a scale that fails is told, the count goes on
            self.app.call_from_thread(self.refuse, str(exc))
            return
        self.app.call_from_thread(self.count, text, weight)

    def count(self, text: str, weight: int | None = None) -> None:
        checkin = self.checkin
        if checkin is None:
            return
        recounting = checkin.recounting is not None
        scan = self._try(lambda: checkin.scan(text, weight))
        if scan is None:
            return
        self.show_count()
        self.query_one("#table", DataTable).move_cursor(
            row=[r.sku for r in checkin.rows()].index(scan.sku)
        )
        unit = checkin.names.get(scan.sku, ("", "pcs"))[1]
        said = "recounted" if recounting else "counted"
        self.say(t(said, name=scan.name, qty=qty_text(scan.qty, unit)))

    def _start(self, make: Callable[[], Checkin]) -> None:
        checkin = self._try(make)
        if checkin is None:
            return
        self.checkin = checkin
        self.say("")
        self.show_count()

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#table", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.cursor_row + step, table.row_count - 1)))

    def _current(self) -> str | None:
        checkin = self.checkin
        rows = checkin.rows() if checkin is not None else []
        if not rows:
            self.refuse(t("no_line"))
            return None
        table = self.query_one("#table", DataTable)
        return rows[min(table.cursor_row, len(rows) - 1)].sku

    # ---- keys while counting --------------------------------------------------------

    def action_recount(self) -> None:
        checkin = self.checkin
        if checkin is None or not checkin.compares:
            return
        if checkin.recounting is None:
            todo = self._try(checkin.begin_recount)
            if todo is not None:
                self.show_count()
                self.say(t("recount_started", skus=", ".join(todo)))
            return
        agree, disagree = checkin.finish_recount()
        self.show_count()
        if disagree:
            self.refuse(t("recount_differs", skus=", ".join(disagree)))
        else:
            self.say(t("recount_agrees", skus=", ".join(agree)))

    def action_cost(self) -> None:
        checkin = self.checkin
        if checkin is None or checkin.kind not in ("po", "blind"):
            return
        sku = self._current()
        if sku is None:
            return
        cost = checkin.cost_of(sku)
        value = format_money(cost) if cost is not None else ""

        def answered(text: str | None) -> None:
            if text is None or not text.strip():
                return
            if checkin.may_set_cost:
                if self._try(lambda: checkin.set_cost(sku, text)) is not None:
                    self._cost_set(sku)
                return
            self.app.push_screen(
                ManagerModal(
                    t("manager_cost"),
                    t("ask_cost", sku=sku) + f" {text.strip()}",
                    lambda who, pin: checkin.set_cost(sku, text, who, pin),
                ),
                lambda done: self._cost_set(sku) if done else self.refuse(t("not_confirmed")),
            )

        self.app.push_screen(PromptModal(t("ask_cost", sku=sku), value), answered)

    def _cost_set(self, sku: str) -> None:
        checkin = self.checkin
        assert checkin is not None
        self.show_count()
        self.say(t("cost_set", sku=sku, cost=format_money(checkin.cost_of(sku) or 0)))

    def action_remove(self) -> None:
        checkin = self.checkin
        if checkin is None:
            return
        sku = self._current()
        if sku is not None:
            checkin.remove(sku)
            self.show_count()
            self.say(t("removed", sku=sku))

    def action_manager(self) -> None:
        """F9: a manager confirms the lines that differ, and the document posts."""
        checkin = self.checkin
        if checkin is None or not checkin.compares:
            return
        if checkin.recounting is not None:
            checkin.cancel_recount()
            self.show_count()
        waiting = checkin.unconfirmed()
        if not waiting:
            self.say(t("nothing_differs"))
            return
        self.app.push_screen(
            ManagerModal(
                t("manager_post"),
                str(checkin.describe(waiting)),
                lambda who, pin: checkin.post(who, pin),
            ),
            lambda done: self._posted(done[0]) if done else self.refuse(t("not_confirmed")),
        )

    def action_post(self) -> None:
        checkin = self.checkin
        if checkin is None:
            return
        try:
            events = checkin.post()
        except NeedsCheck as exc:
            self.refuse(str(exc))
            return
        except (Translatable, ValueError) as exc:
            self.refuse(str(exc))
            return
        self._posted(events)

    def _posted(self, events: object) -> None:
        said = self.posted_text(events if isinstance(events, list) else [])
        self.show_list()
        self.say(said)

    def action_back(self) -> None:
        checkin = self.checkin
        if checkin is None:
            if len(self.app.screen_stack) > 1:
                self.app.pop_screen()
            return
        if checkin.recounting is not None:
            checkin.cancel_recount()
            self.show_count()
            self.say(t("recount_left"))
            return
        if not checkin.lines():
            self.show_list()
            self.say("")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.show_list()
                self.say("")

        self.app.push_screen(ConfirmModal(t("leave_ask")), answered)


class ReceivingScreen(CountingScreen):
    """入库: this store's open purchase orders, or a delivery without one (F3)."""


def _doc_of(events: list[Event]) -> str:
    return next((e.body.doc for e in events if isinstance(e.body, Document)), "")


def _name(row: Row) -> str:
    return f"{row.name} {'/'.join(row.lots)}" if row.lots else row.name


def _difference(row: Row, waiting: bool) -> Text:
    """ "+2 ?" (over, to check), "-3 ✓" (under, counted twice), "" when it matches."""
    if row.state == "ok":
        return Text("")
    sign = "+" if row.difference > 0 else "-"
    mark = " ?" if waiting else " ✓"
    return Text(sign + qty_text(abs(row.difference), row.unit) + mark, style=_STYLES[row.state])


_KEY_CAPS = {"escape": "Esc"}


def _display(key: str) -> str | None:
    if key in _KEY_CAPS:
        return _KEY_CAPS[key]
    return key.upper() if key.startswith("f") and key[1:].isdigit() else None
