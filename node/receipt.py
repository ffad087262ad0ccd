"""Receipts and shift reports as plain text lines, for the screen and the receipt printer.

Pure layout: documents in, `list[str]` out, at a width in display columns (32 on 58 mm
paper, 42 on 80 mm). A CJK character takes two columns, on a terminal as on a Chinese
receipt printer; names wrap at spaces (Latin) or between characters (CJK) and never split
a character; amounts are right-aligned. Characters of "ambiguous" East Asian width (·, ×,
…) count as one column, as terminals show them; the labels here avoid them, so only a
product name holding one can be a column off on paper.

The printer's errors come from `devices`, which cannot know our translations: their zh-CN
texts are registered here, and `printer_message` renders one for the cashier.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Literal, Protocol

from devices.printer.writer import CLOSED, OFFLINE, PAPER_OUT, TIMEOUT, PrinterError
from protocol import i18n
from protocol.events import DocLine, Document, ShiftReport
from protocol.units import format_money, format_qty, line_total

i18n.register(
    {
        OFFLINE: "小票打印机 {url} 离线：请检查打印机的电源和连线",
        PAPER_OUT: "小票打印机 {url} 缺纸：请装上新纸卷后重新打印",
        TIMEOUT: (
            "小票打印机 {url} 在 {seconds} 秒内没有接收小票："
            "请检查打印机是否开机、是否卡纸，然后重新打印"
        ),
        CLOSED: "小票打印机 {url} 已关闭：请重启收银台后再打印",
    }
)

Kind = Literal["X", "Z"]


class _StoreNames(Protocol):
    def store_name(self, location: str) -> str | None: ...


def store_title(read: _StoreNames, location: str, given: str | None = None) -> str:
    """What heads a receipt: the name given to the till, else the name head office gave
    the store record (`Upsert(entity="store")`, e.g. 一号店), else the location id."""
    return given or read.store_name(location) or location


_LABELS: dict[str, tuple[str, str]] = {
    # key: (zh-CN, en)
    "receipt_no": ("小票号", "Receipt"),
    "till": ("收银台", "Till"),
    "cashier": ("收银员", "Cashier"),
    "time": ("时间", "Time"),
    "was": ("原价 {price}", "was {price}"),
    "approved": ("授权 {user}", "approved by {user}"),
    "discount": ("折扣", "Discount"),
    "discounts": ("优惠合计", "Discounts"),
    "total": ("合计", "TOTAL"),
    "items": ("件数", "Items"),
    "change": ("找零", "Change"),
    "thanks": ("谢谢惠顾，欢迎再次光临", "Thank you, please come again"),
    "reprint": ("** 重印 **", "** REPRINT **"),
    "return": ("退货单", "RETURN"),
    "void": ("作废单", "VOID"),
    "sale_ref": ("原小票", "Sale"),
    "no_receipt": ("无小票退货", "Return without receipt"),
    "scrap": ("（损坏，报废）", "(damaged: to scrap)"),
    "refund": ("退款合计", "REFUND"),
    "refund_by": ("退回 {method}", "Refund {method}"),
    "x_report": ("X 报表（当班）", "X REPORT (running)"),
    "z_report": ("Z 报表 {number}", "Z REPORT {number}"),
    "opened": ("开班", "Opened"),
    "sales": ("销售 {n} 笔", "Sales ({n})"),
    "returns": ("退货 {n} 笔", "Returns ({n})"),
    "voids": ("作废 {n} 笔", "Voids ({n})"),
    "by_tender": ("按支付方式", "By tender"),
    "float": ("备用金", "Float"),
    "cash_sales": ("现金销售", "Cash sales"),
    "cash_refunds": ("现金退款", "Cash refunds"),
    "expected_cash": ("应有现金", "Expected cash"),
    "counted_cash": ("实点现金", "Counted cash"),
    "variance": ("差额", "Variance"),
    "not_counted": ("未点钞", "not counted"),
    "by_cashier": ("按收银员", "By cashier"),
    "immutable": ("已归档，不可更改", "Filed: cannot be changed"),
}

_TENDERS: dict[str, tuple[str, str]] = {
    "cash": ("现金", "Cash"),
    "card": ("银行卡", "Card"),
    "wechat": ("微信支付", "WeChat Pay"),
    "alipay": ("支付宝", "Alipay"),
}

#: product units whose quantities are counted in whole pieces (shown without decimals)
_PIECES = {"pcs", "pc", "ea", "个", "件", "只", "瓶", "包", "盒", "袋"}


def _label(key: str, lang: str, **fields: object) -> str:
    zh, en = _LABELS[key]
    text = zh if lang == "zh-CN" else en
    return text.format(**fields) if fields else text


def tender_name(method: str, lang: str | None = None) -> str:
    """A tender method as a cashier reads it; head office's own methods by their id."""
    names = _TENDERS.get(method)
    if names is None:
        return method
    return names[0] if _lang(lang) == "zh-CN" else names[1]


