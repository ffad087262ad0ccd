"""The merge rules as pure functions, and the reference fold over a whole event set.

Every replica orders the events it holds by (hlc, origin, seq) and folds them:

* a movement takes `qty` from `src` and adds it to `dst` (double entry);
* a count sets a real location's level to what was on the shelf and books the difference,
  the variance, against `@count`, so the sum over all locations stays zero; a count of one
  lot sets that lot, a count without a lot sets the product's *total* there and spreads it
  over the lots by `whole_count` (never a second, lot-less bucket beside them);
* moving-weighted-average cost per (location, sku): receipts raise the value at their unit
  cost, issues take value out at the average, and the amount taken is that issue's COGS;
* master data fields are last-writer-wins registers ordered by (hlc, origin).

`ledger.journals` applies the same step functions incrementally in SQLite; `fold_events` here
is the whole-set reference the property tests hold it to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from protocol.events import COUNT, Count, Event, Movement, Upsert, is_virtual
from protocol.units import QTY_SCALE, line_total


class StockDelta(NamedTuple):
    location: str
    sku: str
    lot: str | None
    qty: int


def movement_deltas_of(m: Movement) -> tuple[tuple[str, int], tuple[str, int]]:
    """(location, signed qty) for both sides of a movement: `src` loses, `dst` gains."""
    return ((m.src, -m.qty), (m.dst, m.qty))


def movement_deltas(m: Movement) -> tuple[StockDelta, StockDelta]:
    (src, out), (dst, into) = movement_deltas_of(m)
    return (StockDelta(src, m.sku, m.lot, out), StockDelta(dst, m.sku, m.lot, into))


def count_variance(counted: int, level_before: int) -> int:
    """What the shelf had beyond what the books said: booked against @count."""
    return counted - level_before


def whole_count(
    counted: int, members: list[tuple[str | None, int]]
) -> list[tuple[str | None, int]]:
    """Spread a count of the product's total over its lots: the new level of each lot that
    gets a journal row, the first of them carrying the count's cost change.

    `members` are the lots of the (location, sku) known before the count, oldest first by
    their first movement there (the lot-less bucket, a books artefact, counts as oldest),
    with their book levels. The goods on the shelf are taken to be the most recently
    received: lots are filled newest first, each up to its book level (a negative lot holds
    nothing), so what is missing is missing from the oldest lots, as a first-in-first-out
    shelf loses it. What is found beyond the books goes to the newest lot still holding
    stock (else the newest lot). With no lots at all the lot-less bucket is simply set.
    Rows are written for lots whose level was or becomes non-zero (at least one row).
    """
    lotted = [lot for lot, _ in members if lot is not None]
    if not lotted:
        return [(None, counted)]
    new: dict[str | None, int] = {}
    remaining = counted
    for lot, level in reversed(members):
        take = min(max(level, 0), remaining)
        new[lot] = take
        remaining -= take
    if remaining:
        holders = [lot for lot in lotted if new[lot] > 0]
        new[holders[-1] if holders else lotted[-1]] += remaining
    rows = [(lot, new[lot]) for lot, level in members if level or new[lot]]
    return rows or [(lotted[-1], 0)]


def whole_count_members(
    levels: dict[str | None, int], first_seen: dict[str | None, tuple[int, str, int]]
) -> list[tuple[str | None, int]]:
    """The lots `whole_count` spreads over, in its order: the lot-less bucket first, then
    lots by the position of their first movement at the location."""
    order = sorted(levels, key=lambda lot: (lot is not None, first_seen[lot], lot or ""))
    return [(lot, levels[lot]) for lot in order]


def invalid_reason(event: Event) -> str | None:
    """Why an authentic event cannot be folded; such an event is kept and ignored."""
    match event.body:
        case Movement() as m:
            if m.qty <= 0:
                return f"movement quantity must be positive, got {m.qty}"
            if m.src == m.dst:
                return f"movement from {m.src} to itself"
            if not m.sku:
                return "movement without a SKU"
            if m.unit_cost is not None and m.unit_cost < 0:
                return "negative unit cost"
        case Count() as c:
            if is_virtual(c.location):
                return f"count at virtual location {c.location}"
            if c.qty < 0:
                return f"counted quantity must not be negative, got {c.qty}"
    return None


# ---- moving-weighted-average cost ---------------------------------------------------


class CostState(NamedTuple):
    """Stock quantity (milli-units) and its value (fen) at one location, for one SKU.

    `last_cost` (fen per base unit) values issues when there is nothing on hand to average.
    """

    qty: int = 0
    value: int = 0
    last_cost: int | None = None

    def average_of(self, qty: int) -> int:
        """Value of `qty` units at the current average (or last cost when none on hand)."""
        if self.qty > 0:
            return _div_half_up(qty * self.value, self.qty)
        return line_total(qty, self.last_cost or 0)


def _div_half_up(numerator: int, denominator: int) -> int:
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


#: `CostState(...)` without its generated `__new__` (a Python call per step of every fold)
_state = tuple.__new__


def cost_step(state: CostState, qty: int, unit_cost: int | None) -> tuple[CostState, int]:
    """Apply a signed quantity change; return the new state and the value that left (COGS).

    Inbound (`qty > 0`) adds value at `unit_cost`, or at the current average when the
    movement carries none (count gains, returns). When stock was zero or negative, the
    value restarts from the receipt's cost for what is now on hand. Outbound takes value at
    the average; taking all or more than is on hand takes all the value, and the part
    beyond is valued at the last cost.
    """
    if qty > 0:
        cost = unit_cost if unit_cost is not None else None
        added = line_total(qty, cost) if cost is not None else state.average_of(qty)
        new_qty = state.qty + qty
        if state.qty <= 0:
            value = (
                line_total(max(new_qty, 0), cost)
                if cost is not None
                else (state.average_of(max(new_qty, 0)))
            )
        else:
            value = state.value + added
        last = cost if cost is not None else state.last_cost
        if last is None and new_qty > 0 and value:
            last = _div_half_up(value * QTY_SCALE, new_qty)
        return _state(CostState, (new_qty, value, last)), 0
    if qty < 0:
        out = -qty
        if state.qty <= 0:
            cogs = line_total(out, state.last_cost or 0)
            return _state(CostState, (state.qty - out, 0, state.last_cost)), cogs
        if out >= state.qty:
            cogs = state.value + line_total(out - state.qty, state.last_cost or 0)
            return _state(CostState, (state.qty - out, 0, state.last_cost)), cogs
        cogs = _div_half_up(out * state.value, state.qty)
        return _state(CostState, (state.qty - out, state.value - cogs, state.last_cost)), cogs
    return state, 0


# ---- the reference fold -----------------------------------------------------------------


@dataclass
class Snapshot:
    """Everything the merge rules derive from a set of events."""

    stock: dict[tuple[str, str, str | None], int] = field(default_factory=dict)
    cost: dict[tuple[str, str], CostState] = field(default_factory=dict)
    cogs: dict[tuple[str, int, str], int] = field(default_factory=dict)
    variances: dict[tuple[str, int], int] = field(default_factory=dict)
    registers: dict[tuple[str, str, str], tuple[int, str, object]] = field(default_factory=dict)
    ignored: dict[tuple[str, int], str] = field(default_factory=dict)
    #: the level of a real (location, sku, lot) right after each event touching it
    levels_after: dict[tuple, int] = field(default_factory=dict)
    #: the cost state of a real (location, sku) right after each event touching it
    costs_after: dict[tuple, CostState] = field(default_factory=dict)
    #: a lot's expiry: from the earliest movement (in fold order) of that lot that gives one
    lot_expiry: dict[tuple[str, str], str] = field(default_factory=dict)
    #: when each real (location, sku, lot) first moved: a lot's age for `whole_count`
    first_seen: dict[tuple[str, str, str | None], tuple[int, str, int]] = field(
        default_factory=dict
    )

    def nonzero_stock(self) -> dict[tuple[str, str, str | None], int]:
        return {k: v for k, v in self.stock.items() if v}


def verified_prefix(events: Iterable[Event]) -> list[Event]:
    """Deduplicate and keep each origin's gapless run from seq 1: what a replica folds."""
    by_origin: dict[str, dict[int, Event]] = {}
    for e in events:
        by_origin.setdefault(e.origin, {}).setdefault(e.seq, e)
    kept = []
    for log in by_origin.values():
        seq = 1
        while seq in log:
            kept.append(log[seq])
            seq += 1
    return kept


