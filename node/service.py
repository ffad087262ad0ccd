"""Counter and back-room operations on a node's ledger.

Each operation validates first, then writes its document header and movements as events in
one durable transaction: a sale is on disk before the counter says it is done, and a refused
operation writes nothing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ledger.node_tables import NODE_MIGRATIONS, NodeSettings
from ledger.readmodel import Product, StockRow
from ledger.replica import Replica
from ledger.sqlite import connect, migrate, transaction
from node.errors import NodeError, NotInitialised, UnknownProduct
from protocol import i18n, limits, units
from protocol.allocation import fefo, from_scanned_lot
from protocol.events import (
    CUSTOMER,
    SUPPLIER,
    Body,
    Count,
    Document,
    Event,
    Movement,
    Tender,
    Upsert,
    valid_replica_id,
)
from protocol.subjects import node_inbox_prefix
from protocol.tenders import TenderError, allowed_methods, settle
from replication.clock import wall_ms

UNITS = ("pcs", "kg")

#: what a message calls the amounts and texts a person gives
PRICE = i18n.Message("price")
COST = i18n.Message("cost")
_NODE_ID = i18n.Message("node id")
_LOCATION = i18n.Message("location")


@dataclass(frozen=True)
class NodeConfig:
    node: str
    location: str
    nats: str
    user: str
    nkey_seed: str | None = None
    #: head office's JetStream domain, for a node on a store's leaf server (kucun nats
    #: serve --leaf); None: the server it connects to has the JetStream
    jetstream_domain: str | None = None

    def nats_auth(self) -> dict[str, str]:
        """Connect options for this node's credentials (none where NATS has no auth)."""
        if not self.nkey_seed:
            return {}
        return {"nkeys_seed_str": self.nkey_seed, "inbox_prefix": node_inbox_prefix(self.node)}


