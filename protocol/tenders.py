"""How a sale may be paid: a closed set of tender methods, and the split of a total over them.

The counter accepts the built-in methods `cash`, `card`, `wechat` and `alipay`, plus any
method head office configures: an `Upsert(entity="tender", key=<method>, fields={"name":
"UnionPay", "enabled": True})` on a hub log (`enabled: False` withdraws it again; only hub
origins may configure tenders, so a till cannot allow itself a method). A method is a short
lowercase id, so reports group the same method under one name.

A cashier names tenders as `METHOD` or `METHOD:AMOUNT` (e.g. `cash`, `card:5.00`). At most
one tender may leave its amount out: it pays what the others do not. The tenders must cover
the total; more than the total is only possible with cash (the change comes out of the
drawer), and the recorded tenders always sum to exactly the total.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from protocol import i18n, units
from protocol.events import Tender
from protocol.i18n import Message, Translatable

#: Accepted at every counter without configuration.
BUILT_IN = ("cash", "card", "wechat", "alipay")

#: The master-data entity head office configures extra methods with.
TENDER_ENTITY = "tender"

_METHOD = re.compile(r"[a-z][a-z0-9_]{0,31}")


class TenderError(Translatable, ValueError):
    """A tender a cashier can correct; the message says how."""


@dataclass(frozen=True)
class TenderSpec:
    """One tender as the cashier named it; `amount` None pays the rest of the total."""

    method: str
    amount: int | None = None


def valid_method(name: str) -> bool:
    """A method id: lowercase letters, digits and '_' (at most 32), starting with a letter."""
    return _METHOD.fullmatch(name) is not None


def allowed_methods(configured: Iterable[str] = ()) -> tuple[str, ...]:
    """The built-in methods, then head office's own, in name order."""
    extra = sorted({m for m in configured if valid_method(m)} - set(BUILT_IN))
    return (*BUILT_IN, *extra)


def _choices(allowed: Sequence[str]) -> Message:
    return Message("use one of: {methods}", methods=", ".join(allowed))


def parse(text: str) -> TenderSpec:
    """`cash` or `card:5.00` → a spec (method lowercased); TenderError if unreadable."""
    method, sep, amount_text = text.strip().partition(":")
    method = method.strip().lower()
    if not method:
        raise TenderError("tender method missing")
    if not sep:
        return TenderSpec(method)
    try:
        amount = units.parse_money(amount_text.strip())
    except units.AmountError as exc:
        raise TenderError("tender {tender!r}: {reason}", tender=text.strip(), reason=exc) from None
    if amount <= 0:
        raise TenderError(
            "tender {tender!r}: the amount must be more than zero (leave it out to pay the rest)",
            tender=text.strip(),
        )
    return TenderSpec(method, amount)


def settle(specs: Sequence[str], total: int, allowed: Sequence[str]) -> list[Tender]:
    """The tenders to record for a sale of `total` fen, or TenderError saying what to fix."""
    texts = [s for s in specs if s.strip()]
    if not texts:
        raise TenderError("no tender given: {choices}", choices=_choices(allowed))
    try:
        parsed = [parse(t) for t in texts]
    except TenderError as exc:
        raise TenderError("{reason}; {choices}", reason=exc, choices=_choices(allowed)) from None
    for spec in parsed:
        if spec.method not in allowed:
            raise TenderError(
                "tender {method!r} is not accepted here: {choices}",
                method=spec.method,
                choices=_choices(allowed),
            )
    methods = [s.method for s in parsed]
    if len(set(methods)) != len(methods):
        raise TenderError("name each tender method once, e.g. --tender cash:5 --tender card")
    open_ended = [s for s in parsed if s.amount is None]
    if len(open_ended) > 1:
        raise TenderError(
            "give an amount for every tender but one, e.g. --tender card:5.00 --tender cash"
        )
    fixed = sum(s.amount for s in parsed if s.amount is not None)
    money = units.format_money
    if open_ended:
        rest = total - fixed
        if rest < 0 or (rest == 0 and len(parsed) > 1):
            raise TenderError(
                "the other tenders ({fixed}) already cover the total {total}: leave {method} out",
                fixed=money(fixed),
                total=money(total),
                method=open_ended[0].method,
            )
        return [Tender(method=s.method, amount=s.amount or rest) for s in parsed]
    if fixed < total:
        raise TenderError(
            "the tenders ({fixed}) do not cover the total {total}: {missing} is missing",
            fixed=money(fixed),
            total=money(total),
            missing=money(total - fixed),
        )
    change = fixed - total
    if change == 0:
        return [Tender(method=s.method, amount=s.amount or 0) for s in parsed]
    cash = next((s for s in parsed if s.method == "cash"), None)
    if cash is None or (cash.amount or 0) < change:
        raise TenderError(
            "the tenders ({fixed}) are more than the total {total} and only cash gives "
            "change: lower the other amounts",
            fixed=money(fixed),
            total=money(total),
        )
    recorded = []
    for s in parsed:
        amount = (s.amount or 0) - (change if s is cash else 0)
        if amount:
            recorded.append(Tender(method=s.method, amount=amount))
    return recorded or [Tender(method="cash", amount=0)]


def change(specs: Sequence[str], total: int) -> int:
    """The cash to hand back for tenders `settle` accepted: what they name beyond `total`."""
    parsed = [parse(t) for t in specs if t.strip()]
    if any(s.amount is None for s in parsed):
        return 0
    return max(sum(s.amount or 0 for s in parsed) - total, 0)


i18n.register(
    {
        "use one of: {methods}": "可用：{methods}",
        "tender method missing": "缺少付款方式",
        "tender {tender!r}: {reason}": "付款 {tender!r}：{reason}",
        "tender {tender!r}: the amount must be more than zero (leave it out to pay the rest)": (
            "付款 {tender!r}：金额必须大于零（不写金额则支付剩余部分）"
        ),
        "no tender given: {choices}": "没有付款方式：{choices}",
        "{reason}; {choices}": "{reason}；{choices}",
        "tender {method!r} is not accepted here: {choices}": "本店不收 {method!r} 付款：{choices}",
        "name each tender method once, e.g. --tender cash:5 --tender card": (
            "每种付款方式只写一次，例如 --tender cash:5 --tender card"
        ),
        "give an amount for every tender but one, e.g. --tender card:5.00 --tender cash": (
            "除一种付款方式外都要写金额，例如 --tender card:5.00 --tender cash"
        ),
        "the other tenders ({fixed}) already cover the total {total}: leave {method} out": (
            "其他付款（{fixed}）已够总额 {total}：去掉 {method}"
        ),
        "the tenders ({fixed}) do not cover the total {total}: {missing} is missing": (
            "付款（{fixed}）不够总额 {total}：还差 {missing}"
        ),
        "the tenders ({fixed}) are more than the total {total} and only cash gives "
        "change: lower the other amounts": (
            "付款（{fixed}）超过总额 {total}，只有现金可以找零：请减少其他付款的金额"
        ),
    }
)
