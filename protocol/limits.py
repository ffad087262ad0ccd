"""The numbers an event may carry, so that every replica can store and fold it.

msgspec decodes integers up to 2**64-1 and Python adds without bound, but SQLite stores
at most 2**63-1: an event beyond that would decode, chain and then fail inside a
transaction, again on every redelivery. Quantities and money are also bounded far below
that, so that the running sums of a fold (level, stock value) stay storable too: a line
of ten million units at a hundred million yuan each is more than any shop will book.
"""

from __future__ import annotations

from protocol.events import Count, Document, Event, Movement, Upsert

INT64_MAX = 2**63 - 1
#: largest quantity on one line, in milli-units: 10,000,000 pieces or kg
MAX_QTY = 10**10
#: largest amount or unit price, in fen: 100,000,000 CNY
MAX_MONEY = 10**10
#: longest decimal text a person may type for a quantity or amount: far more than the
#: limits above need ("-10000000.000" is 13), little enough that no text is converted (or
#: echoed in a message) whole when it is kilobytes of digits
MAX_AMOUNT_TEXT = 40


def storable_int(value: int) -> bool:
    return -INT64_MAX - 1 <= value <= INT64_MAX


def out_of_range(event: Event) -> str | None:
    """Why `event` carries a number no replica may store or fold, or None."""
    if not 1 <= event.seq <= INT64_MAX:
        return f"seq must be between 1 and {INT64_MAX}, got {event.seq}"
    if not 0 <= event.hlc <= INT64_MAX:
        return f"hlc must be between 0 and {INT64_MAX}, got {event.hlc}"
    body = event.body
    # Most events are sale lines and headers: answer those without calls (this runs for
    # every event a hub stores, and took a fifth of the time of storing it).
    if type(body) is Movement:
        cost, price = body.unit_cost, body.unit_price
        if (
            -MAX_QTY <= body.qty <= MAX_QTY
            and (cost is None or -MAX_MONEY <= cost <= MAX_MONEY)
            and (price is None or -MAX_MONEY <= price <= MAX_MONEY)
        ):
            return None
    elif (
        type(body) is Document
        and not body.lines
        and not body.shipped
        and all(-MAX_MONEY <= tender.amount <= MAX_MONEY for tender in body.tenders)
    ):
        return None
    match body:
        case Movement() as m:
            return _qty(m.qty) or _money(m.unit_cost) or _money(m.unit_price)
        case Count() as c:
            return _qty(c.qty)
        case Upsert() as u:
            for name, value in u.fields.items():
                if isinstance(value, int) and not storable_int(value):
                    return f"{u.entity} {u.key} field {name}: {value} is not a 64-bit integer"
        case Document() as d:
            for line in (*d.lines, *d.shipped):
                problem = _qty(line.qty) or _money(line.unit_cost) or _money(line.unit_price)
                if problem:
                    return f"{d.doc} line {line.sku}: {problem}"
            for tender in d.tenders:
                problem = _money(tender.amount)
                if problem:
                    return f"{d.doc} tender {tender.method}: {problem}"
    return None


def _qty(value: int) -> str | None:
    if abs(value) > MAX_QTY:
        return f"quantity {value} is beyond ±{MAX_QTY} milli-units"
    return None


def _money(value: int | None) -> str | None:
    if value is not None and abs(value) > MAX_MONEY:
        return f"amount {value} is beyond ±{MAX_MONEY} fen"
    return None


#: longest key a person may give: a SKU, lot, user or document id
MAX_KEY_TEXT = 64
#: longest free text (a name, supplier, note, reason): an event must stay far below what
#: one NATS message may carry (1 MiB), or its log could not be published past it
MAX_TEXT = 1000
#: most lines one document may have, for the same reason
MAX_DOC_LINES = 1000


def text_problem(value: str, what: str, *, key: bool = False, one_line: bool = False) -> str | None:
    """Why `value` cannot be a key (`key=True`: SKU, lot, user), a one-line text (a name,
    a supplier) or a free text (a note), or None.

    Keys are matched exactly and, like names, shown in one line, so they hold no control
    characters (a newline, a NUL), and keys are not blank; free text may hold line breaks
    and tabs."""
    most = MAX_KEY_TEXT if key else MAX_TEXT
    if len(value) > most:
        return f"{what} is too long ({len(value):,} characters): at most {most:,}"
    allowed = "" if key or one_line else "\n\t"
    if any((ord(c) < 32 and c not in allowed) or c == "\x7f" for c in value):
        return f"{what} {value!r} holds a control character: type plain text"
    if key and not value.strip():
        return f"{what} must not be empty"
    return None
