"""The hub's commands and reads, free of HTTP.

Commands check business values (quantities, money, units, roles, location ids) and write
hub events; nothing is edited in place. Reads gather what the API shows. This is the one
module of the API side that touches the replica store (`store.events`), so a change to
the ledger's interface is a change to this file alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec

from hub.route import Principal
from hub.schemas import CorrectionIn, LineIn, ProductIn, PurchaseOrderIn, ReorderPointIn, UserIn
from hub.store import HubError, HubStore
from ledger.audit import MAX_LIMIT as AUDIT_MAX
from ledger.audit import AuditEntry, audit, parse_since
from ledger.readmodel import CostRow, StockRow
from protocol import codec, limits, pins, subjects, units
from protocol.documents import DocumentStatus
from protocol.events import (
    COUNT,
    Body,
    DocLine,
    Document,
    Entity,
    Event,
    FieldValue,
    Movement,
    Upsert,
    hub_origin_for,
    valid_replica_id,
)
from protocol.hlc import physical_ms
from protocol.stocktake import StocktakeStatus
from protocol.stocktake import from_related as stocktake_status_of
from replication.clock import wall_ms

#: the roles a user of the tills may have (API tokens have theirs: hub/route.py TOKEN_ROLES)
ROLES = ("cashier", "clerk", "manager", "finance", "admin")
UNITS = ("pcs", "kg")
#: the author the ledger records for the hub's own writes (routing); API writes record
#: the name of the token that made them
API_USER = "api"


class Refused(HubError):
    """A request the hub will not carry out; the message says what to send instead."""


class NotFound(HubError):
    """What was asked for is not at the hub."""


# ---- document ids ----------------------------------------------------------------------


def hub_doc_id(kind: str, location: str, header_seq: int) -> str:
    """`<kind>-<location>-<n>`, n being the seq the header gets on the log `hub-<location>`.

    Unique without coordination, like the node's `<node>-<seq of the header>`
    (node/service.py, `_next_doc_id`): only the hub writes `hub-<location>`, from one
    thread with nothing between reading the head and appending (`HubService.post`), so
    no two headers on it share a seq; the location names the log, so no two logs share
    ids; n is digits only, so the location reads back unambiguously from the right even
    when it holds dashes; and purchase orders and corrections share the log, so PO-S01-7
    and ADJ-S01-7 cannot both exist. A hub id differs from every node's as long as no
    node is called `PO-…` or `ADJ-…`, which node registration does not check today.
    """
    return f"{kind}-{location}-{header_seq}"


def purchase_order_id(location: str, header_seq: int) -> str:
    """PO-<location>-<n>: see `hub_doc_id`."""
    return hub_doc_id("PO", location, header_seq)


def correction_id(location: str, header_seq: int) -> str:
    """ADJ-<location>-<n>: see `hub_doc_id`."""
    return hub_doc_id("ADJ", location, header_seq)


# ---- value checks ----------------------------------------------------------------------


def _location(location: str) -> str:
    if not valid_replica_id(location):
        raise Refused(
            f"location {_shown(location)} is not a valid location id: use letters, digits, "
            "'-' or '_' (at most 32), e.g. S01"
        )
    return location


def _shown(text: str) -> str:
    """A value as a message quotes it: the start of a long one, so the message stays short."""
    if len(text) <= limits.MAX_KEY_TEXT:
        return repr(text)
    return f"{text[:12]!r}… ({len(text):,} characters)"


def _key(text: str, what: str) -> str:
    """A SKU, lot or user: not blank, one line, at most MAX_KEY_TEXT characters."""
    problem = limits.text_problem(text, what, key=True)
    if problem:
        raise Refused(problem)
    return text


def _text(text: str | None, what: str, required: bool = False, one_line: bool = True) -> str | None:
    """A name or supplier (one line), a note or reason (`one_line=False`): short enough for
    its event to be published."""
    if text is None:
        return None
    if required and not text.strip():
        raise Refused(f"{what} must not be empty")
    problem = limits.text_problem(text, what, one_line=one_line)
    if problem:
        raise Refused(problem)
    return text


def _amount(parse: Callable[[str], int], text: str, what: str) -> int:
    try:
        return parse(text)
    except units.AmountError as exc:
        raise Refused(f"{what}: {exc.text('en')}") from None  # the API speaks English


def _qty(text: str, what: str) -> int:
    """An ordered quantity: more than zero."""
    value = _amount(units.parse_qty, text, what)
    if value <= 0:
        raise Refused(f"{what}: quantity must be more than zero")
    return value


def _money(text: str, what: str) -> int:
    """A price or cost: zero or more."""
    value = _amount(units.parse_money, text, what)
    if value < 0:
        raise Refused(f"{what}: must not be negative")
    return value


def _doc_line(i: int, line: LineIn) -> DocLine:
    sku = _key(line.sku, f"line {i} sku")
    cost = None if line.unit_cost is None else _money(line.unit_cost, f"line {i} unit_cost")
    return DocLine(sku=sku, qty=_qty(line.qty, f"line {i} qty"), unit_cost=cost)


def _product_fields(body: ProductIn) -> dict:
    """The product fields a body gives (hub/master.py checks them)."""
    from hub import master

    return master._product_fields(body)


# ---- what the reads return -------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    origins: dict[str, int]
    folded: dict[str, int]
    unfolded: int


@dataclass(frozen=True)
class OriginStatus:
    """One origin as the hub sees it; ages are None when there is nothing to age."""

    origin: str
    ingested_seq: int
    folded_seq: int
    waiting: int
    missing: list[tuple[int, int]]
    held: list[dict]
    last_event_age_ms: int | None
    last_ingest_age_ms: int | None
    #: why a second ledger on this id refused to sync (the latest it reported), if one did
    conflict: str | None = None


class HubService:
    """Commands and reads over one hub store; `on_written` is called after each write
    (the server wakes its outbox, so nodes hear of it at once)."""

    def __init__(
        self,
        store: HubStore,
        on_written: Callable[[], None] | None = None,
        clock: Callable[[], int] = wall_ms,
    ) -> None:
        self.store = store
        self.on_written = on_written or (lambda: None)
        self.clock = clock

    def principal(self, token: str) -> Principal | None:
        """Who a bearer token is (name, role, store), or None for an unknown token."""
        found = self.store.token(token)
        return None if found is None else Principal(*found)

    # ---- commands --------------------------------------------------------------------

    def put_product(self, body: ProductIn, user: str = API_USER) -> Event:
        """Products are master data: per-field last-writer-wins, sent to every node; a
        barcode is its own register (hub/master.py)."""
        from hub import master  # the area's module builds on this one

        return master.put_product(self, body, user)

    def put_user(self, body: UserIn, user: str = API_USER) -> Event:
        """Users and roles are master data: per-field last-writer-wins, sent to every node."""
        _key(body.user, "user")
        _text(body.name, "name")
        _text(body.locations, "locations")
        if body.role is not None and body.role not in ROLES:
            raise Refused(f"role must be one of: {', '.join(ROLES)}")
        fields: dict[str, FieldValue] = {
            k: v
            for k, v in msgspec.structs.asdict(body).items()
            if k not in ("user", "pin") and v is not None
        }
        if body.pin is not None:
            if not pins.valid_pin(body.pin):
                raise Refused("pin: a PIN is 4 to 12 digits, e.g. 4821")
            fields["pin_hash"] = pins.hash_pin(body.pin, os.urandom(16))
        if not fields:
            raise Refused("nothing to change: give name, role, locations, active or pin")
        return self.upsert("user", body.user, fields, user)

    def put_reorder_point(self, body: ReorderPointIn, user: str = API_USER) -> Event:
        """A reorder point is master data per product and store (`Upsert(entity="reorder",
        key="<location>/<sku>")`, milli-units), sent to every node like products."""
        location = _location(body.location)
        sku = _key(body.sku, "sku")
        point = _amount(units.parse_qty, body.point, "point")
        if point < 0:
            raise Refused("point: a reorder point is zero or more")
        fields: dict[str, FieldValue] = {"point": point, "qty": _qty(body.qty, "qty")}
        return self.upsert("reorder", f"{location}/{sku}", fields, user)

    def order(self, body: PurchaseOrderIn, user: str = API_USER) -> str:
        """A purchase order goes to the nodes at its location; returns its document id."""
        location = _location(body.location)
        _text(body.supplier, "supplier", required=True)
        _text(body.note, "note", one_line=False)
        if not body.lines:
            raise Refused("a purchase order needs at least one line")
        if len(body.lines) > limits.MAX_DOC_LINES:
            raise Refused(
                f"lines: a purchase order has at most {limits.MAX_DOC_LINES:,} lines; "
                "split it into several orders"
            )
        lines = [_doc_line(i, line) for i, line in enumerate(body.lines, start=1)]
        read = self.store.events.read
        unknown = sorted({line.sku for line in lines if read.product(line.sku) is None})
        if unknown:
            shown = ", ".join(_shown(sku) for sku in unknown[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise Refused(
                f"lines: no product {shown}{more} at the hub: create it first "
                "(POST /api/v1/products), then order it"
            )

        def header(doc: str) -> list[Body]:
            return [
                Document(
                    doc=doc,
                    type="purchase_order",
                    location=location,
                    counterparty=body.supplier,
                    lines=lines,
                    note=body.note,
                )
            ]

        return self.post(location, purchase_order_id, header, user)

    def correct(self, body: CorrectionIn, user: str = API_USER) -> str:
        """A stock correction is a new movement against @count, never an edit."""
        location = _location(body.location)
        sku = _key(body.sku, "sku")
        lot = None if body.lot is None else _key(body.lot, "lot")
        qty = _amount(units.parse_qty, body.qty, "qty")
        if qty == 0:
            raise Refused("qty: a correction of zero changes nothing")
        if not body.reason.strip():
            raise Refused("reason: say why the stock is corrected")
        _text(body.reason, "reason", one_line=False)
        src, dst = (COUNT, location) if qty > 0 else (location, COUNT)

        def bodies(doc: str) -> list[Body]:
            return [
                Document(doc=doc, type="count", location=location, note=body.reason),
                Movement(sku=sku, qty=abs(qty), src=src, dst=dst, lot=lot, doc=doc),
            ]

        return self.post(location, correction_id, bodies, user)

    def upsert(self, entity: Entity, key: str, fields: dict, user: str = API_USER) -> Event:
        """Master data goes on the hub's log `hub`, which every node reads."""
        replica = self.store.events
        with replica.work():  # an event too big to publish is never written
            (event,) = replica.append(
                [Upsert(entity=entity, key=key, fields=fields)], user, self.clock()
            )
            _publishable([event])
        self.on_written()
        return event

    def post(
        self,
        location: str,
        name: Callable[[str, int], str],
        bodies: Callable[[str], Sequence[Body]],
        user: str = API_USER,
    ) -> str:
        """Write a document on `hub-<location>` under the id its header's seq gives.

        Reading the head and appending share one unit of work, so two writers (the API
        and transfer routing, say) can never hand out the same number."""
        origin = hub_origin_for(location)
        replica = self.store.events
        with replica.work():  # the id and the document it names commit together
            doc = name(location, replica.log.head_seq(origin) + 1)
            _publishable(replica.append(bodies(doc), user, self.clock(), origin=origin))
        self.on_written()
        return doc

    # ---- reads -----------------------------------------------------------------------

    def health(self) -> Health:
        self.store.tables.ping()
        return Health(
            origins=self.store.events.log.heads(),
            folded=self.store.events.projector.folded(),
            unfolded=self.store.events.projector.unfolded(),
        )

    def stock(self, location: str | None = None, sku: str | None = None) -> list[StockRow]:
        return self.store.events.read.stock(location=location, sku=sku)

    def cost(self, location: str | None = None, sku: str | None = None) -> list[CostRow]:
        return self.store.events.read.cost(location=location, sku=sku)

    def rejected(self) -> list[dict]:
        return self.store.events.quarantine.rejected()

    def document(self, doc: str) -> DocumentStatus:
        status = self.store.events.read.document(doc)
        if status is None:
            raise NotFound(f"no document {_shown(doc)} at the hub")
        return status

    def stocktake(self, header: Document) -> tuple[StocktakeStatus, dict[str, Document]]:
        """A stocktake's status from the tallies and closes citing it, and each close's
        header (its lines: what it posted and the variance it approved)."""
        read = self.store.events.read
        closes = read.documents_citing(header.doc, ("stocktake_close",))
        status = stocktake_status_of(header, read.documents_citing(header.doc, ("tally",)), closes)
        return status, {c.header.doc: c.header for c in closes}

    def unit_cost(self, location: str, sku: str) -> int | None:
        """The moving-average cost of one unit (fen per unit) at a location, or None."""
        rows = self.store.events.read.cost(location=location, sku=sku)
        if not rows:
            return None
        row = rows[0]
        if row.qty > 0:
            return round(row.value * units.QTY_SCALE / row.qty)
        return row.last_cost

    def document_header(self, doc: str) -> Document:
        header = self.store.events.read.document_header(doc)
        if header is None:
            raise NotFound(f"no document {_shown(doc)} at the hub")
        return header

    def nodes(self) -> list[OriginStatus]:
        """Every origin the hub knows of, even one whose seq 1 is held or missing (it has
        no head yet, and must show all the more)."""
        replica = self.store.events
        now = self.clock()
        gaps = replica.log.gaps()
        held: dict[str, list[dict]] = {}
        for item in replica.quarantine.held():
            held.setdefault(item["origin"], []).append(item)
        last_ingest = self.store.tables.last_ingest_ms()
        heads = replica.log.heads()
        folded = replica.projector.folded()
        conflicts = self.store.tables.conflicts()
        known = sorted(set(heads) | set(gaps) | set(held) | set(last_ingest) | set(conflicts))
        return [
            OriginStatus(
                origin=origin,
                ingested_seq=heads.get(origin, 0),
                folded_seq=folded.get(origin, 0),
                waiting=replica.log.waiting(origin),
                missing=gaps.get(origin, []),
                held=held.get(origin, []),
                last_event_age_ms=self._event_age(origin, now),
                last_ingest_age_ms=(now - last_ingest[origin] if origin in last_ingest else None),
                conflict=conflicts[origin][0] if origin in conflicts else None,
            )
            for origin in known
        ]

    def _event_age(self, origin: str, now: int) -> int | None:
        """How long ago, by its own clock, the origin's last verified event happened."""
        hlc = self.store.events.log.head_hlc(origin)
        return None if hlc is None else max(0, now - physical_ms(hlc))

    def audit(
        self, user: str | None, since: str | None, limit: str | None, offset: str | None
    ) -> list[AuditEntry]:
        """A page of who did what across every origin the hub holds, newest first."""
        try:
            since_ms = None if not since else parse_since(since)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        count = _count(limit, "limit", 100, 1, AUDIT_MAX)
        skip = _count(offset, "offset", 0, 0, 10**9)
        return audit(self.store.events.log, user or None, since_ms, count, skip)


#: the most one hub event may take: a batch on the wire holds at least one whole event, and
#: an event the server refused would stop every later one of its log (nodes apply logs
#: in order), so one is refused here, before it is written
MAX_HUB_EVENT_BYTES = subjects.MAX_BATCH_BYTES // 2


def _publishable(events: Sequence[Event]) -> None:
    """Refuse (and so roll back) a write whose event could not be published."""
    for event in events:
        size = len(codec.encode(event))
        if size > MAX_HUB_EVENT_BYTES:
            raise Refused(
                f"the change is too big to send to the stores ({size:,} bytes as an event, "
                f"at most {MAX_HUB_EVENT_BYTES:,}): send fewer lines or shorter texts"
            )


def _count(text: str | None, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within [low, high]; Refused otherwise."""
    if not text:
        return default
    # ASCII and short before int(): "²" is a digit to isdigit(), and int() refuses 4300+ digits
    if not (text.isascii() and text.isdigit() and len(text) <= 12) or not low <= int(text) <= high:
        raise Refused(f"{name} must be a whole number from {low} to {high}, not {_shown(text)}")
    return int(text)
