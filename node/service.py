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
from protocol import limits, units
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
        self.read = self.store.read
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
        for label, value in (("node id", node), ("location", location)):
            if not valid_replica_id(value):
                raise NodeError(
                    f"{label} {value!r} is not valid: use letters, digits, '-' or '_' "
                    "(at most 32), e.g. S01 or S01-T2"
                )
        conn = connect(path)
        migrate(conn, "node", NODE_MIGRATIONS)
        settings = NodeSettings(conn)
        existing = settings.read()
        if existing and existing.get("node") != node:
            raise NodeError(
                f"{path} already belongs to node {existing['node']}; a ledger's node id "
                "never changes. Use a new --db file for a new node."
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
                f"no node ledger at {path}: run `kucun node init --db {path} --node S01 "
                "--nats URL` first"
            )
        conn = connect(path)
        rows = NodeSettings(conn).read()
        if "node" not in rows:
            conn.close()
            raise NotInitialised(
                f"{path} is not an initialised node ledger: run `kucun node init --db {path} "
                "--node S01 --nats URL` first"
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
            raise NodeError(f"unit {unit!r} is not known; use one of: {', '.join(UNITS)}")
        fields: dict[str, str | int | bool | None] = {"name": name, "unit": unit}
        if barcode:
            other = self.product_by_barcode(barcode)
            if other and other.sku != sku:
                raise NodeError(f"barcode {barcode} already belongs to {other.sku}")
            fields["barcode"] = barcode
        if price is not None:
            fields["price"] = self._money(price, "price")
        (event,) = self.store.append(
            [Upsert(entity="product", key=sku, fields=fields)], self.user, wall_ms()
        )
        return event

    def product(self, sku: str) -> Product:
        found = self.read.product(sku)
        if found is None:
            raise UnknownProduct(
                f"unknown SKU {sku!r}: add it with `kucun node product add` or check the code"
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
        unit_cost = self._money(cost, "cost") if cost is not None else None
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
    ) -> list[Event]:
        """Sell from this location.

        `tender` is one tender or several (`cash`, `card:5.00`; see protocol.tenders): they
        must cover the total. `lot` and `expiry` when the code named them: the sale draws
        from that lot if it is held in the quantity sold, else what it holds and the rest
        first-expiry-first-out, and the header records the scanned lot (a `lot_mismatch`
        alert). `label_total` in fen when a price-embedded label fixed what the customer
        pays."""
        product = self.product(sku)
        milli = self._quantity(qty, product, allow_zero=False)
        if price is not None:
            unit_price = self._money(price, "price")
        elif product.price is not None:
            unit_price = product.price
        else:
            raise NodeError(f"{sku} has no price yet: give one with --price 12.80")
        if label_total is not None and label_total < 0:
            raise NodeError(f"the label's price {label_total} must not be negative")
        total = units.line_total(milli, unit_price) if label_total is None else label_total
        if total > units.MAX_MONEY:
            raise NodeError(
                f"the total {units.format_money(total)} is more than one sale may record "
                f"({units.format_money(units.MAX_MONEY)}): sell fewer at a time"
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
            raise NodeError(str(exc)) from None

    @staticmethod
    def _expiry(text: str | None) -> str | None:
        if text is None:
            return None
        try:
            date.fromisoformat(text)
        except ValueError:
            raise NodeError(f"expiry {text!r} is not a date; write it as 2027-01-31") from None
        return text

    @staticmethod
    def _money(text: str, what: str) -> int:
        try:
            value = units.parse_money(text)
        except units.AmountError as exc:
            raise NodeError(str(exc).replace("amount", what, 1)) from None
        if value < 0:
            raise NodeError(f"{what} {text!r} must not be negative")
        return value

    @staticmethod
    def _quantity(text: str, product: Product, allow_zero: bool) -> int:
        try:
            milli = units.parse_qty(text)
        except units.AmountError as exc:
            raise NodeError(str(exc)) from None
        if milli < 0 or (milli == 0 and not allow_zero):
            raise NodeError(
                f"quantity {text!r} must be {'zero or more' if allow_zero else 'more than zero'}"
            )
        if product.unit == "pcs" and milli % units.QTY_SCALE:
            raise NodeError(
                f"{product.sku} is counted in pieces; quantity {text!r} must be a whole number"
            )
        return milli


def _check_text(value: str, what: str, *, key: bool = False, one_line: bool = False) -> None:
    """The hub's rules for keys and names (protocol.limits), so a till cannot write what
    head office would refuse: a blank or 100 kB SKU, a name with a newline in it."""
    problem = limits.text_problem(value, what, key=key, one_line=one_line)
    if problem:
        raise NodeError(problem)
