"""Rules of head office's master data, without I/O: keys, which price applies, who gets
a group's price change, what a product's barcodes become, what a list search matches.

Every replica folds the same registers (per-field last-writer-wins, ledger/registers.py);
these functions only derive from them, so every replica derives the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

#: the entities head office keeps records of, listed and searched at the hub
RECORD_ENTITIES = ("product", "supplier", "customer", "store")
#: a store record's kinds: a shop with tills, or a warehouse that only ships and receives
STORE_KINDS = ("store", "warehouse")
#: what separates the searched texts of a record: no query (spaces dropped) holds it
_SEP = "\x1f"


def price_key(location: str, sku: str) -> str:
    """The key of a store's price override: `<location>/<sku>` (a location id has no '/',
    so the first '/' splits it back, whatever the SKU holds)."""
    return f"{location}/{sku}"


def split_price_key(key: str) -> tuple[str, str] | None:
    """(location, sku) of an override's key; None for a key that is not one."""
    location, slash, sku = key.partition("/")
    return (location, sku) if slash and location and sku else None


def effective_price(override: int | None, default: int | None) -> int | None:
    """A store's price: its own override if it has one, else head office's default."""
    return override if override is not None else default


@dataclass(frozen=True)
class StoreRecord:
    """What a group roll-out needs of a store record."""

    id: str
    group: str | None
    active: bool = True


def rollout(stores: Iterable[StoreRecord], group: str) -> list[str]:
    """The stores a price change for `group` goes to: the active stores of that group at
    the time of the request, by id. A store joining the group later keeps its own price
    until the next change (the change is one override per store, not a rule)."""
    return sorted(s.id for s in stores if s.group == group and s.active)


def barcode_changes(
    sku: str, current: Iterable[str], wanted: Iterable[str]
) -> dict[str, str | None]:
    """The barcode registers to write so that `sku` holds exactly `wanted`: each new code
    claimed (`sku`), each code it holds and no longer wants released (None)."""
    have, want = set(current), list(dict.fromkeys(wanted))
    changes: dict[str, str | None] = {code: sku for code in want if code not in have}
    changes.update({code: None for code in sorted(have - set(want))})
    return changes


def gtin14(code: str) -> str | None:
    """A numeric barcode of a GTIN length (8, 12, 13, 14) as 14 digits, so a UPC-A scanned
    as EAN-13 finds the product; None for any other code."""
    if code.isascii() and code.isdigit() and len(code) in (8, 12, 13, 14):
        return code.zfill(14)
    return None


def normalise(text: str) -> str:
    """What a search compares: lower case, spaces dropped (protocol/search.py does alike)."""
    return "".join(text.split()).lower()


@lru_cache(maxsize=8192)
def pinyin_of(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of the Chinese in `name`, lower case, no spaces; the other
    characters are left out (`苹果 1kg` → ("pg", "pingguo")). The dictionary is loaded on
    the first Chinese name only: a hub or node without one never pays for it."""
    chinese = [c for c in name if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"]
    if not chinese:
        return "", ""
    from pypinyin import Style, lazy_pinyin

    text = "".join(chinese)
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER))
    return initials.lower(), "".join(lazy_pinyin(text)).lower()


def search_text(key: str, name: str | None, codes: Iterable[str] = ()) -> str:
    """What a list's `q` is looked for in: the key, the name, the barcodes and the
    pinyin (initials and whole reading) of a Chinese name, each normalised."""
    initials, full = pinyin_of(name or "")
    parts = [key, name or "", *codes, initials, full]
    return _SEP.join(normalise(p) for p in parts if p)


def record_flags(fields: Mapping[str, object]) -> tuple[bool, str | None, str | None, str | None]:
    """(active, category, kind, group) of a record's fields: what lists filter on. A
    record is active until a register says `active: false`."""

    def text(name: str) -> str | None:
        value = fields.get(name)
        return value if isinstance(value, str) and value else None

    return fields.get("active") is not False, text("category"), text("kind"), text("group")
