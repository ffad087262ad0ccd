"""The hub's paged lists: one keyset query each, newest or smallest key first.

Each query takes the sort key of the last row the previous page showed (`after`) and a
`limit`, and returns at most `limit` rows after it: never OFFSET, so a page costs the
same deep in a big table as at its start, and rows written between two pages neither
repeat nor vanish. Filters the tables hold are applied here; derived ones (a document's
status, an alert's acknowledgement) by the caller (hub/lists.py).
"""

from __future__ import annotations

import json
import sqlite3

import msgspec

from ledger.log import EventLog
from protocol import codec
from protocol.events import Document, Event

_document_decoder = msgspec.msgpack.Decoder(Document)
#: the widest stretch of one log read at once for a page's events
_STRETCH = 5000


def _equal_to(*filters: tuple[str, object]) -> tuple[list[str], list[object]]:
    """WHERE terms ("1=1" first, so the list is never empty) and their arguments for the
    optional `column = value` filters whose value is given."""
    where, args = ["1=1"], []
    for column, value in filters:
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    return where, args


class StockLot(msgspec.Struct, frozen=True):
    location: str
    sku: str
    lot: str | None
    qty: int
    expiry: str | None


class JournalRow(msgspec.Struct, frozen=True):
    """One location's side of a stock change (a movement's or a count's)."""

    location: str
    sku: str
    hlc: int
    origin: str
    seq: int
    part: int
    lot: str | None
    #: the change of stock here; None for a count (its `variance` is the change)
    delta: int | None
    counted: int | None
    variance: int | None
    unit_cost: int | None
    doc: str | None
    doc_type: str | None


class DocumentRow(msgspec.Struct, frozen=True):
    header: Document
    origin: str
    seq: int
    hlc: int


class AlertRow(msgspec.Struct, frozen=True):
    """An alert; `id` None for one derived when read (not stored), `hlc`/`origin`/`seq`
    the event it is about."""

    id: int | None
    kind: str
    location: str | None
    sku: str | None
    lot: str | None
    qty: int | None
    origin: str
    seq: int
    hlc: int
    message: str | None


class RejectedRow(msgspec.Struct, frozen=True):
    id: int
    origin: str | None
    seq: int | None
    reason: str
    size: int
    at_hlc: int


