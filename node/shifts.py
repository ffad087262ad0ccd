"""A till's shifts: open with a cash float, X report while open, Z report to close.

A shift is a stretch of the till's own log: it opens with a `shift_open` document (its
tenders: the float, as one cash tender) and closes with a `z_report` document citing it,
which carries the shift's figures (`protocol.shifts.shift_report`) with the counted cash.
Sales, returns and voids taken while it is open name it (`Document.shift`), and only those
count. The Z report is immutable because events are, and reaches the hub with the rest of
the till's log. Its number is the count of the till's earlier Z reports plus one: the till
is the only writer of its log, so no two of its Z reports can share a number, offline or not.

X reports are not stored: they are figures read from the ledger, shown or printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from node import permissions
from node.errors import NodeError
from node.service import Node
from protocol import i18n, units
from protocol.documents import Related
from protocol.events import Body, Document, ShiftReport, Tender
from protocol.hlc import physical_ms
from protocol.limits import MAX_AMOUNT_TEXT
from protocol.shifts import CASH, COUNTED_TYPES, shift_report

i18n.register(
    {
        "the cash float {text!r} is not an amount: write it in yuan with at most two "
        "decimals, like 200.00": "备用金 {text!r} 不是有效金额：请以元为单位输入，最多两位小数，"
        "如 200.00",
        "the cash float {text!r} must not be negative: type what is in the drawer, "
        "e.g. 200.00": "备用金 {text!r} 不能为负数：请输入钱箱里的金额，如 200.00",
        "the counted cash {text!r} is not an amount: write it in yuan with at most two "
        "decimals, like 512.30": "清点现金 {text!r} 不是有效金额：请以元为单位输入，最多两位小数，"
        "如 512.30",
        "the counted cash {text!r} must not be negative: count the drawer again and type "
        "what is in it, e.g. 512.30": "清点现金 {text!r} 不能为负数：请重新清点钱箱并输入金额，"
        "如 512.30",
        "shift {doc} is open since {since}, opened by {user}: close it with its Z report "
        "before opening another": "班次 {doc} 已于 {since} 由 {user} 开班：请先做 Z 报表交班，"
        "再开新班",
        "no shift is open on this till: open one with its cash float first": "本收银台尚未开班："
        "请先输入备用金开班",
        "no shift is open on this till, so there is nothing to close: open one with its cash "
        "float first": "本收银台尚未开班，无班可交：请先输入备用金开班",
    }
)


@dataclass(frozen=True)
class Shift:
    """An open shift: its shift_open document, who opened it and when (UTC, ISO), the
    float in fen and the seq of its document on the till's log."""

    doc: str
    opened_by: str
    opened_at: str
    cash_float: int
    seq: int


@dataclass(frozen=True)
class ClosedShift:
    """A Z report: its z_report document and the figures it keeps."""

    doc: str
    report: ShiftReport
    #: the shift it closed (its shift_open document)
    shift: str = ""
    closed_by: str = ""
    #: UTC, ISO
    closed_at: str = ""