class Node:
    """An opened, initialised node ledger."""

    def __init__(self, conn: sqlite3.Connection, config: NodeConfig) -> None:
        self.conn = conn
        self.config = config
        self.store = Replica(conn, config.node)
        self.read = self.store.read.at(config.location)  # prices: this store's overrides
        #: who is acting: every event this node writes records them. The till sets the user
        #: who logged in; commands act as the ledger's configured user.
        self.user = config.user

    # ---- lifecycle -----------------------------------------------------------------

    @classmethod
    def init(
        cls,
        path: str | Path,
        node: str,
        location: str | None,
        nats: str,
        user: str = "admin",
        nkey_seed: str | None = None,
        jetstream_domain: str | None = None,
    ) -> Node:
        location = location or node
        for label, value in ((_NODE_ID, node), (_LOCATION, location)):
            if not valid_replica_id(value):
                raise NodeError(
                    "{what} {value!r} is not valid: use letters, digits, '-' or '_' "
                    "(at most 32), e.g. S01 or S01-T2",
                    what=label,
                    value=value,
                )
        conn = connect(path)
        migrate(conn, "node", NODE_MIGRATIONS)
        settings = NodeSettings(conn)
        existing = settings.read()
        if existing and existing.get("node") != node:
            raise NodeError(
                "{path} already belongs to node {node}; a ledger's node id never changes. "
                "Use a new --db file for a new node.",
                path=str(path),
                node=existing["node"],
            )
        values = {"node": node, "location": location, "nats": nats, "user": user}
        if nkey_seed:
            values["nkey_seed"] = nkey_seed
        if jetstream_domain:
            values["jetstream_domain"] = jetstream_domain
        with transaction(conn):
            settings.write(values)
        return cls.open(path)

    @classmethod
    def open(cls, path: str | Path) -> Node:
        if not os.path.exists(path):
            raise NotInitialised(
                "no node ledger at {path}: run `kucun node init --db {path} --node S01 "
                "--nats URL` first",
                path=str(path),
            )
        conn = connect(path)
        rows = NodeSettings(conn).read()
        if "node" not in rows:
            conn.close()
            raise NotInitialised(
                "{path} is not an initialised node ledger: run `kucun node init --db {path} "
                "--node S01 --nats URL` first",
                path=str(path),
            )
        migrate(conn, "node", NODE_MIGRATIONS)
        config = NodeConfig(
            rows["node"],
            rows["location"],
            rows["nats"],
            rows["user"],
            rows.get("nkey_seed"),
            rows.get("jetstream_domain"),
        )
        return cls(conn, config)

    def close(self) -> None:
        self.conn.close()

    # ---- master data ---------------------------------------------------------------

    def add_product(
        self,
        sku: str,
        name: str,
        barcode: str | None = None,
        price: str | None = None,
        unit: str = "pcs",
    ) -> Event:
        _check_text(sku, "SKU", key=True)
        _check_text(name, "name", one_line=True)
        if barcode:
            _check_text(barcode, "barcode", key=True)
        if unit not in UNITS:
            raise NodeError(
                "unit {unit!r} is not known; use one of: {units}", unit=unit, units=", ".join(UNITS)
            )
        fields: dict[str, str | int | bool | None] = {"name": name, "unit": unit}
        if barcode:
            other = self.product_by_barcode(barcode)
            if other and other.sku != sku:
                raise NodeError(
                    "barcode {barcode} already belongs to {sku}", barcode=barcode, sku=other.sku
                )
            fields["barcode"] = barcode
        if price is not None:
            fields["price"] = self._money(price, PRICE)
        (event,) = self.store.append(
            [Upsert(entity="product", key=sku, fields=fields)], self.user, wall_ms()
        )
        return event

    def product(self, sku: str) -> Product:
        found = self.read.product(sku)
        if found is None:
            raise UnknownProduct(
                "unknown SKU {sku!r}: add it with `kucun node product add` or check the code",
                sku=sku,
            )
        return found

    def product_by_barcode(self, barcode: str) -> Product | None:
        return self.read.product_by_barcode(barcode)

    def products(self) -> list[Product]:
        return self.read.products()

    # ---- stock movements -------------------------------------------------------------

    def receive(
        self,
        sku: str,
        qty: str,
        cost: str | None = None,
        lot: str | None = None,
        expiry: str | None = None,
        supplier: str | None = None,
    ) -> list[Event]:
        product = self.product(sku)
        milli = self._quantity(qty, product, allow_zero=False)
        unit_cost = self._money(cost, COST) if cost is not None else None
        expiry = self._expiry(expiry)
        if lot is not None:
            _check_text(lot, "lot", key=True)
        if supplier is not None:
            _check_text(supplier, "supplier", one_line=True)
        here = self.config.location
        return self.post(
            lambda doc: [
                Document(doc=doc, type="receipt", location=here, counterparty=supplier),
                Movement(
                    sku=sku,
                    qty=milli,
                    src=SUPPLIER,
                    dst=here,
                    lot=lot,
                    expiry=expiry,
                    doc=doc,
                    unit_cost=unit_cost,
                ),
            ]
        )

    def sell(
        self,
        sku: str,
        qty: str,
        price: str | None = None,
        tender: str | Sequence[str] = "cash",
        *,
        lot: str | None = None,
        expiry: str | None = None,
        label_total: int | None = None,
        shift: str | None = None,
    ) -> list[Event]:
        """Sell from this location.

        `tender` is one tender or several (`cash`, `card:5.00`; see protocol.tenders): they
        must cover the total. `lot` and `expiry` when the code named them: the sale draws
        from that lot if it is held in the quantity sold, else what it holds and the rest
        first-expiry-first-out, and the header records the scanned lot (a `lot_mismatch`
        alert). `label_total` in fen when a price-embedded label fixed what the customer
        pays. `shift`: the till's open shift (its shift_open document), which counts it."""
        product = self.product(sku)
        milli = self._quantity(qty, product, allow_zero=False)
        if price is not None:
            unit_price = self._money(price, PRICE)
        elif product.price is not None:
            unit_price = product.price
        else:
            raise NodeError("{sku} has no price yet: give one with --price 12.80", sku=sku)
        if label_total is not None and label_total < 0:
            raise NodeError("the label's price {price} must not be negative", price=label_total)
        total = units.line_total(milli, unit_price) if label_total is None else label_total
        if total > units.MAX_MONEY:
            raise NodeError(
                "the total {total} is more than one sale may record ({most}): sell fewer at a time",
                total=units.format_money(total),
                most=units.format_money(units.MAX_MONEY),
            )
        tenders = self._tenders([tender] if isinstance(tender, str) else tender, total)
        lot = lot.strip() if lot and lot.strip() else None
        expiry = self._expiry(expiry) if lot is not None else None
        here = self.config.location

        def lines(doc: str) -> list[Body]:
            # inside the transaction: the lots are read and drawn from atomically
            levels = self.read.lot_levels(here, sku)
            if lot is None:
                parts, mismatch = fefo(levels, milli), False
            else:
                parts, mismatch = from_scanned_lot(levels, lot, milli)
            return [
                Document(
                    doc=doc,
                    type="sale",
                    location=here,
                    tenders=tenders,
                    scanned_lot=lot if mismatch else None,
                    shift=shift,
                ),
                *(
                    Movement(
                        sku=sku,
                        qty=part,
                        src=here,
                        dst=CUSTOMER,
                        lot=part_lot,
                        expiry=expiry if part_lot == lot else None,
                        doc=doc,
                        unit_price=unit_price,
                    )
                    for part_lot, part in parts
                ),
            ]

        return self.post(lines)

    def tender_methods(self) -> tuple[str, ...]:
        """The tender methods this counter accepts: built-in and head office's own."""
        return allowed_methods(self.read.tender_methods())

    def count(self, sku: str, qty: str, lot: str | None = None) -> list[Event]:
        product = self.product(sku)
        if lot is not None:
            _check_text(lot, "lot", key=True)
        milli = self._quantity(qty, product, allow_zero=True)
        here = self.config.location
        return self.post(
            lambda doc: [
                Document(doc=doc, type="count", location=here),
                Count(location=here, sku=sku, qty=milli, lot=lot, doc=doc),
            ]
        )

    def post(self, lines: Callable[[str], list[Body]]) -> list[Event]:
        """Write a document under a fresh id, with the lines `lines(doc)` returns, in one
        durable transaction: on disk before the caller can say it is done."""
        with self.store.work():
            doc = self._next_doc_id()
            return self.store.append(lines(doc), self.user, wall_ms())

    def stock(self, sku: str | None = None, location: str | None = None) -> list[StockRow]:
        return self.read.stock(location=location, sku=sku)

    # ---- helpers ---------------------------------------------------------------------

    def _next_doc_id(self) -> str:
        """Documents are named after the seq of their header: unique across the chain."""
        return f"{self.config.node}-{self.store.log.head_seq(self.config.node) + 1}"

    def _tenders(self, specs: Sequence[str], total: int) -> list[Tender]:
        try:
            return settle(specs, total, self.tender_methods())
        except TenderError as exc:
            raise NodeError("{reason}", reason=exc) from None

    @staticmethod
    def _expiry(text: str | None) -> str | None:
        if text is None:
            return None
        try:
            date.fromisoformat(text)
        except ValueError:
            raise NodeError(
                "expiry {text!r} is not a date; write it as 2027-01-31", text=text
            ) from None
        return text

    @staticmethod
    def _money(text: str, what: str | i18n.Message) -> int:
        """`text` as fen; `what` names it in the message (PRICE, COST; a plain word is
        looked up among the registered texts)."""
        what = what if isinstance(what, i18n.Message) else i18n.Message(what)
        try:
            value = units.parse_money(text)
        except units.AmountError as exc:
            raise NodeError("{reason}", reason=exc.naming(what)) from None
        if value < 0:
            raise NodeError("{what} {text!r} must not be negative", what=what, text=text)
        return value

    @staticmethod
    def _quantity(text: str, product: Product, allow_zero: bool) -> int:
        try:
            milli = units.parse_qty(text)
        except units.AmountError as exc:
            raise NodeError("{reason}", reason=exc) from None
        if milli < 0 or (milli == 0 and not allow_zero):
            if allow_zero:
                raise NodeError("quantity {qty!r} must be zero or more", qty=text)
            raise NodeError("quantity {qty!r} must be more than zero", qty=text)
        if product.unit == "pcs" and milli % units.QTY_SCALE:
            raise NodeError(
                "{sku} is counted in pieces; quantity {qty!r} must be a whole number",
                sku=product.sku,
                qty=text,
            )
        return milli