class Listing:
    """Paged reads over one replica (the hub's)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # ---- stock -----------------------------------------------------------------------

    def stock(
        self,
        after: tuple[str, str, str] | None,
        limit: int,
        location: str | None = None,
        sku: str | None = None,
        lot: str | None = None,
        expiring_by: str | None = None,
    ) -> list[StockLot]:
        """Real locations' stock by (location, sku, lot), with each lot's expiry;
        `expiring_by` (an ISO date): only lots expiring on or before it."""
        where, args = _equal_to(("s.location", location), ("s.sku", sku), ("s.lot", lot))
        where.append("s.location NOT LIKE '@%'")
        if expiring_by is not None:
            where.append("l.expiry IS NOT NULL AND l.expiry <= ?")
            args.append(expiring_by)
        if after is not None:
            where.append("(s.location, s.sku, s.lot) > (?, ?, ?)")
            args.extend(after)
        rows = self.conn.execute(
            "SELECT s.location, s.sku, s.lot, s.qty, l.expiry FROM stock s "
            "LEFT JOIN lots l ON l.sku = s.sku AND l.lot = s.lot AND s.lot != '' "
            f"WHERE {' AND '.join(where)} ORDER BY s.location, s.sku, s.lot LIMIT ?",
            (*args, limit),
        )
        return [StockLot(loc, s, lot or None, q, exp) for loc, s, lot, q, exp in rows]

    # ---- movements -------------------------------------------------------------------

    def journal(
        self,
        before: tuple[int, str, int, str, str, int] | None,
        limit: int,
        location: str | None = None,
        sku: str | None = None,
        doc: str | None = None,
        since_hlc: int | None = None,
        until_hlc: int | None = None,
    ) -> list[JournalRow]:
        """Stock changes newest first, by (hlc, origin, seq, location, sku, part)
        descending; `before`: the key of the last one shown. Hlc bounds: since ≤ hlc < until."""
        where, args = _equal_to(("j.location", location), ("j.sku", sku), ("j.doc", doc))
        if since_hlc is not None:
            where.append("j.hlc >= ?")
            args.append(since_hlc)
        if until_hlc is not None:
            where.append("j.hlc < ?")
            args.append(until_hlc)
        if before is not None:
            where.append("(j.hlc, j.origin, j.seq, j.location, j.sku, j.part) < (?, ?, ?, ?, ?, ?)")
            args.extend(before)
        rows = self.conn.execute(
            "SELECT j.location, j.sku, j.hlc, j.origin, j.seq, j.part, j.lot, j.delta, "
            "j.counted, j.variance, j.unit_cost, j.doc, d.type FROM journal j "
            "LEFT JOIN documents d ON d.doc = j.doc "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY j.hlc DESC, j.origin DESC, j.seq DESC, j.location DESC, j.sku DESC, "
            "j.part DESC LIMIT ?",
            (*args, limit),
        )
        return [
            JournalRow(loc, s, hlc, o, seq, part, lot or None, *rest)
            for loc, s, hlc, o, seq, part, lot, *rest in rows
        ]

    def events(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Event]:
        """The events at these (origin, seq): who wrote each, and its body. A page's events
        of one origin are near one another: read as one stretch of its log (a stored batch
        is split once, not once per event), unless they lie far apart."""
        log = EventLog(self.conn, "")
        by_origin: dict[str, set[int]] = {}
        for origin, seq in keys:
            by_origin.setdefault(origin, set()).add(seq)
        found: dict[tuple[str, int], Event] = {}
        for origin, seqs in by_origin.items():
            low, high = min(seqs), max(seqs)
            if high - low <= _STRETCH:
                for seq, raw in log.raw_events(origin, low - 1, high - low + 1):
                    if seq in seqs:
                        found[(origin, seq)] = codec.decode_verified(raw)
                continue
            for seq in seqs:
                event = log.event(origin, seq)
                if event is not None:
                    found[(origin, seq)] = event
        return found

    # ---- documents -------------------------------------------------------------------

    def documents(
        self,
        before: tuple[int, str, int] | None,
        limit: int,
        types: tuple[str, ...] = (),
        location: str | None = None,
        since_hlc: int | None = None,
        until_hlc: int | None = None,
    ) -> list[DocumentRow]:
        """Document headers newest first, by (hlc, origin, seq) descending."""
        where, args = ["1=1"], []
        if types:
            where.append(f"type IN ({', '.join('?' * len(types))})")
            args.extend(types)
        if location is not None:
            where.append("location = ?")
            args.append(location)
        if since_hlc is not None:
            where.append("hlc >= ?")
            args.append(since_hlc)
        if until_hlc is not None:
            where.append("hlc < ?")
            args.append(until_hlc)
        if before is not None:
            where.append("(hlc, origin, seq) < (?, ?, ?)")
            args.extend(before)
        rows = self.conn.execute(
            f"SELECT body, origin, seq, hlc FROM documents WHERE {' AND '.join(where)} "
            "ORDER BY hlc DESC, origin DESC, seq DESC LIMIT ?",
            (*args, limit),
        )
        return [DocumentRow(_document_decoder.decode(b), o, s, h) for b, o, s, h in rows]

    def headers_of_type(self, doc_type: str) -> list[Document]:
        """Every header of one type (few: transfers, alert acknowledgements)."""
        return [
            _document_decoder.decode(body)
            for (body,) in self.conn.execute(
                "SELECT body FROM documents WHERE type = ? ORDER BY hlc, origin, seq", (doc_type,)
            )
        ]

    # ---- alerts ----------------------------------------------------------------------

    def alerts(
        self,
        before: tuple[int, str, int, str] | None,
        limit: int,
        location: str | None = None,
        kind: str | None = None,
    ) -> list[AlertRow]:
        """The read model's stored alerts newest first, by (hlc, origin, seq, kind)
        descending."""
        where, args = _equal_to(("location", location), ("kind", kind))
        if before is not None:
            where.append("(hlc, origin, seq, kind) < (?, ?, ?, ?)")
            args.extend(before)
        rows = self.conn.execute(
            "SELECT id, kind, location, sku, lot, qty, origin, seq, hlc, message FROM alerts "
            f"WHERE {' AND '.join(where)} ORDER BY hlc DESC, origin DESC, seq DESC, kind DESC "
            "LIMIT ?",
            (*args, limit),
        )
        return [AlertRow(*row) for row in rows]

    def document_place(self, doc: str) -> tuple[str, int, int] | None:
        """(origin, seq, hlc) of the event that wrote a document's header."""
        row = self.conn.execute(
            "SELECT origin, seq, hlc FROM documents WHERE doc = ?", (doc,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    # ---- users -----------------------------------------------------------------------

    def users(
        self,
        after: str | None,
        limit: int,
        role: str | None = None,
        active: bool | None = None,
        location: str | None = None,
    ) -> list[tuple[str, dict[str, object]]]:
        """Users by id, each with its current fields (pin_hash among them: the caller
        shows only whether there is one). A user without an `active` field is active."""
        where, args = ["r.entity = 'user'"], []
        if after is not None:
            where.append("r.key > ?")
            args.append(after)
        if role is not None:
            where.append(
                "EXISTS (SELECT 1 FROM registers x WHERE x.entity = 'user' AND x.key = r.key "
                "AND x.field = 'role' AND x.value = ?)"
            )
            args.append(json.dumps(role))
        if location is not None:  # `locations` is comma-separated: "S01,S02"
            where.append(
                "EXISTS (SELECT 1 FROM registers x WHERE x.entity = 'user' AND x.key = r.key "
                "AND x.field = 'locations' AND json_valid(x.value) "
                "AND instr(',' || replace(json_extract(x.value, '$'), ' ', '') || ',', ?) > 0)"
            )
            args.append(f",{location},")
        if active is not None:
            inactive = (
                "EXISTS (SELECT 1 FROM registers x WHERE x.entity = 'user' AND x.key = r.key "
                "AND x.field = 'active' AND x.value = 'false')"
            )
            where.append(f"NOT {inactive}" if active else inactive)
        keys = [
            key
            for (key,) in self.conn.execute(
                f"SELECT DISTINCT r.key FROM registers r WHERE {' AND '.join(where)} "
                "ORDER BY r.key LIMIT ?",
                (*args, limit),
            )
        ]
        out = []
        for key in keys:
            fields = {
                name: json.loads(value) if value is not None else None
                for name, value in self.conn.execute(
                    "SELECT field, value FROM registers WHERE entity = 'user' AND key = ?", (key,)
                )
            }
            out.append((key, fields))
        return out

    # ---- dead letters ----------------------------------------------------------------

    def rejected(
        self, after: int | None, limit: int, origin: str | None = None
    ) -> list[RejectedRow]:
        """What ingest refused, oldest first, by id."""
        where, args = ["1=1"], []
        if origin is not None:
            where.append("origin = ?")
            args.append(origin)
        if after is not None:
            where.append("id > ?")
            args.append(after)
        rows = self.conn.execute(
            "SELECT id, origin, seq, reason, length(raw), at_hlc FROM rejected "
            f"WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
            (*args, limit),
        )
        return [RejectedRow(*row) for row in rows]