def iso_time(hlc: int) -> str:
    """An event's time as people read it in lists: `2026-12-02T13:05:00Z` (UTC)."""
    moment = datetime.fromtimestamp(physical_ms(hlc) / 1000, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _shift(item: Related) -> Shift:
    header = item.header
    cash_float = sum(t.amount for t in header.tenders if t.method == CASH)
    return Shift(header.doc, item.user, iso_time(item.hlc), cash_float, item.seq)


def _closed(item: Related) -> ClosedShift:
    header = item.header
    report = header.report if header.report is not None else ShiftReport()
    return ClosedShift(header.doc, report, header.ref or "", item.user, iso_time(item.hlc))


def current_shift(node: Node) -> Shift | None:
    """The till's open shift: its latest shift_open with no Z report citing it."""
    found: Related | None = None
    closed: set[str] = set()
    for item in node.read.documents_written_by(node.config.node, 0, ("shift_open", "z_report")):
        if item.header.type == "shift_open":
            found = item
        elif item.header.ref:
            closed.add(item.header.ref)
    if found is None or found.header.doc in closed:
        return None
    return _shift(found)


def _shown(text: str) -> str:
    """What a message quotes of typed text: the start of a long one, so it stays a line."""
    return text if len(text) <= MAX_AMOUNT_TEXT else text[:12] + "…"


def _money(text: str, invalid: str, negative: str) -> int:
    try:
        value = units.parse_money(text)
    except units.AmountError:
        raise NodeError(invalid, text=_shown(text)) from None
    if value < 0:
        raise NodeError(negative, text=_shown(text))
    return value


def parse_float(text: str) -> int:
    """The cash float as typed (yuan, `200.00`, `200`) → fen; NodeError if unreadable."""
    return _money(
        text,
        "the cash float {text!r} is not an amount: write it in yuan with at most two "
        "decimals, like 200.00",
        "the cash float {text!r} must not be negative: type what is in the drawer, e.g. 200.00",
    )


def parse_counted(text: str) -> int:
    """The counted cash as typed (yuan, `512.30`) → fen; NodeError if unreadable."""
    return _money(
        text,
        "the counted cash {text!r} is not an amount: write it in yuan with at most two "
        "decimals, like 512.30",
        "the counted cash {text!r} must not be negative: count the drawer again and type "
        "what is in it, e.g. 512.30",
    )


def open_shift(node: Node, cash_float: str) -> Shift:
    """Open a shift with `cash_float` yuan in the drawer, as `node.user` (who may do
    "shift"); refused while one is open (the check and the write are one transaction)."""
    permissions.require(node, "shift")
    amount = parse_float(cash_float)
    here = node.config.location

    def lines(doc: str) -> list[Body]:
        open_now = current_shift(node)
        if open_now is not None:
            raise NodeError(
                "shift {doc} is open since {since}, opened by {user}: close it with its Z "
                "report before opening another",
                doc=open_now.doc,
                since=open_now.opened_at,
                user=open_now.opened_by,
            )
        return [
            Document(
                doc=doc,
                type="shift_open",
                location=here,
                tenders=[Tender(method=CASH, amount=amount)],
            )
        ]

    (event,) = node.post(lines)
    assert isinstance(event.body, Document)
    return Shift(event.body.doc, event.user, iso_time(event.hlc), amount, event.seq)


def _report(
    node: Node, shift: Shift, *, number: int | None = None, counted: int | None = None
) -> ShiftReport:
    documents = node.read.documents_written_by(node.config.node, shift.seq, COUNTED_TYPES)
    return shift_report(
        shift.doc,
        shift.cash_float,
        documents,
        number=number,
        counted_cash=counted,
        first_seq=shift.seq,
        last_seq=node.store.log.head_seq(node.config.node),
    )


def x_report(node: Node) -> ShiftReport:
    """The open shift's running totals (an X report): read, never stored."""
    permissions.require(node, "shift")
    shift = current_shift(node)
    if shift is None:
        raise NodeError("no shift is open on this till: open one with its cash float first")
    return _report(node, shift)


def close_shift(node: Node, counted_cash: str) -> ClosedShift:
    """Close the open shift with the cash counted in the drawer: a z_report document with
    the shift's figures, its number and the stretch of the log it covers (from the
    shift_open to the event before the Z report), written in one transaction."""
    permissions.require(node, "shift")
    counted = parse_counted(counted_cash)
    here = node.config.location
    report: list[ShiftReport] = []

    def lines(doc: str) -> list[Body]:
        shift = current_shift(node)
        if shift is None:
            raise NodeError(
                "no shift is open on this till, so there is nothing to close: open one "
                "with its cash float first"
            )
        number = len(node.read.documents_written_by(node.config.node, 0, ("z_report",))) + 1
        report.append(_report(node, shift, number=number, counted=counted))
        return [Document(doc=doc, type="z_report", location=here, ref=shift.doc, report=report[0])]

    (event,) = node.post(lines)
    assert isinstance(event.body, Document)
    return ClosedShift(
        event.body.doc, report[0], event.body.ref or "", event.user, iso_time(event.hlc)
    )


def z_reports(node: Node) -> list[ClosedShift]:
    """The till's Z reports, oldest (Z 1) first."""
    return [
        _closed(item) for item in node.read.documents_written_by(node.config.node, 0, ("z_report",))
    ]
