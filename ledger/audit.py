"""Who did what, when, on which document: the audit trail, read from the log itself.

Every change is an event carrying its author (`user`), its clock (`hlc`) and its body, so
the trail needs no table of its own that could disagree with the log: it is a walk of each
origin's verified events from the newest back, merged newest first across origins (each
origin's hlc only grows with its seq), filtered and paged. It stops reading an origin as
soon as it passes `since`, so a recent window of a big hub reads only that window.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime

import msgspec

from ledger.log import EventLog
from protocol import codec
from protocol.events import Count, Document, Event, Movement, Upsert
from protocol.hlc import pack, physical_ms
from protocol.units import format_money, format_qty

#: events read per step of an origin's backward walk
CHUNK = 500
#: the most entries one page may hold
MAX_LIMIT = 1000


class AuditEntry(msgspec.Struct, frozen=True):
    """One event as a person reads it: `summary` says what moved or changed."""

    origin: str
    seq: int
    time: str
    user: str
    kind: str
    doc: str | None
    summary: str


def parse_since(text: str) -> int:
    """`2026-12-01` (midnight UTC) or an ISO time (`2026-12-01T08:30`, UTC unless it says
    otherwise) as wall ms; ValueError with a readable reason otherwise."""
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"since {text!r} is not a date: use e.g. 2026-12-01") from None
    return int(moment.timestamp() * 1000)


def _time(hlc: int) -> str:
    moment = datetime.fromtimestamp(physical_ms(hlc) / 1000, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def summary(event: Event) -> tuple[str | None, str]:
    """(document, what it did) of one event."""
    match event.body:
        case Movement(sku=sku, qty=qty, src=src, dst=dst, lot=lot, doc=doc):
            lot_text = f" lot {lot}" if lot else ""
            return doc, f"{sku}{lot_text} {format_qty(qty)} {src} -> {dst}"
        case Count(location=location, sku=sku, qty=qty, lot=lot, doc=doc):
            lot_text = f" lot {lot}" if lot else ""
            return doc, f"count {sku}{lot_text} = {format_qty(qty)} at {location}"
        case Upsert(entity=entity, key=key, fields=fields):
            return None, f"{entity} {key}: {', '.join(sorted(fields))}"
        case Document(doc=doc, type=kind, location=location, lines=lines, tenders=tenders):
            items = ", ".join(f"{line.sku} {format_qty(line.qty)}" for line in lines[:5])
            more = f" (+{len(lines) - 5} lines)" if len(lines) > 5 else ""
            paid = f", paid {format_money(sum(t.amount for t in tenders))}" if tenders else ""
            return doc, f"{kind} at {location}" + (f": {items}{more}" if items else "") + paid
    return None, type(event.body).__name__  # pragma: no cover - every body is matched


def _newest_first(log: EventLog, origin: str, since_hlc: int) -> Iterator[Event]:
    """`origin`'s verified events from its head back, until one is older than since."""
    upto = log.head_seq(origin)
    while upto > 0:
        start = max(0, upto - CHUNK)
        for _, raw in reversed(log.raw_events(origin, start, upto - start)):
            event = codec.decode_verified(raw)
            if event.hlc < since_hlc:
                return
            yield event
        upto = start


def audit(
    log: EventLog,
    user: str | None = None,
    since_ms: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """A page of the trail, newest first: `limit` entries after the first `offset`, only
    events by `user` and at or after `since_ms` when given."""
    since_hlc = pack(since_ms or 0, 0)
    walks = [_newest_first(log, origin, since_hlc) for origin in log.heads()]
    merged = heapq.merge(*walks, key=lambda e: e.order_key, reverse=True)
    chosen = (e for e in merged if user is None or e.user == user)
    page = itertools.islice(chosen, offset, offset + max(0, min(limit, MAX_LIMIT)))
    out = []
    for event in page:
        doc, what = summary(event)
        out.append(
            AuditEntry(event.origin, event.seq, _time(event.hlc), event.user, event.kind, doc, what)
        )
    return out
