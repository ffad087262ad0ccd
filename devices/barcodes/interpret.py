"""What a scanned code means to the till: which product, and any weight, price, lot, expiry.

Order of interpretation (first that applies wins):

1. an AIM identifier is recorded and stripped;
2. GS1 element strings — `(01)...` human-readable form, an AIM GS1 identifier (`]C1`,
   `]d2`, `]Q3`, `]e0`, `]J1`), a GS separator, or a digits-only string starting with
   `01`/`02` + 14 digits + more data (keyboard wedges drop both AIM id and FNC1);
3. in-store variable-measure patterns (label scales), digits only;
4. GTIN-8/12/13/14 and UPC-E (6-8 digits). An 8-digit code starting with 0 or 1 that is
   a valid UPC-E is read as UPC-E (a GTIN-8 with that prefix is company-internal), unless
   the scanner said `]E4` (EAN-8);
5. anything else is `unknown` with a reason a cashier can act on.

Parsing GTINs and GS1 element strings is biip's job; this module decides and explains.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from biip import ParseError
from biip.gs1_element_strings import GS1ElementStrings
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.sscc import Sscc
from biip.upc import Upc

from devices.barcodes.patterns import DEFAULT_PATTERNS, VariableMeasurePattern
from devices.scanner.aim import GS1_IDENTIFIERS, split_aim

GS = "\x1d"
_CHECK = re.compile(r"Expected (\d+), got (\d+)")


class BarcodeKind(enum.StrEnum):
    GTIN = "gtin"  # a trade item number (EAN/UPC, or GTIN-14 on cases)
    VARIABLE_MEASURE = "variable_measure"  # in-store label-scale code: PLU + weight/price
    GS1 = "gs1"  # GS1-128 / DataMatrix / QR element strings with a GTIN
    INVALID = "invalid"  # the right shape but wrong check digit or broken data
    UNKNOWN = "unknown"  # not something we can map to a product


@dataclass(frozen=True, slots=True)
class BarcodeResult:
    kind: BarcodeKind
    code: str  # the data as scanned, AIM identifier stripped
    symbology: str | None = None
    gtin: str | None = None  # in its own length: 8, 12, 13 or 14 digits
    gtin14: str | None = None  # zero-padded to 14 digits: one key for lookups
    plu: str | None = None
    pattern: str | None = None  # name of the in-store pattern that matched
    weight: Decimal | None = None
    weight_unit: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    count: int | None = None
    lot: str | None = None
    expiry: date | None = None
    best_before: date | None = None
    serial: str | None = None
    reason: str | None = None
    reason_zh: str | None = None

    @property
    def ok(self) -> bool:
        return self.kind in (BarcodeKind.GTIN, BarcodeKind.VARIABLE_MEASURE, BarcodeKind.GS1)

    @property
    def product_key(self) -> str | None:
        """`gtin14`, or `plu:<PLU>` for in-store codes; None when no product is named."""
        if self.gtin14:
            return self.gtin14
        return f"plu:{self.plu}" if self.plu else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = str(value) if isinstance(value, (Decimal, date, enum.Enum)) else value
        return out


def _check_reason(expected: str, found: str) -> tuple[str, str]:
    return (
        f"Check digit wrong (expected {expected}, got {found}): the barcode was misread or "
        "is misprinted. Scan it again, or type the number printed under it.",
        f"校验位错误（应为 {expected}，实为 {found}）：条码误读或印刷有误，"
        "请重新扫描或手工输入条码下方的数字。",
    )


def _invalid(code: str, symbology: str | None, message: str, **kw: Any) -> BarcodeResult:
    m = _CHECK.search(message)
    if m and "check digit" in message:
        en, zh = _check_reason(m.group(1), m.group(2))
    else:
        en = f"Unreadable barcode data ({message}). Scan it again or type the number."
        zh = f"条码数据无效（{message}），请重新扫描或手工输入。"
    return BarcodeResult(BarcodeKind.INVALID, code, symbology, reason=en, reason_zh=zh, **kw)


def _unknown(code: str, symbology: str | None, en: str, zh: str, **kw: Any) -> BarcodeResult:
    return BarcodeResult(BarcodeKind.UNKNOWN, code, symbology, reason=en, reason_zh=zh, **kw)


def interpret(
    code: str,
    *,
    patterns: Sequence[VariableMeasurePattern] = DEFAULT_PATTERNS,
    symbology: str | None = None,
) -> BarcodeResult:
    """Interpret one scanned code. Never raises for bad input: see `BarcodeResult.reason`."""
    text = code.strip(" \t\r\n")
    found, text = split_aim(text)
    symbology = symbology or found
    if not text:
        return _unknown(
            text,
            symbology,
            "Empty scan: nothing was read. Scan again.",
            "空条码：没有读到内容，请重新扫描。",
        )
    if _looks_gs1(text, symbology):
        return _gs1(text, symbology)
    if text.isdigit():
        for pattern in patterns:
            m = pattern.match(text)
            if m is None:
                continue
            if not m.check_ok:
                return _invalid(
                    text,
                    symbology,
                    f"check digit: Expected {m.check_expected}, got {m.check_found}",
                    plu=m.plu,
                    pattern=pattern.name,
                )
            return BarcodeResult(
                BarcodeKind.VARIABLE_MEASURE,
                text,
                symbology,
                plu=m.plu,
                pattern=pattern.name,
                weight=m.weight,
                weight_unit=pattern.weight_unit if m.weight is not None else None,
                price=m.price,
                currency=pattern.currency if m.price is not None else None,
            )
        return _digits(text, symbology)
    return _unknown(
        text,
        symbology,
        f"Not a product barcode we can read ({len(text)} characters, not a GTIN). Type the "
        "item's SKU, or check that this code is registered as an internal code.",
        f"无法识别的商品条码（{len(text)} 个字符，不是商品条码 GTIN），"
        "请输入商品编码（SKU），或确认该码已登记为店内编码。",
    )


def _looks_gs1(text: str, symbology: str | None) -> bool:
    if text.startswith("("):
        return True
    if symbology in GS1_IDENTIFIERS or GS in text:
        return True
    if len(text) == 18 and text.isdigit():
        return False  # an SSCC or an 18-digit in-store code, not AI 01 + 2 digits
    return len(text) > 16 and text[:16].isdigit() and text.startswith(("01", "02"))


def _digits(text: str, symbology: str | None) -> BarcodeResult:
    n = len(text)
    if n in (6, 7) or (n == 8 and text[0] in "01" and symbology != "]E4"):
        try:
            upc = Upc.parse(text)
        except ParseError as exc:
            if n != 8:
                return _invalid(text, symbology, str(exc))
        else:
            return _gtin_result(Gtin.parse(upc.as_upc_a()), text, symbology)
    if n in (8, 12, 13, 14):
        try:
            gtin = Gtin.parse(text)
        except ParseError as exc:
            return _invalid(text, symbology, str(exc))
        if text[0] == "2" and n in (8, 12, 13):  # restricted circulation: in-store use
            return _unknown(
                text,
                symbology,
                f"In-store code {text} matches none of the configured label-scale patterns. "
                "Check the label scale's barcode format setting against the till's patterns.",
                f"店内码 {text} 与已配置的条码秤格式都不匹配，"
                "请核对条码秤的条码格式设置与收银机中的格式。",
            )
        return _gtin_result(gtin, text, symbology)
    if n == 18:
        try:
            Sscc.parse(text)
        except ParseError:
            pass
        else:
            return _unknown(
                text,
                symbology,
                "This is a shipping-container code (SSCC), not a product. Scan the "
                "barcode on the product itself.",
                "这是物流箱码（SSCC），不是商品条码，请扫描商品本身上的条码。",
            )
    return _unknown(
        text,
        symbology,
        f"Not a product barcode we can read ({n} digits; product codes have 8, 12, 13 or 14). "
        "Scan again or type the item's SKU.",
        f"无法识别的商品条码（{n} 位数字；商品条码为 8、12、13 或 14 位），"
        "请重新扫描或输入商品编码（SKU）。",
    )


def _gtin_result(
    gtin: Gtin, text: str, symbology: str | None, kind: BarcodeKind = BarcodeKind.GTIN, **kw: Any
) -> BarcodeResult:
    native = {8: gtin.as_gtin_8, 12: gtin.as_gtin_12, 13: gtin.as_gtin_13, 14: gtin.as_gtin_14}[
        gtin.format.length
    ]()
    return BarcodeResult(kind, text, symbology, gtin=native, gtin14=gtin.as_gtin_14(), **kw)


def _gs1(text: str, symbology: str | None) -> BarcodeResult:
    try:
        message = GS1Message.parse_hri(text) if text.startswith("(") else GS1Message.parse(text)
    except ParseError as exc:
        return _invalid(text, symbology, str(exc))
    es: GS1ElementStrings = message.element_strings
    info: dict[str, Any] = {}
    for ai, key in (("10", "lot"), ("21", "serial")):
        element = es.get(ai=ai)
        if element is not None:
            info[key] = element.value
    for ai, key in (("17", "expiry"), ("15", "best_before")):
        element = es.get(ai=ai)
        if element is not None and element.date is not None:
            info[key] = element.date
    for prefix, unit in (("310", "kg"), ("320", "lb")):
        element = es.get(ai=prefix)
        if element is not None and element.decimal is not None:
            info["weight"], info["weight_unit"] = element.decimal, unit
            break
    for prefix in ("392", "393"):
        element = es.get(ai=prefix)
        if element is not None and element.decimal is not None:
            info["price"] = element.decimal
            if prefix == "393":
                info["currency"] = element.pattern_groups[0]  # ISO 4217 numeric
            break
    count = es.get(ai="30")
    if count is not None and count.value.isdigit():
        info["count"] = int(count.value)
    product = es.get(ai="01") or es.get(ai="02")
    if product is None:
        return _unknown(
            text,
            symbology,
            "GS1 data without a product number (GTIN, AI 01): scan the product barcode instead.",
            "GS1 数据中没有商品编码（GTIN，AI 01），请改扫商品条码。",
            **info,
        )
    if product.gtin is None:
        return _invalid(text, symbology, product.gtin_error or "bad GTIN in AI 01", **info)
    return _gtin_result(product.gtin, text, symbology, BarcodeKind.GS1, **info)
