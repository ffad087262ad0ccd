"""The till's basket before payment: lines, quantities, prices, discounts and totals.

Pure and immutable: every change returns a new `Basket`, so a screen can keep the previous
one (undo, suspend) and nothing is half-changed when a change is refused. Quantities are
milli-units, money fen (`protocol.units`); a line's total is rounded half-up once, at the
line, and the basket's total is the sum of its lines' totals.

Scanning the same item again adds to its line: a line merges with an earlier one of the
same product counted in pieces, with the same lot and the same charged price, and no price
label. Weighed items and price-label items stay a line each (each weight is its own sale).

Who may change a price or give a discount is not decided here (`node.permissions`): the
basket only records the manager who approved it (`approved_by`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from protocol import i18n
from protocol.i18n import Translatable
from protocol.limits import MAX_MONEY, MAX_QTY
from protocol.units import QTY_SCALE, format_money, line_total

i18n.register(
    {
        "no line {number} in the basket: choose a line from 1 to {count}": (
            "购物篮里没有第 {number} 行：请选择第 1 到 {count} 行"
        ),
        "the basket is empty: scan a code first": "购物篮是空的：请先扫码",
        "quantity must be more than zero: remove the line instead": (
            "数量必须大于零：要去掉这一行请删除它"
        ),
        "{sku} is counted in pieces: the quantity must be a whole number": (
            "{sku} 按件计：数量必须是整数"
        ),
        "quantity {qty} is too large: at most {limit}": "数量 {qty} 太大：最多 {limit}",
        "{sku} was sold by its price label: remove the line and scan the label again": (
            "{sku} 按条码上的价格销售：请删除这一行并重新扫描标签"
        ),
        "a discount must be zero or more": "折扣不能为负数",
        "the discount {discount} is more than the line's {gross}: give at most {gross}": (
            "折扣 {discount} 超过该行金额 {gross}：最多 {gross}"
        ),
        "a price must be zero or more": "价格不能为负数",
        "the price {price} is too large: at most {limit}": "价格 {price} 太大：最多 {limit}",
    }
)


class BasketError(Translatable):
    """A change to the basket the cashier can correct; the basket stays as it was."""


@dataclass(frozen=True)
class BasketLine:
    """One line of the basket.

    `unit_price` is what is charged per base unit (fen per piece or per kg); `list_price`
    the product's own price, which differs when a price was overridden. `label_total` fixes
    the line's money when a price label said what the customer pays. `discount` is fen
    taken off the line; `approved_by` the manager who approved the line's override,
    discount or quantity."""

    sku: str
    name: str
    unit: str
    qty: int
    unit_price: int
    list_price: int | None = None
    discount: int = 0
    label_total: int | None = None
    lot: str | None = None
    expiry: str | None = None
    approved_by: str | None = None

    @property
    def gross(self) -> int:
        """Money for the line before its discount: the label's price, else qty × price."""
        if self.label_total is not None:
            return self.label_total
        return line_total(self.qty, self.unit_price)

    @property
    def total(self) -> int:
        """What the customer pays for the line: gross minus discount, never below zero."""
        return max(self.gross - self.discount, 0)

    @property
    def overridden(self) -> bool:
        """The charged price is not the product's own."""
        return self.list_price is not None and self.unit_price != self.list_price

    def merges_with(self, other: BasketLine) -> bool:
        """Scanning `other` adds to this line (same piece product, lot and price)."""
        return (
            self.unit == "pcs"
            and other.unit == "pcs"
            and self.sku == other.sku
            and self.lot == other.lot
            and self.unit_price == other.unit_price
            and self.label_total is None
            and other.label_total is None
        )


