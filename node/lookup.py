"""Product lookup (F2) without a screen: search, what one product holds here, and what
the other stores hold as the hub last said.

The index is built in memory when a lookup opens, from `node.products()` (a few thousand
products at most); the pinyin of each name is computed once and kept by name. Asking the
hub is network work: `ask_other_stores` runs on a worker thread and touches no database;
the caller hands its answer to `remember` on the thread that owns the ledger.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ledger.node_tables import RemoteStockCache
from ledger.readmodel import Product
from ledger.sqlite import transaction
from node.errors import NodeError
from node.permissions import User, may
from node.service import Node
from protocol import i18n, search
from protocol.allocation import LotLevel
from protocol.hlc import physical_ms
from protocol.masterdata import pinyin_of
from replication.stock_query import StockAnswer, StockUnavailable, ask_stock

i18n.register(
    {
        "{user!r} may not look products up: ask a manager to give the role access": (
            "{user!r} 无权查询商品：请经理开通权限"
        ),
        "inactive: head office no longer sells {sku}": "已停用：总部已不再销售 {sku}",
    }
)

#: how long a lookup waits for the hub before showing the last answer it kept
ASK_TIMEOUT_S = 1.5


__all__ = ["Lookup", "inactive_text", "pinyin_of"]


def fields_of(product: Product) -> search.ProductFields:
    """What a product is found by: SKU, name and its pinyin, every one of its barcodes."""
    initials, full = pinyin_of(product.name or "")
    return search.ProductFields(
        product.sku,
        product.name or "",
        product.barcode or "",
        initials,
        full,
        barcodes=product.barcodes,
        active=product.active,
    )


def inactive_text(product: Product, lang: str | None = None) -> str | None:
    """What a lookup shows beside a product head office deactivated; None if active."""
    if product.active:
        return None
    return i18n.Message("inactive: head office no longer sells {sku}", sku=product.sku).text(lang)


@dataclass(frozen=True)
class MovementLine:
    """One change of stock here: when (ms), which document and its type, lot, change,
    level after."""

    at_ms: int
    doc: str | None
    doc_type: str | None
    lot: str | None
    qty: int
    after: int


@dataclass(frozen=True)
class OtherStores:
    """Every location's on-hand as the hub said at `as_of_ms`; `fresh` when it was said to
    this lookup just now (not read back from the cache)."""

    as_of_ms: int
    levels: list[tuple[str, int]]
    fresh: bool


@dataclass(frozen=True)
class ProductDetail:
    product: Product
    lots: list[LotLevel]
    on_hand: int
    movements: list[MovementLine]


class Lookup:
    """One open lookup: an index over the node's products and the questions about one."""

    def __init__(self, node: Node, user: User) -> None:
        if not may(user.role, "lookup"):
            raise NodeError(
                "{user!r} may not look products up: ask a manager to give the role access",
                user=user.id,
            )
        self.node = node
        self.user = user
        self.products = {p.sku: p for p in node.products()}
        self._index = [fields_of(p) for p in self.products.values()]

    def search(self, query: str, limit: int = 50) -> list[Product]:
        """Products matching `query` best first; every product (by SKU) for an empty one.
        A GTIN scanned in another length than stored (UPC-A 12 for EAN-13 13) comes first."""
        if not search.normalise(query):
            return list(self.products.values())[:limit]
        found = [self.products[f.sku] for f in search.search(query, self._index, limit)]
        gtin = self._by_gtin(query)
        if gtin is not None and gtin not in found[:1]:
            found = [gtin, *(p for p in found if p.sku != gtin.sku)][:limit]
        return found

    def scanned(self, code: str) -> Product | None:
        """The product a scanned code names exactly (SKU, barcode or GTIN), else None."""
        found = self.search(code, limit=1)
        if found and search.matches(code, fields_of(found[0])) in (
            search.SKU_EXACT,
            search.BARCODE_EXACT,
        ):
            return found[0]
        return self._by_gtin(code)

    def _by_gtin(self, code: str) -> Product | None:
        code = code.strip()
        if not (code.isdigit() and len(code) in (8, 12, 13, 14)):
            return None
        product = self.node.read.product_by_gtin(code.zfill(14))
        return self.products.get(product.sku) if product is not None else None

    def detail(self, sku: str, movements: int = 8) -> ProductDetail:
        """What `sku` holds here per lot (soonest expiry first), its price, its last
        changes here."""
        product = self.node.product(sku)
        here = self.node.config.location
        lots = sorted(
            (lot for lot in self.node.read.lot_levels(here, sku) if lot.qty != 0),
            key=lambda lot: (lot.expiry is None, lot.expiry or "", lot.lot or ""),
        )
        lines = [
            MovementLine(physical_ms(hlc), doc, doc_type, lot, qty, after)
            for hlc, doc, doc_type, lot, qty, after in self.node.read.recent_movements(
                here, sku, movements
            )
        ]
        return ProductDetail(product, lots, sum(lot.qty for lot in lots), lines)

    # ---- other stores ----------------------------------------------------------------------

    def cached_other_stores(self, sku: str) -> OtherStores | None:
        """The last answer the hub gave this node for `sku`; None when never asked."""
        kept = RemoteStockCache(self.node.conn).get(sku)
        return OtherStores(kept[0], kept[1], fresh=False) if kept else None

    def ask_other_stores(self, sku: str, timeout: float = ASK_TIMEOUT_S) -> StockAnswer | None:
        """Ask the hub now (blocking, at most about 2×timeout); None when it does not
        answer. Network only: safe on a worker thread."""
        config = self.node.config
        try:
            return asyncio.run(
                ask_stock(config.nats, config.node, sku, timeout, config.nats_auth())
            )
        except StockUnavailable:
            return None

    def remember(self, answer: StockAnswer) -> OtherStores:
        """Keep the hub's answer (on the ledger's thread) and return it as shown."""
        with transaction(self.node.conn):
            RemoteStockCache(self.node.conn).put(answer.sku, answer.as_of_ms, answer.levels)
        return OtherStores(answer.as_of_ms, list(answer.levels), fresh=True)

    def other_stores(self, sku: str, timeout: float = ASK_TIMEOUT_S) -> OtherStores | None:
        """Ask and keep, or fall back on the last answer kept: for callers without a UI
        loop (all on one thread)."""
        answer = self.ask_other_stores(sku, timeout)
        return self.remember(answer) if answer else self.cached_other_stores(sku)