def fold_events(events: Iterable[Event]) -> Snapshot:
    snap = Snapshot()
    for event in sorted(verified_prefix(events), key=lambda e: e.order_key):
        reason = invalid_reason(event)
        if reason:
            snap.ignored[(event.origin, event.seq)] = reason
            continue
        match event.body:
            case Movement() as m:
                if m.lot is not None and m.expiry is not None:
                    snap.lot_expiry.setdefault((m.sku, m.lot), m.expiry)
                for delta in movement_deltas(m):
                    _add_stock(snap, delta, event)
                    if not is_virtual(delta.location):
                        cost = m.unit_cost if delta.qty > 0 else None
                        _add_cost(snap, event, delta.location, m.sku, delta.qty, cost)
            case Count() as c:
                if c.lot is None:
                    parts = whole_count(c.qty, _members(snap, c.location, c.sku))
                else:
                    parts = [(c.lot, c.qty)]
                net = 0
                for lot, counted in parts:
                    variance = count_variance(counted, snap.stock.get((c.location, c.sku, lot), 0))
                    net += variance
                    _add_stock(snap, StockDelta(c.location, c.sku, lot, variance), event)
                    _add_stock(snap, StockDelta(COUNT, c.sku, lot, -variance), event)
                snap.variances[(event.origin, event.seq)] = net
                _add_cost(snap, event, c.location, c.sku, net, None)
            case Upsert() as u:
                for name, value in u.fields.items():
                    rkey = (u.entity, u.key, name)
                    current = snap.registers.get(rkey)
                    if current is None or (event.hlc, event.origin) > current[:2]:
                        snap.registers[rkey] = (event.hlc, event.origin, value)
    return snap


def _members(snap: Snapshot, location: str, sku: str) -> list[tuple[str | None, int]]:
    levels = {
        lot: snap.stock.get((loc, s, lot), 0)
        for (loc, s, lot) in snap.first_seen
        if loc == location and s == sku
    }
    seen = {lot: snap.first_seen[(location, sku, lot)] for lot in levels}
    return whole_count_members(levels, seen)


def _add_stock(snap: Snapshot, delta: StockDelta, event: Event) -> None:
    key = (delta.location, delta.sku, delta.lot)
    snap.stock[key] = snap.stock.get(key, 0) + delta.qty
    if not is_virtual(delta.location):
        snap.levels_after[(*key, *event.order_key)] = snap.stock[key]
        snap.first_seen.setdefault(key, event.order_key)


def _add_cost(
    snap: Snapshot, event: Event, location: str, sku: str, qty: int, unit_cost: int | None
) -> None:
    state, cogs = cost_step(snap.cost.get((location, sku), CostState()), qty, unit_cost)
    snap.cost[(location, sku)] = state
    snap.costs_after[(location, sku, *event.order_key)] = state
    if qty < 0:
        snap.cogs[(event.origin, event.seq, location)] = cogs