def _check_qty(line: BasketLine, qty: int) -> None:
    if qty <= 0:
        raise BasketError("quantity must be more than zero: remove the line instead")
    if line.unit == "pcs" and qty % QTY_SCALE:
        raise BasketError(
            "{sku} is counted in pieces: the quantity must be a whole number", sku=line.sku
        )
    if qty > MAX_QTY:
        raise BasketError(
            "quantity {qty} is too large: at most {limit}",
            qty=qty // QTY_SCALE,
            limit=MAX_QTY // QTY_SCALE,
        )


@dataclass(frozen=True)
class Basket:
    """The lines of one sale before payment, in the order they were scanned."""

    lines: tuple[BasketLine, ...] = ()

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def total(self) -> int:
        """What the customer pays: the sum of the lines' totals (each rounded half-up)."""
        return sum(line.total for line in self.lines)

    @property
    def discounts_total(self) -> int:
        """Fen given off by discounts (as applied: never more than a line's gross)."""
        return sum(line.gross - line.total for line in self.lines)

    def _index(self, i: int) -> BasketLine:
        if not 0 <= i < len(self.lines):
            if not self.lines:
                raise BasketError("the basket is empty: scan a code first")
            raise BasketError(
                "no line {number} in the basket: choose a line from 1 to {count}",
                number=i + 1,
                count=len(self.lines),
            )
        return self.lines[i]

    def _with(self, i: int, line: BasketLine) -> Basket:
        return Basket((*self.lines[:i], line, *self.lines[i + 1 :]))

    def add(self, line: BasketLine) -> tuple[Basket, int]:
        """The basket with `line` added, and the index of the line it went to: an equal
        item adds its quantity to the earlier line."""
        _check_qty(line, line.qty)
        for i, have in enumerate(self.lines):
            if have.merges_with(line):
                merged = have.qty + line.qty
                _check_qty(have, merged)
                return self._with(i, replace(have, qty=merged)), i
        return Basket((*self.lines, line)), len(self.lines)

    def set_qty(self, i: int, qty: int) -> Basket:
        """Line `i` with a new quantity; a discount larger than the new gross shrinks to it."""
        line = self._index(i)
        if line.label_total is not None:
            raise BasketError(
                "{sku} was sold by its price label: remove the line and scan the label again",
                sku=line.sku,
            )
        _check_qty(line, qty)
        changed = replace(line, qty=qty)
        return self._with(i, replace(changed, discount=min(changed.discount, changed.gross)))

    def remove(self, i: int) -> Basket:
        """The basket without line `i` (a line voided before payment)."""
        self._index(i)
        return Basket((*self.lines[:i], *self.lines[i + 1 :]))

    def discount(self, i: int, fen: int, approved_by: str | None = None) -> Basket:
        """Line `i` with `fen` off (0 takes a discount back); at most the line's gross."""
        line = self._index(i)
        if fen < 0:
            raise BasketError("a discount must be zero or more")
        if fen > line.gross:
            raise BasketError(
                "the discount {discount} is more than the line's {gross}: give at most {gross}",
                discount=format_money(fen),
                gross=format_money(line.gross),
            )
        return self._with(
            i, replace(line, discount=fen, approved_by=approved_by or line.approved_by)
        )

    def override_price(self, i: int, fen: int, approved_by: str | None = None) -> Basket:
        """Line `i` charged `fen` per base unit instead of its list price."""
        line = self._index(i)
        if line.label_total is not None:
            raise BasketError(
                "{sku} was sold by its price label: remove the line and scan the label again",
                sku=line.sku,
            )
        if fen < 0:
            raise BasketError("a price must be zero or more")
        if fen > MAX_MONEY:
            raise BasketError(
                "the price {price} is too large: at most {limit}",
                price=format_money(fen),
                limit=format_money(MAX_MONEY),
            )
        list_price = line.list_price if line.list_price is not None else line.unit_price
        changed = replace(
            line,
            unit_price=fen,
            list_price=list_price,
            approved_by=approved_by or line.approved_by,
        )
        return self._with(i, replace(changed, discount=min(changed.discount, changed.gross)))
