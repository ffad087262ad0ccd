"""Every question the node, the hub and the reports ask of a replica's derived state.

The read model only reads: stock, cost, lots, documents, movements, alerts, master data.
Callers outside the ledger never write SQL against these tables; they ask here.
"""

from __future__ import annotations

import json
import sqlite3

import msgspec

from ledger.log import EventLog
from ledger.quarantine import Quarantine
from protocol import documents, fold
from protocol.allocation import LotLevel
from protocol.documents import DocMovement, DocumentStatus, Related
from protocol.events import Document, is_hub_origin
from protocol.tenders import TENDER_ENTITY
from protocol.units import format_qty

_document_decoder = msgspec.msgpack.Decoder(Document)
#: how the key of a header's `scanned_lot` field is encoded: a cheap filter before decoding
_SCANNED_LOT_KEY = msgspec.msgpack.encode("scanned_lot")
_lines_decoder = msgspec.msgpack.Decoder(list[tuple[str, int, str, str | None, int, str, str]])
_str_encoder = msgspec.msgpack.Encoder()
#: the msgpack key of a header's `ref`: only headers that have one hold these bytes
_REF_KEY = msgspec.msgpack.encode("ref")
#: documents that are received against (their receipts, reversals and acceptances matter)
_RECEIVED_TYPES = ("purchase_order", "transfer")


class StockRow(msgspec.Struct, frozen=True):
    location: str
    sku: str
    lot: str | None
    qty: int


class CostRow(msgspec.Struct, frozen=True):
    location: str
    sku: str
    qty: int
    value: int
    last_cost: int | None


class Product(msgspec.Struct, frozen=True):
    """A product as a replica knows it. `price` is what it sells for where this read
    model stands (a store's override, else `default_price`); `barcode` is one of
    `barcodes` (the old single field while it still names this product)."""

    sku: str
    name: str | None
    barcode: str | None
    unit: str
    price: int | None
    category: str | None = None
    active: bool = True
    barcodes: tuple[str, ...] = ()
    default_price: int | None = None


class Alert(msgspec.Struct, frozen=True):
    kind: str
    location: str | None
    sku: str | None
    lot: str | None
    qty: int | None
    origin: str
    seq: int
    message: str | None


def _filters(location: str | None, sku: str | None) -> tuple[str, list[str]]:
    """A WHERE clause for the optional location and sku filters."""
    where, args = "1=1", []
    for column, value in (("location", location), ("sku", sku)):
        if value is not None:
            where += f" AND {column} = ?"
            args.append(value)
    return where, args


