"""In-store variable-measure barcode patterns (codes printed by supermarket label scales).

A pattern is a template with one character per digit of the code:

    0-9            that digit, literally (e.g. the leading "2" of in-store codes)
    P or .         a digit of the PLU (the item number programmed into the label scale)
    X              any digit, ignored (a flag digit you do not care about)
    C              GS1 mod-10 check digit over all digits before it; only as the last char
    {kind:NN.DDD}  a measure: N = integer digit, D = decimal digit (an optional "." between
                   them is decoration). kind is `weight` (w) or `price` (p); without
                   `kind:` the pattern's default `measure` applies.

Examples: `21PPPPP{weight:NNDDD}C` is 2, flag 1, 5-digit PLU, weight NN.DDD kg, check digit;
`21.....{NNDDD}` is the same without a check digit, measure taken from `measure`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from biip.checksums import gs1_standard_check_digit

MeasureKind = Literal["weight", "price"]
_KINDS: dict[str, MeasureKind] = {"weight": "weight", "w": "weight", "price": "price", "p": "price"}
_GROUP = re.compile(r"\{(?:([A-Za-z]+):)?(N*)\.?(D*)\}")


class PatternError(ValueError):
    """A template that cannot be compiled; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class MeasureField:
    kind: MeasureKind
    start: int
    integers: int
    decimals: int

    @property
    def width(self) -> int:
        return self.integers + self.decimals

    def value(self, code: str) -> Decimal:
        digits = code[self.start : self.start + self.width]
        return Decimal(int(digits)).scaleb(-self.decimals)


@dataclass(frozen=True, slots=True)
class PatternMatch:
    pattern: VariableMeasurePattern
    plu: str
    weight: Decimal | None
    price: Decimal | None
    check_expected: int | None  # None when the pattern has no check digit
    check_found: int | None

    @property
    def check_ok(self) -> bool:
        return self.check_expected == self.check_found


@dataclass(frozen=True)
class VariableMeasurePattern:
    """A compiled template; build with `VariableMeasurePattern.parse`."""

    name: str
    template: str
    measure: MeasureKind = "weight"
    weight_unit: str = "kg"
    currency: str = "CNY"
    length: int = field(init=False)
    fixed: tuple[tuple[int, str], ...] = field(init=False)
    plu_positions: tuple[int, ...] = field(init=False)
    fields: tuple[MeasureField, ...] = field(init=False)
    check_position: int | None = field(init=False)

    def __post_init__(self) -> None:
        if self.measure not in ("weight", "price"):
            raise PatternError(f"measure must be 'weight' or 'price', not {self.measure!r}")
        fixed: list[tuple[int, str]] = []
        plu: list[int] = []
        fields: list[MeasureField] = []
        check: int | None = None
        pos = 0
        i = 0
        t = self.template
        while i < len(t):
            ch = t[i]
            if check is not None:
                raise PatternError(f"{t!r}: the check digit C must be the last character")
            if ch.isdigit():
                fixed.append((pos, ch))
            elif ch in "P.":
                plu.append(pos)
            elif ch == "X":
                pass
            elif ch == "C":
                check = pos
            elif ch == "{":
                m = _GROUP.match(t, i)
                if m is None:
                    raise PatternError(
                        f"{t!r}: bad measure group at position {i}; write it as "
                        "{weight:NNDDD} or {price:NNNDD}"
                    )
                kind_text, ns, ds = m.groups()
                kind = self.measure if kind_text is None else _KINDS.get(kind_text.lower())
                if kind is None:
                    raise PatternError(f"{t!r}: unknown measure {kind_text!r}; use weight or price")
                if not ns and not ds:
                    raise PatternError(f"{t!r}: empty measure group at position {i}")
                if any(f.kind == kind for f in fields):
                    raise PatternError(f"{t!r}: more than one {kind} group")
                fields.append(MeasureField(kind, pos, len(ns), len(ds)))
                pos += len(ns) + len(ds)
                i = m.end()
                continue
            else:
                raise PatternError(
                    f"{t!r}: unexpected {ch!r} at position {i}; allowed are "
                    "digits, P or ., X, C and {...} groups"
                )
            pos += 1
            i += 1
        if not plu:
            raise PatternError(f"{t!r}: no PLU digits (P or .)")
        if not fields:
            raise PatternError(f"{t!r}: no weight or price group {{...}}")
        object.__setattr__(self, "length", pos)
        object.__setattr__(self, "fixed", tuple(fixed))
        object.__setattr__(self, "plu_positions", tuple(plu))
        object.__setattr__(self, "fields", tuple(fields))
        object.__setattr__(self, "check_position", check)

    @classmethod
    def parse(
        cls,
        template: str,
        *,
        name: str | None = None,
        measure: MeasureKind = "weight",
        weight_unit: str = "kg",
        currency: str = "CNY",
    ) -> VariableMeasurePattern:
        return cls(name or template, template.strip(), measure, weight_unit, currency)

    def match(self, code: str) -> PatternMatch | None:
        """Structure match (length and fixed digits); the check digit is reported, not
        enforced, so a misread can be told apart from a foreign code."""
        if len(code) != self.length or not code.isdigit():
            return None
        if any(code[p] != d for p, d in self.fixed):
            return None
        values = {f.kind: f.value(code) for f in self.fields}
        expected = found = None
        if self.check_position is not None:
            expected = gs1_standard_check_digit(code[: self.check_position])
            found = int(code[self.check_position])
        return PatternMatch(
            self,
            "".join(code[p] for p in self.plu_positions),
            values.get("weight"),
            values.get("price"),
            expected,
            found,
        )


DEFAULT_PATTERNS: tuple[VariableMeasurePattern, ...] = (
    VariableMeasurePattern.parse("21PPPPP{weight:NNDDD}C", name="cn13-weight"),
    VariableMeasurePattern.parse("2XPPPPP{price:NNNDD}C", name="cn13-price"),
    VariableMeasurePattern.parse("2XPPPPP{price:NNNDD}{weight:NNDDD}C", name="cn18"),
)


def parse_patterns(lines: str) -> list[VariableMeasurePattern]:
    """Patterns from config text, one per line: `name = template [weight|price]`.

    Blank lines and `#` comments are skipped; the name is optional.
    """
    out: list[VariableMeasurePattern] = []
    for raw in lines.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, rest = line.rpartition("=")
        parts = rest.split()
        if not parts or len(parts) > 2:
            raise PatternError(f"bad pattern line {raw!r}; write: name = template [weight|price]")
        measure = parts[1] if len(parts) == 2 else "weight"
        if measure not in ("weight", "price"):
            raise PatternError(f"bad measure {measure!r} in {raw!r}; use weight or price")
        out.append(
            VariableMeasurePattern.parse(parts[0], name=name.strip() or None, measure=measure)
        )  # type: ignore[arg-type]
    return out