def printer_message(error: PrinterError, lang: str | None = None) -> str:
    """A printer's refusal in the reader's language."""
    return i18n.render(error.template, error.fields, _lang(lang))


# -- columns ----------------------------------------------------------------------------


def char_width(ch: str) -> int:
    """Columns one character takes: 2 for wide and full-width (CJK), 0 for combining marks
    and format characters, else 1."""
    if unicodedata.combining(ch) or unicodedata.category(ch) == "Cf":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def _clean(text: str) -> str:
    """One line of printable text: control characters (a tab, a newline, an ESC that would
    be a printer command) become spaces."""
    return "".join(" " if ch < " " or ch == "\x7f" else ch for ch in text)


def cut(text: str, width: int, marker: str = "") -> str:
    """`text` cut to at most `width` columns, never through a character; `marker` (e.g.
    "..") ends a text that was cut."""
    if display_width(text) <= width:
        return text
    room = width - display_width(marker)
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + marker if room > 0 else marker[:width]


def _tokens(text: str) -> list[str]:
    """Runs of spaces, runs of narrow non-space characters (a Latin word), and single wide
    characters (each a place a CJK line may break)."""
    tokens: list[str] = []
    for ch in text:
        wide = char_width(ch) == 2
        if tokens and not wide:
            last = tokens[-1]
            if (ch == " ") == (last[-1] == " ") and char_width(last[-1]) != 2:
                tokens[-1] = last + ch
                continue
        tokens.append(ch)
    return tokens


def wrap(text: str, width: int, max_lines: int | None = None) -> list[str]:
    """`text` in lines of at most `width` columns: breaks at spaces and between CJK
    characters, a word longer than a line is broken; beyond `max_lines` it is cut with
    "..". Always at least one line."""
    lines: list[str] = []
    line = ""
    for token in _tokens(_clean(text)):
        if token.startswith(" "):
            if line and display_width(line) + display_width(token) <= width:
                line += token
            elif line:
                lines.append(line.rstrip())
                line = ""
            continue
        if display_width(line) + display_width(token) <= width:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = ""
        while display_width(token) > width:  # a word longer than the line
            head = cut(token, width)
            lines.append(head)
            token = token[len(head) :]
        line = token
    if line.strip() or not lines:
        lines.append(line.rstrip())
    if max_lines is not None and len(lines) > max_lines:
        last = lines[max_lines - 1]
        shown = last + ".." if display_width(last) + 2 <= width else cut(last + "..", width, "..")
        lines = [*lines[: max_lines - 1], shown]
    return lines


def pair(left: str, right: str, width: int, indent: int = 0) -> list[str]:
    """`left` then `right` right-aligned on one line; when both do not fit, `left` wraps
    and `right` goes right-aligned on a line of its own."""
    left = " " * indent + _clean(left)
    right = _clean(right)
    gap = width - display_width(left) - display_width(right)
    if gap >= 1:
        return [left + " " * gap + right]
    lines = [" " * indent + line for line in wrap(left.strip(), width - indent)]
    shown = cut(right, width)
    return [*lines, " " * (width - display_width(shown)) + shown]


