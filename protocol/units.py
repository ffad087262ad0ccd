"""Decimal strings at the edges, integers inside.

Quantities are integer milli-units of a product's base unit (1 piece = 1000, 1 kg = 1000 g)
and money is integer fen (0.01 CNY), so sums are exact and every replica agrees bit for bit.
People and JSON see decimal strings ("1.250", "12.80"); these helpers are the only place
the two meet.
"""

from __future__ import annotations

import re

from protocol import i18n
from protocol.i18n import Message, Translatable
from protocol.limits import MAX_AMOUNT_TEXT, MAX_MONEY, MAX_QTY

QTY_SCALE = 1000
MONEY_SCALE = 100

_DECIMAL = re.compile(r"^\s*([+-]?)(\d+)(?:\.(\d*))?\s*$|^\s*([+-]?)\.(\d+)\s*$")


class AmountError(Translatable, ValueError):
    """A quantity or money string a person typed that cannot be understood. Its `what`
    field names the amount ("quantity", "amount"); a caller that knows better (a price, a
    cost) renames it with `naming`."""

    def naming(self, what: Message) -> AmountError:
        """The same error about `what`: `amount '1,5' is not a number` → `price …`."""
        return AmountError(self.template, **{**self.fields, "what": what})


QUANTITY = Message("quantity")
AMOUNT = Message("amount")


def _parse_scaled(text: str, places: int, what: Message) -> int:
    """The checks run on the text before any `int()`: Python refuses to convert more than
    4300 digits (a ValueError that is no AmountError), and a number too long to be within
    the limits needs no converting to be refused."""
    if not isinstance(text, str):
        raise AmountError(
            "{what} must be a decimal string like {example}, got {text!r}",
            what=what,
            example=_example(places),
            text=text,
        )
    limit = MAX_QTY if places == 3 else MAX_MONEY
    m = _DECIMAL.match(text) if len(text) <= MAX_AMOUNT_TEXT else None
    if not m:
        long = _LONG_NUMBER.fullmatch(text) if len(text) > MAX_AMOUNT_TEXT else None
        if long and len(long.group(1).lstrip("0")) > len(str(limit // 10**places)):
            raise _too_large(what, text, limit, places)
        if long:
            raise AmountError(
                "{what} {text} is too long: write at most {most} characters, like {example}",
                what=what,
                text=_shown(text),
                most=MAX_AMOUNT_TEXT,
                example=_example(places),
            )
        raise AmountError(
            "{what} {text} is not a number; write it like {example}",
            what=what,
            text=_shown(text),
            example=_example(places),
        )
    if m.group(2) is not None:
        sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    else:
        sign, whole, frac = m.group(4), "0", m.group(5)
    if len(frac) > places and frac[places:].strip("0"):
        raise AmountError(
            "{what} {text!r} has more than {places} decimal places; write it like {example}",
            what=what,
            text=text,
            places=places,
            example=_example(places),
        )
    whole = whole.lstrip("0")
    if len(whole) > len(str(limit // 10**places)):
        raise _too_large(what, text, limit, places)
    frac = (frac + "0" * places)[:places]
    value = int(whole or "0") * 10**places + (int(frac) if frac else 0)
    if value > limit:
        raise _too_large(what, text, limit, places)
    return -value if sign == "-" else value


#: a number, however long: refused as too large rather than as "not a number"
_LONG_NUMBER = re.compile(r"\s*[+-]?(\d*)(?:\.\d*)?\s*")


def _too_large(what: Message, text: str, limit: int, places: int) -> AmountError:
    return AmountError(
        "{what} {text} is too large: at most {most:,}",
        what=what,
        text=_shown(text),
        most=limit // 10**places,
    )


def _shown(text: str) -> str | Message:
    """The text as a message quotes it: the start of a long one, so a message stays a line."""
    if len(text) <= MAX_AMOUNT_TEXT:
        return repr(text)
    return Message("{start!r}… ({length:,} characters)", start=text[:12], length=len(text))


def _example(places: int) -> str:
    return '"1.250"' if places == 3 else '"12.80"'


def _format_scaled(value: int, places: int) -> str:
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


def parse_qty(text: str) -> int:
    """ "1.250" -> 1250 milli-units; at most three decimals."""
    return _parse_scaled(text, 3, QUANTITY)


def format_qty(milli: int) -> str:
    """1250 -> "1.250"."""
    return _format_scaled(milli, 3)


def parse_money(text: str) -> int:
    """ "12.80" -> 1280 fen; at most two decimals."""
    return _parse_scaled(text, 2, AMOUNT)


def format_money(fen: int) -> str:
    """1280 -> "12.80"."""
    return _format_scaled(fen, 2)


i18n.register(
    {
        "quantity": "数量",
        "amount": "金额",
        "{what} must be a decimal string like {example}, got {text!r}": (
            "{what}应为形如 {example} 的十进制数，收到的是 {text!r}"
        ),
        "{what} {text} is too long: write at most {most} characters, like {example}": (
            "{what} {text} 太长：最多写 {most} 个字符，例如 {example}"
        ),
        "{what} {text} is not a number; write it like {example}": (
            "{what} {text} 不是数字，请写成 {example} 这样"
        ),
        "{what} {text!r} has more than {places} decimal places; write it like {example}": (
            "{what} {text!r} 的小数超过 {places} 位，请写成 {example} 这样"
        ),
        "{what} {text} is too large: at most {most:,}": "{what} {text} 太大：最多 {most:,}",
        "{start!r}… ({length:,} characters)": "{start!r}…（共 {length:,} 个字符）",
    }
)


def line_total(qty_milli: int, unit_price_fen: int) -> int:
    """Money for `qty` at `unit_price` per base unit, rounded half-up once, at the line."""
    numerator = qty_milli * unit_price_fen
    whole, rest = divmod(abs(numerator), QTY_SCALE)  # integers: exact, and fast
    if 2 * rest >= QTY_SCALE:
        whole += 1
    return whole if numerator >= 0 else -whole