class ReadModel:
    """Queries over one replica's folded state."""

    def __init__(self, conn: sqlite3.Connection, location: str | None = None) -> None:
        self.conn = conn
        #: the store whose prices `product()` gives; None: head office's defaults
        self.location = location

    # ---- stock and cost ----------------------------------------------------------------------

    def stock(
        self, location: str | None = None, sku: str | None = None, include_virtual: bool = False
    ) -> list[StockRow]:
        where, args = _filters(location, sku)
        if not include_virtual:
            where += " AND location NOT LIKE '@%'"
        rows = self.conn.execute(
            f"SELECT location, sku, lot, qty FROM stock WHERE {where} ORDER BY location, sku, lot",
            args,
        )
        return [StockRow(loc, s, lot or None, q) for loc, s, lot, q in rows]

    def lot_levels(self, location: str, sku: str) -> list[LotLevel]:
        """What each lot of `sku` holds at `location`, with expiry: what a sale draws from."""
        return [
            LotLevel(lot or None, expiry, qty)
            for lot, expiry, qty in self.conn.execute(
                "SELECT s.lot, l.expiry, s.qty FROM stock s "
                "LEFT JOIN lots l ON l.sku = s.sku AND l.lot = s.lot "
                "WHERE s.location = ? AND s.sku = ?",
                (location, sku),
            )
        ]

    def cost(self, location: str | None = None, sku: str | None = None) -> list[CostRow]:
        where, args = _filters(location, sku)
        rows = self.conn.execute(
            f"SELECT location, sku, qty, value, last_cost FROM cost WHERE {where} "
            "ORDER BY location, sku",
            args,
        )
        return [CostRow(*row) for row in rows]

    def cogs(self) -> dict[tuple[str, int, str], int]:
        """Cost of goods that left each real location, per event: (origin, seq, location)."""
        return {
            (origin, seq, location): value
            for origin, seq, location, value in self.conn.execute(
                "SELECT origin, seq, location, cogs FROM journal WHERE qty < 0"
            )
        }

    def variances(self) -> dict[tuple[str, int], int]:
        return {
            (origin, seq): v
            for origin, seq, v in self.conn.execute(
                "SELECT origin, seq, sum(variance) FROM journal WHERE counted IS NOT NULL "
                "GROUP BY origin, seq"
            )
        }

    def alerts(self) -> list[Alert]:
        return [
            Alert(*row)
            for row in self.conn.execute(
                "SELECT kind, location, sku, lot, qty, origin, seq, message FROM alerts ORDER BY id"
            )
        ] + self.lot_mismatches()

    # ---- documents ---------------------------------------------------------------------------

    def document_header(self, doc: str) -> Document | None:
        """The first header folded under this document number."""
        row = self.conn.execute("SELECT body FROM documents WHERE doc = ?", (doc,)).fetchone()
        return _document_decoder.decode(row[0]) if row else None

    def document_movements(self, doc: str) -> list[DocMovement]:
        """Every folded movement citing `doc`: those folded with its header (kept in its
        row) and those folded before or after it (a row each)."""
        row = self.conn.execute("SELECT lines FROM documents WHERE doc = ?", (doc,)).fetchone()
        own = _lines_decoder.decode(row[0]) if row and row[0] is not None else []
        return [DocMovement(sku, lot, qty, src, dst) for _, _, sku, lot, qty, src, dst in own] + [
            DocMovement(sku, lot, qty, src, dst)
            for sku, lot, qty, src, dst in self.conn.execute(
                "SELECT sku, lot, qty, src, dst FROM doc_movements WHERE doc = ? "
                "ORDER BY origin, seq",
                (doc,),
            )
        ]

    def document(self, doc: str) -> DocumentStatus | None:
        """The header and its derived status; movements may have arrived before the header."""
        header = self.document_header(doc)
        if header is None:
            return None
        related = self.document_related(doc) if header.type in _RECEIVED_TYPES else []
        return documents.document_status(header, self.document_movements(doc), related)

    def document_ids(self, types: tuple[str, ...]) -> list[str]:
        """Documents of these types, in fold order."""
        return [doc for doc, _ in self.document_origins(types)]

    def document_origins(self, types: tuple[str, ...]) -> list[tuple[str, str]]:
        """(document, origin that wrote its header) of these types, in fold order."""
        marks = ", ".join("?" * len(types))
        return self.conn.execute(
            f"SELECT doc, origin FROM documents WHERE type IN ({marks}) ORDER BY hlc, origin, seq",
            types,
        ).fetchall()

    def moved(self, doc: str, src: str, dst: str) -> dict[str, int]:
        """Per SKU, how much `doc` moved from `src` to `dst` (all lots)."""
        totals: dict[str, int] = {}
        for m in self.document_movements(doc):
            if m.src == src and m.dst == dst:
                totals[m.sku] = totals.get(m.sku, 0) + m.qty
        return totals

    # ---- master data -------------------------------------------------------------------------

    def at(self, location: str) -> ReadModel:
        """This read model as a store sees it: a product's price is the store's override
        when it has one (`Upsert(entity="price")`), else head office's default."""
        return ReadModel(self.conn, location)

    def _product_row(
        self,
        row: tuple,
        codes_of: dict[str, list[str]] | None = None,
        claimed_codes: frozenset[str] = frozenset(),
    ) -> Product:
        """A products row as a Product; `codes_of` (every barcode by SKU) and
        `claimed_codes` (all of them) when listing."""
        sku, name, legacy, unit, price, category, active, override = row
        if codes_of is None:
            codes = [
                code
                for (code,) in self.conn.execute(
                    "SELECT code FROM barcodes WHERE sku = ? ORDER BY code", (sku,)
                )
            ]
            claimed = bool(legacy) and self._claimed(legacy)
        else:
            codes = list(codes_of.get(sku, ()))
            claimed = legacy in claimed_codes
        if legacy and legacy not in codes and not claimed:
            codes.append(legacy)  # the old single field, while no barcode register names it
        return Product(
            sku,
            name,
            legacy if legacy in codes else (codes[0] if codes else None),
            unit or "pcs",
            override if override is not None else price,
            category=category,
            active=bool(active),
            barcodes=tuple(codes),
            default_price=price,
        )

    def _claimed(self, code: str) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM barcodes WHERE code = ?", (code,)).fetchone()
            is not None
        )

    _PRODUCT_SELECT = (
        "SELECT p.sku, p.name, p.barcode, p.unit, p.price, p.category, p.active, o.price "
        "FROM products p LEFT JOIN prices o ON o.sku = p.sku AND o.location = ? "
    )

    def product(self, sku: str) -> Product | None:
        """A product, with this read model's store's price (the default at the hub)."""
        row = self.conn.execute(
            self._PRODUCT_SELECT + "WHERE p.sku = ?", (self.location, sku)
        ).fetchone()
        return self._product_row(row) if row else None

    def product_by_barcode(self, barcode: str) -> Product | None:
        """The product any of whose barcodes this is: the barcode register's claim (one
        winner on every replica), else a product's old single `barcode` field."""
        row = self.conn.execute("SELECT sku FROM barcodes WHERE code = ?", (barcode,)).fetchone()
        if row is None:
            row = self.conn.execute(
                "SELECT sku FROM products WHERE barcode = ? ORDER BY sku LIMIT 1", (barcode,)
            ).fetchone()
        return self.product(row[0]) if row else None

    def product_by_gtin(self, gtin14: str) -> Product | None:
        """The product with a numeric barcode that is this GTIN in any length (8, 12, 13
        or 14)."""
        row = self.conn.execute(
            "SELECT sku FROM barcodes WHERE gtin14 = ? ORDER BY code LIMIT 1", (gtin14,)
        ).fetchone()
        if row is None:
            row = self.conn.execute(
                "SELECT sku FROM products WHERE barcode GLOB '[0-9]*' "
                "AND substr('00000000000000' || barcode, -14) = ? "
                "AND barcode NOT IN (SELECT code FROM barcodes) ORDER BY sku LIMIT 1",
                (gtin14,),
            ).fetchone()
        return self.product(row[0]) if row else None

    def product_by_plu(self, plu: str) -> Product | None:
        """A label scale's PLU: stored as a barcode, as 'plu:<n>', or as the SKU itself
        (the first SKU of those, as before products had several barcodes)."""
        found = [
            p.sku
            for p in (self.product_by_barcode(plu), self.product_by_barcode(f"plu:{plu}"))
            if p is not None
        ]
        if self.conn.execute("SELECT 1 FROM products WHERE sku = ?", (plu,)).fetchone():
            found.append(plu)
        return self.product(min(found)) if found else None

    def products(self) -> list[Product]:
        """Every product (at this read model's store's prices), barcodes read in one go."""
        codes_of: dict[str, list[str]] = {}
        for code, sku in self.conn.execute("SELECT code, sku FROM barcodes ORDER BY code"):
            codes_of.setdefault(sku, []).append(code)
        claimed = frozenset(code for codes in codes_of.values() for code in codes)
        return [
            self._product_row(row, codes_of, claimed)
            for row in self.conn.execute(self._PRODUCT_SELECT + "ORDER BY p.sku", (self.location,))
        ]

    def price_at(self, location: str, sku: str) -> int | None:
        """What `sku` costs at `location`: its override there, else the default price."""
        found = self.at(location).product(sku)
        return None if found is None else found.price

    def store_name(self, location: str) -> str | None:
        """The name head office gave the store record `location`, if any."""
        name = self.master_fields("store", location).get("name")
        return name if isinstance(name, str) and name else None

    def registers(self) -> dict[tuple[str, str, str], tuple[int, str, object]]:
        return {
            (entity, key, name): (hlc, origin, json.loads(value))
            for entity, key, name, value, hlc, origin in self.conn.execute(
                "SELECT entity, key, field, value, hlc, origin FROM registers"
            )
        }

    # ---- comparing replicas --------------------------------------------------------------------

    def snapshot(self) -> fold.Snapshot:
        """The derived state in the shape of the reference fold, to compare replicas."""
        snap = fold.Snapshot()
        snap.stock = {(r.location, r.sku, r.lot): r.qty for r in self.stock(include_virtual=True)}
        snap.cost = {
            (r.location, r.sku): fold.CostState(r.qty, r.value, r.last_cost) for r in self.cost()
        }
        snap.cogs = self.cogs()
        snap.variances = self.variances()
        snap.registers = self.registers()
        snap.levels_after = {
            (loc, sku, lot or None, hlc, origin, seq): level
            for loc, sku, lot, hlc, origin, seq, level in self.conn.execute(
                "SELECT location, sku, lot, hlc, origin, seq, level_after FROM journal"
            )
        }
        snap.costs_after = {
            (row[0], row[1], row[2], row[3], row[4]): fold.CostState(*row[5:])
            for row in self.conn.execute(
                "SELECT location, sku, hlc, origin, seq, qty_after, value_after, "
                "last_cost_after FROM journal"
            )
        }
        snap.lot_expiry = {
            (sku, lot): expiry
            for sku, lot, expiry in self.conn.execute(
                "SELECT sku, lot, expiry FROM lots WHERE expiry IS NOT NULL"
            )
        }
        snap.ignored = Quarantine(self.conn).ignored()
        return snap

    # ---- the counter: scanned lots and tenders -------------------------------------------------

    def lot_mismatches(self) -> list[Alert]:
        """`lot_mismatch` alerts: sales whose scanned lot was not held in the quantity sold.
        Derived from the folded sale headers (their `scanned_lot`), so every replica lists
        the same; `qty` is what the sale took, `message` the lots it was drawn from."""
        found: list[Alert] = []
        for doc, origin, seq, body in self.conn.execute(
            "SELECT doc, origin, seq, body FROM documents WHERE type = 'sale' "
            "AND instr(body, ?) > 0 ORDER BY hlc, origin, seq",
            (_SCANNED_LOT_KEY,),
        ):
            header = _document_decoder.decode(body)
            if header.scanned_lot is None:
                continue
            sold = [m for m in self.document_movements(doc) if m.src == header.location]
            # a basket's sale has several lines: the alert is about the one that was scanned
            # with that lot
            sku = next((x.sku for x in header.lines if x.lot == header.scanned_lot), None)
            if sku is None and sold:
                sku = sold[0].sku
            sold = [m for m in sold if m.sku == sku]
            drawn = ", ".join(f"{m.lot or 'no lot'} {format_qty(m.qty)}" for m in sold)
            found.append(
                Alert(
                    "lot_mismatch",
                    header.location,
                    sku,
                    header.scanned_lot,
                    sum(m.qty for m in sold),
                    origin,
                    seq,
                    f"sale {doc} scanned lot {header.scanned_lot}, which {header.location} "
                    f"did not hold in that quantity; sold from {drawn or 'nothing yet'}",
                )
            )
        return found

    def tender_methods(self) -> list[str]:
        """Tender methods head office configured (`Upsert(entity="tender")` from a hub
        origin) and has not disabled (`enabled: false`); see protocol.tenders."""
        methods: dict[str, bool] = {}
        for key, field, value, origin in self.conn.execute(
            "SELECT key, field, value, origin FROM registers WHERE entity = ?", (TENDER_ENTITY,)
        ):
            ok = methods.get(key, True) and is_hub_origin(origin)
            if field == "enabled":
                ok = ok and json.loads(value) is not False
            methods[key] = ok
        return sorted(key for key, ok in methods.items() if ok)

    # ---- receipts of a document -------------------------------------------------------------

    def document_related(self, doc: str) -> list[Related]:
        """The receipts and acceptances whose `ref` is `doc`, and the reversals of those
        receipts, each with the user and time of its event: what a document's receipts
        list and its "received twice" alert are derived from."""
        found = self._headers_citing(("receipt", "acceptance"), [doc])
        receipts = [r.header.doc for r in found if r.header.type == "receipt"]
        return found + (self._headers_citing(("reversal",), receipts) if receipts else [])

    def documents_citing(self, ref: str, types: tuple[str, ...]) -> list[Related]:
        """Headers of these types whose `ref` is `ref` (e.g. the returns and voids of a
        sale, the Z report of a shift), with who wrote each and when, in fold order."""
        return self._headers_citing(types, [ref])

    def documents_written_by(
        self, origin: str, after_seq: int = 0, types: tuple[str, ...] | None = None
    ) -> list[Related]:
        """The headers `origin` wrote after `after_seq` (of these types, or all), in its
        log's order, with who wrote each: a till's shift is a stretch of its own log."""
        log = EventLog(self.conn, "")
        query = "SELECT body, origin, seq, hlc FROM documents WHERE origin = ? AND seq > ?"
        params: list[object] = [origin, after_seq]
        if types is not None:
            query += f" AND type IN ({', '.join('?' * len(types))})"
            params.extend(types)
        found = []
        for body, row_origin, seq, hlc in self.conn.execute(query + " ORDER BY seq", params):
            event = log.event(row_origin, seq)
            found.append(
                Related(
                    _document_decoder.decode(body),
                    row_origin,
                    seq,
                    hlc,
                    event.user if event else "",
                )
            )
        return found

    def _headers_citing(self, types: tuple[str, ...], refs: list[str]) -> list[Related]:
        """Headers of these types whose `ref` is one of `refs`. The ref is not a column:
        the bodies holding its msgpack bytes are found by `instr`, then decoded and checked."""
        log = EventLog(self.conn, "")  # the log, for who wrote each header
        wanted = set(refs)
        marks = ", ".join("?" * len(types))
        found = []
        for ref in wanted:
            rows = self.conn.execute(
                f"SELECT body, origin, seq, hlc FROM documents WHERE type IN ({marks}) "
                "AND instr(body, ?) > 0 ORDER BY hlc, origin, seq",
                (*types, _str_encoder.encode(ref)),
            )
            for body, origin, seq, hlc in rows:
                header = _document_decoder.decode(body)
                if header.ref == ref:
                    event = log.event(origin, seq)
                    found.append(Related(header, origin, seq, hlc, event.user if event else ""))
        return found

    def document_statuses(self, types: tuple[str, ...]) -> list[tuple[Document, DocumentStatus]]:
        """Every document of these types with its status, in fold order: one pass over the
        receipts, reversals and acceptances instead of one per document (listing them)."""
        related: dict[str, list[Related]] = {}
        log = EventLog(self.conn, "")
        headers = {}
        for body, origin, seq, hlc in self.conn.execute(
            "SELECT body, origin, seq, hlc FROM documents "
            "WHERE type IN ('receipt', 'acceptance', 'reversal') AND instr(body, ?) > 0 "
            "ORDER BY hlc, origin, seq",
            (_REF_KEY,),
        ):
            header = _document_decoder.decode(body)
            if header.ref is not None:
                event = log.event(origin, seq)
                headers[header.doc] = Related(header, origin, seq, hlc, event.user if event else "")
        for item in headers.values():
            ref = item.header.ref or ""
            if item.header.type == "reversal":  # listed under the document its receipt is of
                receipt = headers.get(ref)
                ref = receipt.header.ref or "" if receipt is not None else ""
            related.setdefault(ref, []).append(item)
        out = []
        for doc in self.document_ids(types):
            header = self.document_header(doc)
            if header is not None:
                status = documents.document_status(
                    header, self.document_movements(doc), related.get(doc, [])
                )
                out.append((header, status))
        return out

    # ---- users --------------------------------------------------------------------------------

    def master_fields(self, entity: str, key: str) -> dict[str, object]:
        """The current value of each field of one master-data record (e.g. a user)."""
        return {
            name: json.loads(value)
            for name, value in self.conn.execute(
                "SELECT field, value FROM registers WHERE entity = ? AND key = ?", (entity, key)
            )
        }

    # ---- stocktakes ---------------------------------------------------------------------------

    def net_movement_after(
        self, location: str, sku: str, lot: str | None, after: tuple[int, str, int]
    ) -> int:
        """The net stock movement of (location, sku, lot) folded after position `after`
        (hlc, origin, seq), counts left out: what was sold or received at a place after it
        was tallied. `lot` None: every lot of the SKU."""
        query = (
            "SELECT coalesce(sum(delta), 0) FROM journal WHERE location = ? AND sku = ? "
            "AND delta IS NOT NULL AND counted IS NULL AND (hlc, origin, seq) > (?, ?, ?)"
        )
        args: list[object] = [location, sku, *after]
        if lot is not None:
            query += " AND lot = ?"
            args.append(lot)
        return int(self.conn.execute(query, args).fetchone()[0])

    # ---- lookup -------------------------------------------------------------------------------

    def recent_movements(
        self, location: str, sku: str, limit: int = 10
    ) -> list[tuple[int, str | None, str | None, str | None, int, int]]:
        """The last changes of `sku` at `location`, newest first, for a clerk's lookup:
        (hlc, document, its type, lot, change, level after) — a count's change is its
        variance."""
        return [
            (hlc, doc, doc_type, lot or None, qty, after)
            for hlc, doc, doc_type, lot, qty, after in self.conn.execute(
                "SELECT j.hlc, j.doc, d.type, j.lot, j.qty, j.qty_after FROM journal j "
                "LEFT JOIN documents d ON d.doc = j.doc "
                "WHERE j.location = ? AND j.sku = ? "
                "ORDER BY j.hlc DESC, j.origin DESC, j.seq DESC LIMIT ?",
                (location, sku, limit),
            )
        ]
