"""How well a product matches what a clerk typed: pure, so the ranking is tested alone.

A clerk types a SKU, scans a barcode, types part of a name, or types pinyin for a Chinese
name: the initials (`pg` for 苹果) or the whole reading (`pingguo`). The caller computes the
pinyin once per name (it needs a dictionary); this module only compares and ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

#: ranks, best first: a lower number sorts earlier
SKU_EXACT = 0
BARCODE_EXACT = 1
SKU_PREFIX = 2
NAME_SUBSTRING = 3
INITIALS_PREFIX = 4
FULL_PINYIN = 5
INITIALS_SUBSTRING = 6


@dataclass(frozen=True)
class ProductFields:
    """What a product is searched by: `initials` and `pinyin` are of its name, lower case
    without spaces (`pg`, `pingguo`); empty where the name has no Chinese."""

    sku: str
    name: str = ""
    barcode: str = ""
    initials: str = ""
    pinyin: str = ""
    #: every code that scans as the product (`barcode` is one of them, or the only one)
    barcodes: tuple[str, ...] = ()
    #: head office deactivated it: still found (a clerk asks about what is on the shelf),
    #: after the active products of the same rank
    active: bool = True


def normalise(query: str) -> str:
    """What is compared: trimmed, lower case, inner spaces dropped (`ping guo` = `pingguo`)."""
    return "".join(query.split()).lower()


def matches(query: str, product: ProductFields) -> int | None:
    """The rank of `product` for `query` (see the constants, lower is better); None when it
    does not match. An empty query matches nothing: the caller lists products instead."""
    needle = normalise(query)
    if not needle:
        return None
    sku = product.sku.lower()
    if needle == sku:
        return SKU_EXACT
    if product.barcode and needle == product.barcode.lower():
        return BARCODE_EXACT
    if any(needle == code.lower() for code in product.barcodes):
        return BARCODE_EXACT
    if sku.startswith(needle):
        return SKU_PREFIX
    if needle in normalise(product.name):
        return NAME_SUBSTRING
    if product.initials and product.initials.startswith(needle):
        return INITIALS_PREFIX
    # inside a name, one letter is too loose: it would find nearly every product
    inside = len(needle) >= 2
    if product.pinyin and (
        product.pinyin.startswith(needle) or (inside and needle in product.pinyin)
    ):
        return FULL_PINYIN
    if product.initials and inside and needle in product.initials:
        return INITIALS_SUBSTRING
    return None


def search(query: str, products: list[ProductFields], limit: int = 50) -> list[ProductFields]:
    """The products matching `query`, best rank first, active before inactive, then by
    SKU; at most `limit`."""
    ranked = [
        ((rank, not p.active, p.sku), p)
        for p in products
        if (rank := matches(query, p)) is not None
    ]
    ranked.sort(key=lambda item: item[0])
    return [p for _, p in ranked[:limit]]
