"""The merge rules as pure functions: what an event does to stock levels.

Movements are double entry (what leaves `src` arrives at `dst`), and a count resets a real
location's level to what was on the shelf, booking the difference against `@count`, so the
sum over all locations, virtual ones included, is always zero.
"""

from __future__ import annotations

from typing import NamedTuple

from protocol.events import COUNT, Count, Movement


class StockDelta(NamedTuple):
    location: str
    sku: str
    lot: str | None
    qty: int


def movement_deltas(m: Movement) -> tuple[StockDelta, StockDelta]:
    return (
        StockDelta(m.src, m.sku, m.lot, -m.qty),
        StockDelta(m.dst, m.sku, m.lot, m.qty),
    )


def count_deltas(c: Count, level_before: int) -> tuple[StockDelta, ...]:
    """A count that found `c.qty` where the books said `level_before`."""
    variance = c.qty - level_before
    if variance == 0:
        return ()
    return (
        StockDelta(c.location, c.sku, c.lot, variance),
        StockDelta(COUNT, c.sku, c.lot, -variance),
    )
