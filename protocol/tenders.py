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

from protocol import units
from protocol.events import Tender

#: Accepted at every counter without configuration.
BUILT_IN = ("cash", "card", "wechat", "alipay")

#: The master-data entity head office configures extra methods with.
TENDER_ENTITY = "tender"

_METHOD = re.compile(r"[a-z][a-z0-9_]{0,31}")


class TenderError(ValueError):
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


def _choices(allowed: Sequence[str]) -> str:
    return f"use one of: {', '.join(allowed)}"


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
        raise TenderError(f"tender {text.strip()!r}: {exc}") from None
    if amount <= 0:
        raise TenderError(
            f"tender {text.strip()!r}: the amount must be more than zero (leave it out to "
            "pay the rest)"
        )
    return TenderSpec(method, amount)


def settle(specs: Sequence[str], total: int, allowed: Sequence[str]) -> list[Tender]:
    """The tenders to record for a sale of `total` fen, or TenderError saying what to fix."""
    texts = [s for s in specs if s.strip()]
    if not texts:
        raise TenderError(f"no tender given: {_choices(allowed)}")
    try:
        parsed = [parse(t) for t in texts]
    except TenderError as exc:
        raise TenderError(f"{exc}; {_choices(allowed)}") from None
    for spec in parsed:
        if spec.method not in allowed:
            raise TenderError(f"tender {spec.method!r} is not accepted here: {_choices(allowed)}")
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
                f"the other tenders ({money(fixed)}) already cover the total {money(total)}: "
                f"leave {open_ended[0].method} out"
            )
        return [Tender(method=s.method, amount=s.amount or rest) for s in parsed]
    if fixed < total:
        raise TenderError(
            f"the tenders ({money(fixed)}) do not cover the total {money(total)}: "
            f"{money(total - fixed)} is missing"
        )
    change = fixed - total
    if change == 0:
        return [Tender(method=s.method, amount=s.amount or 0) for s in parsed]
    cash = next((s for s in parsed if s.method == "cash"), None)
    if cash is None or (cash.amount or 0) < change:
        raise TenderError(
            f"the tenders ({money(fixed)}) are more than the total {money(total)} and only "
            "cash gives change: lower the other amounts"
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