def centre(text: str, width: int) -> list[str]:
    return [" " * ((width - display_width(line)) // 2) + line for line in wrap(text, width)]


def rule(width: int) -> str:
    return "-" * width


def marked_reprint(lines: list[str], lang: str, width: int) -> list[str]:
    """A copy of a printed receipt marked as a reprint, under its heading (before the first
    rule): the copy must never pass for a second original."""
    mark = centre(_label("reprint", lang), width)
    at = lines.index(rule(width)) if rule(width) in lines else 0
    return [*lines[:at], *mark, *lines[at:]]


# -- values -----------------------------------------------------------------------------


def _lang(lang: str | None) -> str:
    if lang is None:
        return i18n.language()
    return "en" if lang.lower().startswith("en") else "zh-CN"


def _time(at: datetime | str) -> str:
    """The till's local time: events carry UTC (`…Z`), a customer reads the wall clock."""
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            return at
    if at.tzinfo is not None:
        at = at.astimezone()
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _qty(qty: int, unit: str | None) -> str:
    unit = unit or "pcs"
    if unit in _PIECES:
        return str(qty // 1000) if qty % 1000 == 0 else format_qty(qty)
    return f"{format_qty(qty)} {unit}"


def _per(unit: str | None) -> str:
    unit = unit or "pcs"
    return "" if unit in _PIECES else f"/{unit}"


def _gross(line: DocLine) -> int:
    """What the line cost before its discount: the recorded amount where there is one (a
    price label's printed total may differ from qty × price)."""
    if line.amount is not None:
        return line.amount + (line.discount or 0)
    return line_total(line.qty, line.unit_price or 0)


def _amount(line: DocLine) -> int:
    return line.amount if line.amount is not None else _gross(line) - (line.discount or 0)


def _heading(
    *,
    store_name: str,
    title: str | None,
    doc: str | None,
    till: str,
    cashier: str,
    at: datetime | str,
    lang: str,
    width: int,
    reprint: bool,
) -> list[str]:
    out = centre(store_name, width)
    if title:
        out += centre(title, width)
    if reprint:
        out += centre(_label("reprint", lang), width)
    out.append(rule(width))
    if doc is not None:
        out += pair(_label("receipt_no", lang), doc, width)
    out += pair(_label("till", lang), till, width)
    out += pair(_label("cashier", lang), cashier, width)
    out += pair(_label("time", lang), _time(at), width)
    out.append(rule(width))
    return out


def _item(
    line: DocLine,
    *,
    names: Mapping[str, str] | None,
    units: Mapping[str, str] | None,
    width: int,
) -> tuple[list[str], str]:
    """A product's name (wrapped, at most two lines) and its "quantity x price" text."""
    name = (names or {}).get(line.sku) or line.sku
    unit = (units or {}).get(line.sku)
    out = wrap(name, width, max_lines=2)
    price = format_money(line.unit_price) + _per(unit) if line.unit_price is not None else ""
    qty = _qty(line.qty, unit) + (f" x {price}" if price else "")
    return out, qty


def _unit_of(units: Mapping[str, str] | None, sku: str) -> str | None:
    return (units or {}).get(sku)


# -- receipts ---------------------------------------------------------------------------


def sale_receipt(
    header: Document,
    *,
    store_name: str,
    till: str,
    cashier: str,
    at: datetime | str,
    change: int = 0,
    lang: str | None = None,
    width: int = 32,
    names: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    reprint: bool = False,
) -> list[str]:
    """The customer's receipt for a posted sale: store, receipt number (`header.doc`),
    till, cashier, time, each line (name, quantity × price, amount, an overridden price
    and its approver, a discount), the discounts, the total, each tender (cash as handed
    over: its amount plus `change`), the change, and thanks. `names`/`units` map SKUs to
    the product's name and unit (a SKU without a name is shown as itself)."""
    lang = _lang(lang)
    out = _heading(
        store_name=store_name,
        title=None,
        doc=header.doc,
        till=till,
        cashier=cashier,
        at=at,
        lang=lang,
        width=width,
        reprint=reprint,
    )
    total = discounts = 0
    pieces = 0
    for line in header.lines:
        out += _sale_line(line, names=names, units=units, lang=lang, width=width)
        total += _amount(line)
        discounts += line.discount or 0
        unit = _unit_of(units, line.sku) or "pcs"
        pieces += line.qty // 1000 if unit in _PIECES and line.qty % 1000 == 0 else 1
    out.append(rule(width))
    out += pair(_label("items", lang), str(pieces), width)
    if discounts:
        out += pair(_label("discounts", lang), "-" + format_money(discounts), width)
    out += pair(_label("total", lang), format_money(total), width)
    cash_done = False
    for tender in header.tenders:
        amount = tender.amount
        if tender.method == "cash" and not cash_done:
            amount += change
            cash_done = True
        out += pair(tender_name(tender.method, lang), format_money(amount), width)
    if change or cash_done:
        out += pair(_label("change", lang), format_money(change), width)
    out.append(rule(width))
    out += centre(_label("thanks", lang), width)
    return out


def _sale_line(
    line: DocLine,
    *,
    names: Mapping[str, str] | None,
    units: Mapping[str, str] | None,
    lang: str,
    width: int,
) -> list[str]:
    name, qty = _item(line, names=names, units=units, width=width)
    out = list(name)
    out += pair(qty, format_money(_gross(line)), width, indent=2)
    if line.list_price is not None and line.list_price != line.unit_price:
        was = _label("was", lang, price=format_money(line.list_price))
        out += wrap(was, width - 2)
        out[-1] = "  " + out[-1]
    if line.discount:
        out += pair(_label("discount", lang), "-" + format_money(line.discount), width, indent=2)
    if line.approved_by and (line.list_price is not None or line.discount):
        out += [
            "  " + text for text in wrap(_label("approved", lang, user=line.approved_by), width - 2)
        ]
    return out


def return_receipt(
    header: Document,
    *,
    store_name: str,
    till: str,
    cashier: str,
    at: datetime | str,
    lang: str | None = None,
    width: int = 32,
    names: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    reprint: bool = False,
) -> list[str]:
    """The slip for a return or a void (`header.type`): the sale it cites (or that it had
    no receipt, and the manager who approved it), each line refunded (to scrap when
    damaged), the refund, and how it was paid back (`header.tenders`)."""
    lang = _lang(lang)
    title = _label("void" if header.type == "void" else "return", lang)
    out = _heading(
        store_name=store_name,
        title=title,
        doc=header.doc,
        till=till,
        cashier=cashier,
        at=at,
        lang=lang,
        width=width,
        reprint=reprint,
    )
    if header.ref is not None:
        out += pair(_label("sale_ref", lang), header.ref, width)
    else:
        out += wrap(_label("no_receipt", lang), width)
    if header.approved_by:
        out += wrap(_label("approved", lang, user=header.approved_by), width)
    out.append(rule(width))
    refund = 0
    for line in header.lines:
        name, qty = _item(line, names=names, units=units, width=width)
        amount = _amount(line) if line.amount is not None else _gross(line)
        out += list(name)
        out += pair(qty, format_money(amount), width, indent=2)
        if line.scrap:
            out += ["  " + text for text in wrap(_label("scrap", lang), width - 2)]
        refund += amount
    out.append(rule(width))
    out += pair(_label("refund", lang), format_money(refund), width)
    for tender in header.tenders:
        method = tender_name(tender.method, lang)
        out += pair(_label("refund_by", lang, method=method), format_money(tender.amount), width)
    return out


def shift_report_lines(
    report: ShiftReport,
    *,
    kind: Kind,
    store_name: str,
    till: str,
    cashier: str,
    at: datetime | str,
    lang: str | None = None,
    width: int = 32,
    opened_at: datetime | str | None = None,
    cashier_names: Mapping[str, str] | None = None,
) -> list[str]:
    """An X report (the shift so far) or a Z report (the shift closed, numbered): sales,
    returns, voids, discounts, each tender, the cash drawer (float + cash sales − cash
    refunds = expected; counted and the variance), and each cashier's part."""
    lang = _lang(lang)
    if kind == "Z":
        title = _label("z_report", lang, number=f"{report.number:04d}" if report.number else "-")
    else:
        title = _label("x_report", lang)
    out = _heading(
        store_name=store_name,
        title=title,
        doc=None,
        till=till,
        cashier=cashier,
        at=at,
        lang=lang,
        width=width,
        reprint=False,
    )
    if opened_at is not None:
        out[-1:-1] = pair(_label("opened", lang), _time(opened_at), width)
    money = format_money
    out += pair(_label("sales", lang, n=report.sales), money(report.sales_total), width)
    out += pair(_label("returns", lang, n=report.returns), money(report.returns_total), width)
    out += pair(_label("voids", lang, n=report.voids), money(report.voids_total), width)
    out += pair(_label("discounts", lang), money(report.discounts_total), width)
    if report.tenders:
        out.append(rule(width))
        out += wrap(_label("by_tender", lang), width)
        for tender in report.tenders:
            out += pair(tender_name(tender.method, lang), money(tender.amount), width, indent=2)
    out.append(rule(width))
    out += pair(_label("float", lang), money(report.cash_float), width)
    out += pair(_label("cash_sales", lang), money(report.cash_sales), width)
    out += pair(_label("cash_refunds", lang), money(report.cash_refunds), width)
    out += pair(_label("expected_cash", lang), money(report.expected_cash), width)
    if report.counted_cash is not None:
        out += pair(_label("counted_cash", lang), money(report.counted_cash), width)
        variance = report.variance
        if variance is None:
            variance = report.counted_cash - report.expected_cash
        sign = "+" if variance > 0 else ""
        out += pair(_label("variance", lang), sign + money(variance), width)
    elif kind == "Z":
        out += pair(_label("counted_cash", lang), _label("not_counted", lang), width)
    if report.cashiers:
        out.append(rule(width))
        out += wrap(_label("by_cashier", lang), width)
        for person in report.cashiers:
            name = (cashier_names or {}).get(person.user)
            out += wrap(f"{person.user} {name}" if name else person.user, width)
            out += pair(_label("sales", lang, n=person.sales), money(person.sales_total), width, 2)
            out += pair(
                _label("returns", lang, n=person.returns), money(person.returns_total), width, 2
            )
    if kind == "Z":
        out.append(rule(width))
        out += centre(_label("immutable", lang), width)
    return out