def _check_text(value: str, what: str, *, key: bool = False, one_line: bool = False) -> None:
    """The hub's rules for keys and names (protocol.limits), so a till cannot write what
    head office would refuse: a blank or 100 kB SKU, a name with a newline in it."""
    problem = limits.text_problem(value, what, key=key, one_line=one_line)
    if problem is None:
        return
    # the same three rules, as templates the reader's language can render
    term = i18n.Message(what)
    most = limits.MAX_KEY_TEXT if key else limits.MAX_TEXT
    if len(value) > most:
        raise NodeError(
            "{what} is too long ({length:,} characters): at most {most:,}",
            what=term,
            length=len(value),
            most=most,
        )
    if problem.endswith("must not be empty"):
        raise NodeError("{what} must not be empty", what=term)
    raise NodeError(
        "{what} {value!r} holds a control character: type plain text", what=term, value=value
    )


i18n.register(
    {
        "price": "价格",
        "cost": "成本",
        "node id": "节点编号",
        "location": "位置",
        "SKU": "SKU",
        "name": "名称",
        "barcode": "条码",
        "lot": "批号",
        "supplier": "供应商",
        "{what} {value!r} is not valid: use letters, digits, '-' or '_' (at most 32), "
        "e.g. S01 or S01-T2": "{what} {value!r} 无效：请用字母、数字、'-' 或 '_'（最多 32 个），"
        "例如 S01 或 S01-T2",
        "{path} already belongs to node {node}; a ledger's node id never changes. "
        "Use a new --db file for a new node.": "{path} 已属于节点 {node}；账本的节点编号不能更改。"
        "新节点请用新的 --db 文件。",
        "no node ledger at {path}: run `kucun node init --db {path} --node S01 --nats URL` "
        "first": "{path} 没有节点账本：请先运行 "
        "`kucun node init --db {path} --node S01 --nats URL`",
        "{path} is not an initialised node ledger: run `kucun node init --db {path} "
        "--node S01 --nats URL` first": "{path} 不是已初始化的节点账本：请先运行 "
        "`kucun node init --db {path} --node S01 --nats URL`",
        "unit {unit!r} is not known; use one of: {units}": "未知单位 {unit!r}；可用：{units}",
        "barcode {barcode} already belongs to {sku}": "条码 {barcode} 已属于 {sku}",
        "unknown SKU {sku!r}: add it with `kucun node product add` or check the code": (
            "未知商品 {sku!r}：请用 `kucun node product add` 添加，或检查编码"
        ),
        "{sku} has no price yet: give one with --price 12.80": (
            "{sku} 还没有价格：请用 --price 12.80 给出价格"
        ),
        "the label's price {price} must not be negative": "标签价格 {price} 不能为负数",
        "the total {total} is more than one sale may record ({most}): sell fewer at a time": (
            "总额 {total} 超过单笔销售的上限（{most}）：请分多次销售"
        ),
        "{reason}": "{reason}",
        "expiry {text!r} is not a date; write it as 2027-01-31": (
            "有效期 {text!r} 不是日期，请写成 2027-01-31 这样"
        ),
        "{what} {text!r} must not be negative": "{what} {text!r} 不能为负数",
        "quantity {qty!r} must be zero or more": "数量 {qty!r} 必须大于或等于零",
        "quantity {qty!r} must be more than zero": "数量 {qty!r} 必须大于零",
        "{sku} is counted in pieces; quantity {qty!r} must be a whole number": (
            "{sku} 按件计数；数量 {qty!r} 必须是整数"
        ),
        "{what} is too long ({length:,} characters): at most {most:,}": (
            "{what}太长（{length:,} 个字符）：最多 {most:,} 个"
        ),
        "{what} must not be empty": "{what}不能为空",
        "{what} {value!r} holds a control character: type plain text": (
            "{what} {value!r} 含有控制字符：请输入普通文字"
        ),
    }
)
