"""The till's state and decisions, without any UI: the basket, the last receipt, parked
baskets, the action waiting for a manager, and the calls into node.sales, node.shifts and
the receipt printer.

The screens only lay this out and forward keys, so every rule of the counter is tested on
a real ledger without a terminal. A refused action raises `NodeError` (shown translated);
one that a manager may allow raises `NeedsApproval` after remembering itself as `pending`,
and `approve(approver, pin)` runs it once with the approver recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from ledger.node_tables import Suspended, SuspendedBaskets
from node.errors import NodeError
from protocol import i18n, units
from protocol.events import Event, document_header

if TYPE_CHECKING:  # the sales core, shifts and printer load on first use
    from node.permissions import User
    from node.sales import PostedReturn, PostedSale, ReturnableLine, ReturnLine, Shortfall
    from node.service import Node
    from node.shifts import ClosedShift, Shift
    from protocol.basket import Basket, BasketLine
    from protocol.events import ShiftReport

i18n.register(
    {
        "the basket is empty: scan a product first": "购物篮是空的：请先扫码",
        "no line {line} in the basket: choose a line with the arrow keys": (
            "购物篮中没有第 {line} 行：请用方向键选择一行"
        ),
        "nothing waits for approval: do the action again": "没有等待授权的操作：请重新操作",
        "no shift is open: open one with F10 first": "尚未开班：请先按 F10 开班",
        "finish or suspend the current basket first": "请先结账或挂起当前购物篮",
        "no suspended basket {number}: choose one from the list": (
            "没有挂单 {number}：请从列表中选择"
        ),
        "no receipt to reprint yet": "还没有可重打的小票",
        "the printer failed: {reason}": "打印失败：{reason}",
        "the printer failed ({reason}); the sale is saved: reprint when it is ready": (
            "打印失败（{reason}）；交易已保存：打印机就绪后请重打"
        ),
        "give at least one quantity to return": "请至少输入一个退货数量",
        "{sku}: at most {left} can be returned": "{sku}：最多可退 {left}",
        "{text!r} must be more than zero": "{text!r} 必须大于零",
    }
)


def action_text(action: str, lang: str | None = None) -> str:
    """An action as a person reads it (node.permissions registers the zh-CN names)."""
    return i18n.Translatable(action.replace("_", " ")).text(lang)


class NeedsApproval(NodeError):
    """The action waits for a manager: `TillSession.approve` runs it."""

    def __init__(self, action: str) -> None:
        super().__init__(
            "{action} needs a manager's approval: ask a manager for their id and PIN",
            action=i18n.Translatable(action.replace("_", " ")),
        )
        self.action = action


@dataclass
class Pending:
    """An action a manager must allow; `run(approver_id)` does it."""

    action: str
    run: Callable[[str], Any]


@dataclass(frozen=True)
class Done:
    """A posted sale, return or void as the till shows it."""

    doc: str
    kind: str  # "sale" | "return" | "void"
    total: int
    change: int
    tenders: list[Any]
    receipt: list[str]
    printed: bool
    print_error: str | None = None


@dataclass(frozen=True)
class PayState:
    """Where a payment stands while tenders are being added."""

    total: int
    tendered: int
    remaining: int
    change: int

    @property
    def covered(self) -> bool:
        return self.remaining == 0


class TillSession:
    """One till's selling state; `user` is who is at it (a change of cashier after a lock
    keeps the basket, never a waiting approval)."""

    def __init__(
        self, node: Node, user: User, *, printer: Any = None, store_name: str | None = None
    ) -> None:
        from protocol.basket import Basket

        self.node = node
        self.printer = printer
        self.store_name = store_name
        self.basket: Basket = Basket()
        #: the online order the basket fulfils (node/picking.py `load`): its sale cites it
        self.order: str | None = None
        self.last_receipt: list[str] | None = None
        self.pending: Pending | None = None
        self.user = user
        #: how a print job runs: None prints at once (and waits for the printer); the till
        #: hands each job to a worker thread instead, so a jammed printer never holds the
        #: screen, and is told a failure through `on_printed` when it comes
        self.run_print: Callable[[Callable[[], None]], Any] | None = None
        self.on_printed: Callable[[str], None] | None = None

    @property
    def user(self) -> User:
        return self._user

    @user.setter
    def user(self, user: User) -> None:
        self._user = user
        self.node.user = user.id  # every event written from now on records them
        self.pending = None

    # ---- roles and approvals --------------------------------------------------------

    def _check(self, action: str, run: Callable[[str | None], Any]) -> Any:
        """Run `run(None)` when this user may act alone; with a manager's approval it waits
        as `pending` (NeedsApproval); otherwise NodeError."""
        from node.permissions import needs_approval, require

        if needs_approval(self.user, action):
            self.pending = Pending(action, run)
            raise NeedsApproval(action)
        require(self.node, action)  # the refusal, in the ledger's own words
        return run(None)

    def approve(self, approver_id: str, pin: str) -> Any:
        """A manager allows the pending action once: it runs with their id recorded."""
        from node.permissions import approve

        pending = self.pending
        if pending is None:
            raise NodeError("nothing waits for approval: do the action again")
        approver = approve(self.node, pending.action, approver_id, pin)
        self.pending = None
        return pending.run(approver)

    def cancel_pending(self) -> None:
        self.pending = None

    # ---- the basket -----------------------------------------------------------------

    def scan(self, text: str, weigh: Callable[[], int] | None = None) -> int:
        """Add the scanned or typed `CODE [QTY]` to the basket; the index of its line."""
        from node.permissions import is_large_quantity, require
        from node.sales import basket_line

        if not self.basket.lines:
            require(self.node, "sell")  # a clerk is told at the first scan, not at payment
        line = basket_line(self.node, text, weigh)
        if is_large_quantity(line):
            return self._check(
                "large_quantity", lambda by: self._add(replace(line, approved_by=by))
            )
        return self._add(line)

    def _add(self, line: BasketLine) -> int:
        self.basket, index = self.basket.add(line)
        return index

    def _line(self, index: int) -> BasketLine:
        if not 0 <= index < len(self.basket.lines):
            raise NodeError(
                "no line {line} in the basket: choose a line with the arrow keys", line=index + 1
            )
        return self.basket.lines[index]

    def set_qty(self, index: int, text: str) -> None:
        """Change a line's quantity (a large one needs a manager)."""
        from node.permissions import is_large_quantity

        line = self._line(index)
        qty = read_number(units.parse_qty, text)

        def run(by: str | None) -> None:
            self.basket = self.basket.set_qty(index, qty)
            if by is not None:
                self.basket = _with_line(self.basket, index, approved_by=by)

        if is_large_quantity(replace(line, qty=qty)):
            self._check("large_quantity", run)
        else:
            run(None)

    def void_line(self, index: int) -> None:
        """Remove a line before payment (F8)."""
        self._line(index)

        def run(by: str | None) -> None:
            self.basket = self.basket.remove(index)

        self._check("void_line", run)

    def discount(self, index: int, text: str) -> None:
        """Take `text` yuan off a line (role-checked)."""
        self._line(index)
        fen = read_number(units.parse_money, text, zero=True)

        def run(by: str | None) -> None:
            self.basket = self.basket.discount(index, fen, by)

        self._check("discount", run)

    def override_price(self, index: int, text: str) -> None:
        """Charge `text` yuan per unit instead of the list price (F9, role-checked)."""
        self._line(index)
        fen = read_number(units.parse_money, text, zero=True)

        def run(by: str | None) -> None:
            self.basket = self.basket.override_price(index, fen, by)

        self._check("price_override", run)

    def cancel_basket(self) -> None:
        """Drop the basket (Esc, after the cashier confirmed): nothing was written."""
        from protocol.basket import Basket

        self.basket = Basket()
        self.order = None

    # ---- suspend / resume -----------------------------------------------------------

    def suspend(self) -> int:
        """Park the basket in the till's local store (F5); its number."""
        if not self.basket.lines:
            raise NodeError("the basket is empty: scan a product first")
        payload = json.dumps([asdict(line) for line in self.basket.lines], ensure_ascii=False)
        with self.node.store.work():
            number = SuspendedBaskets(self.node.conn).add(
                self.user.id, _now(), self.basket.total, len(self.basket.lines), payload
            )
        self.cancel_basket()
        return number

    def suspended(self) -> list[Suspended]:
        return SuspendedBaskets(self.node.conn).all()

    def resume(self, number: int) -> None:
        """Take a parked basket back as the current one."""
        from protocol.basket import Basket, BasketLine

        if self.basket.lines:
            raise NodeError("finish or suspend the current basket first")
        with self.node.store.work():
            parked = SuspendedBaskets(self.node.conn).take(number)
        if parked is None:
            raise NodeError("no suspended basket {number}: choose one from the list", number=number)
        lines = tuple(BasketLine(**fields) for fields in json.loads(parked.basket))
        self.basket = _basket_of(Basket, lines)

    # ---- paying ---------------------------------------------------------------------

    def shortfalls(self) -> list[Shortfall]:
        """Lines that sell more than the ledger holds: the cashier is asked to confirm."""
        from node.sales import shortfalls

        return shortfalls(self.node, self.basket)

    def pay_state(self, tenders: Sequence[str]) -> PayState:
        """Total, tendered so far, what is still to pay and the change (cash only gives it)."""
        from protocol.tenders import parse

        total = self.basket.total
        specs = [parse(t) for t in tenders if t.strip()]
        if any(s.amount is None for s in specs):
            return PayState(total, total, 0, 0)
        tendered = sum(s.amount or 0 for s in specs)
        return PayState(total, tendered, max(total - tendered, 0), max(tendered - total, 0))

    def pay(self, tenders: Sequence[str], *, confirmed_beyond_stock: bool = False) -> Done:
        """Post the sale durably, then print; the basket is empty afterwards."""
        from node.receipt import sale_receipt
        from node.sales import post_sale

        if not self.basket.lines:
            raise NodeError("the basket is empty: scan a product first")
        shift = self._shift_required()
        posted: PostedSale = post_sale(
            self.node,
            self.basket,
            tenders,
            shift=shift.doc,
            confirmed_beyond_stock=confirmed_beyond_stock,
            order=self.order,
        )
        self.cancel_basket()
        receipt = sale_receipt(
            document_header(posted.events), change=posted.change, **self._layout(posted.events)
        )
        kick = any(t.method == "cash" for t in posted.tenders)
        printed, error = self._print(receipt, kick_drawer=kick)
        return Done(
            posted.doc,
            "sale",
            posted.total,
            posted.change,
            list(posted.tenders),
            receipt,
            printed,
            error,
        )

    # ---- returns and voids ----------------------------------------------------------

    def returnable(self, sale_doc: str) -> list[ReturnableLine]:
        """What of `sale_doc` may still come back (across tills, minus earlier returns)."""
        from node.sales import returnable

        return returnable(self.node, sale_doc.strip())

    def refund(self, sale_doc: str | None, lines: Sequence[ReturnLine]) -> Done:
        """Take goods back: against a receipt (F4), or without one with a manager."""
        chosen = [line for line in lines if line.qty > 0]
        if not chosen:
            raise NodeError("give at least one quantity to return")
        if sale_doc:
            left = {r.sku: r for r in self.returnable(sale_doc)}
            for line in chosen:
                have = left.get(line.sku)
                if have is None or line.qty > have.left:
                    raise NodeError(
                        "{sku}: at most {left} can be returned",
                        sku=line.sku,
                        left=units.format_qty(have.left if have else 0),
                    )
        action = "return" if sale_doc else "return_without_receipt"
        return self._check(action, lambda by: self._post_return(sale_doc or None, chosen, by))

    def _post_return(
        self, sale_doc: str | None, lines: Sequence[ReturnLine], by: str | None
    ) -> Done:
        from node.receipt import return_receipt
        from node.sales import post_return

        shift = self._shift_required()
        posted: PostedReturn = post_return(
            self.node, sale_doc, lines, shift=shift.doc, approved_by=by
        )
        return self._returned(posted, "return", return_receipt)

    def void_sale(self, sale_doc: str) -> Done:
        """Cancel what is left of a posted sale (a manager's action)."""
        from node.receipt import return_receipt
        from node.sales import void_sale

        doc = sale_doc.strip()

        def run(by: str | None) -> Done:
            shift = self._shift_required()
            posted = void_sale(self.node, doc, approved_by=by or self.user.id, shift=shift.doc)
            return self._returned(posted, "void", return_receipt)

        return self._check("void_sale", run)

    def _returned(self, posted: PostedReturn, kind: str, layout: Callable[..., list[str]]) -> Done:
        receipt = layout(document_header(posted.events), **self._layout(posted.events))
        kick = any(t.method == "cash" for t in posted.tenders)
        printed, error = self._print(receipt, kick_drawer=kick)
        return Done(
            posted.doc, kind, posted.refund, 0, list(posted.tenders), receipt, printed, error
        )

    # ---- shift ----------------------------------------------------------------------

    def shift(self) -> Shift | None:
        from node.shifts import current_shift

        return current_shift(self.node)

    def _shift_required(self) -> Shift:
        shift = self.shift()
        if shift is None:
            raise NodeError("no shift is open: open one with F10 first")
        return shift

    def open_shift(self, cash_float: str) -> Shift:
        from node.shifts import open_shift

        return self._check("shift", lambda by: open_shift(self.node, cash_float))

    def x_report(self) -> tuple[ShiftReport, list[str]]:
        """The open shift's running figures and their printed lines (not printed)."""
        from node.shifts import x_report

        shift = self._shift_required()
        report = x_report(self.node)
        return report, self._report_lines(report, "X", shift.opened_at)

    def print_x_report(self) -> bool:
        """Print the X report as it stands; False when no printer is configured."""
        _, lines = self.x_report()
        printed, error = self._print(lines, kick_drawer=False, remember=False)
        if error is not None:
            raise NodeError("the printer failed: {reason}", reason=error)
        return printed

    def close_shift(self, counted_cash: str) -> tuple[ClosedShift, list[str], str | None]:
        """The Z report: posted, shown and printed; the printer's error if it failed."""
        from node.shifts import close_shift

        shift = self._shift_required()
        closed = self._check("shift", lambda by: close_shift(self.node, counted_cash))
        lines = self._report_lines(closed.report, "Z", shift.opened_at, closed.closed_at)
        _, error = self._print(lines, kick_drawer=True)
        return closed, lines, error

    def _report_lines(
        self, report: ShiftReport, kind: Literal["X", "Z"], opened_at: str, at: str | None = None
    ) -> list[str]:
        from node.receipt import shift_report_lines
        from node.users import users

        layout = self._layout()
        del layout["names"], layout["units"]
        if at:
            layout["at"] = at
        names = {uid: str(fields.get("name") or uid) for uid, fields in users(self.node).items()}
        return shift_report_lines(
            report, kind=kind, opened_at=opened_at, cashier_names=names, **layout
        )

    # ---- printing -------------------------------------------------------------------

    def reprint(self) -> bool:
        """Print the last receipt again; False when no printer is configured."""
        if self.last_receipt is None:
            raise NodeError("no receipt to reprint yet")
        from node.receipt import marked_reprint

        copy = marked_reprint(self.last_receipt, i18n.language(), self.width)
        printed, error = self._print(copy, kick_drawer=False, remember=False)
        if error is not None:
            raise NodeError(
                "the printer failed ({reason}); the sale is saved: reprint when it is ready",
                reason=error,
            )
        return printed

    def _print(
        self, lines: list[str], *, kick_drawer: bool, remember: bool = True
    ) -> tuple[bool, str | None]:
        """Print after the document is posted: a printer's failure never undoes a sale."""
        if remember:
            self.last_receipt = lines
        if self.printer is None:
            return False, None
        if self.run_print is not None:
            self.run_print(lambda: self._print_in_background(lines, kick_drawer))
            return True, None  # sent: a failure is told by on_printed
        return self._print_now(lines, kick_drawer)

    def _print_now(self, lines: list[str], kick_drawer: bool) -> tuple[bool, str | None]:
        try:
            self.printer.print_receipt(lines, kick_drawer=kick_drawer)
        except Exception as exc:  # the printer's own error, told to the cashier
            template = getattr(exc, "template", None)
            if isinstance(template, str):  # devices.printer.PrinterError: translated here
                return False, i18n.render(template, getattr(exc, "fields", {}))
            return False, str(exc) or type(exc).__name__
        return True, None

    def _print_in_background(self, lines: list[str], kick_drawer: bool) -> None:
        _, error = self._print_now(lines, kick_drawer)
        if error is not None and self.on_printed is not None:
            self.on_printed(error)

    @property
    def width(self) -> int:
        return int(getattr(self.printer, "width", 32) or 32)

    def _layout(self, events: Sequence[Event] = ()) -> dict[str, Any]:
        """What every receipt and report says besides its document: store, till, cashier,
        time (the document's own, else now), paper width, the products' names and units."""
        from node.receipt import store_title
        from node.shifts import iso_time

        products = self.node.products()
        return {
            "store_name": store_title(self.node.read, self.node.config.location, self.store_name),
            "till": self.node.config.node,
            "cashier": self.user.name or self.user.id,
            "at": iso_time(events[0].hlc) if events else _now(),
            "width": self.width,
            "names": {p.sku: p.name or p.sku for p in products},
            "units": {p.sku: p.unit for p in products},
        }


def _with_line(basket: Basket, index: int, **changes: Any) -> Basket:
    lines = list(basket.lines)
    lines[index] = replace(lines[index], **changes)
    return _basket_of(type(basket), tuple(lines))


def _basket_of(cls: Any, lines: tuple[BasketLine, ...]) -> Basket:
    return cls(lines)


def read_number(parse: Callable[[str], int], text: str, *, zero: bool = False) -> int:
    """A typed quantity or amount (`protocol.units`), more than zero (or zero when `zero`);
    the units' own translated message when it cannot be read."""
    value = parse(text.strip())
    if value < 0 or (value == 0 and not zero):
        raise NodeError("{text!r} must be more than zero", text=text.strip())
    return value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
