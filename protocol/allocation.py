"""Which lots a sale or issue takes its quantity from: first-expiry-first-out (FEFO).

A cashier scans a product, not a lot. The units leave the shelf from the lot that expires
first, then the next; lots without an expiry go after dated ones, oldest name first. What
no lot can cover comes from the lot-less stock, which may go negative (an alert, not a
refusal: the goods are physically in the customer's bag).

A code that names its lot (a GS1 element string) is sold from that lot when the location
holds enough of it. When it holds none or too little, the scan and the ledger disagree (a
receipt booked under another lot, a mislabelled pack): what the lot holds is taken, the rest
first-expiry-first-out from the other lots, and the caller records the mismatch; a lot the
ledger never had is never driven negative.
"""

from __future__ import annotations

from typing import NamedTuple


class LotLevel(NamedTuple):
    lot: str | None
    expiry: str | None
    qty: int


def fefo(levels: list[LotLevel], wanted: int) -> list[tuple[str | None, int]]:
    """Split `wanted` milli-units across lots; the parts always sum to `wanted`."""
    dated = sorted(
        (lv for lv in levels if lv.lot is not None and lv.qty > 0),
        key=lambda lv: (lv.expiry is None, lv.expiry or "", lv.lot),
    )
    parts: list[tuple[str | None, int]] = []
    remaining = wanted
    for level in dated:
        if remaining <= 0:
            break
        take = min(level.qty, remaining)
        parts.append((level.lot, take))
        remaining -= take
    if remaining > 0:
        parts.append((None, remaining))
    return parts


class Allocation(NamedTuple):
    parts: list[tuple[str | None, int]]
    #: the scanned lot did not hold the quantity sold: the sale records the mismatch
    mismatch: bool


def from_scanned_lot(levels: list[LotLevel], lot: str, wanted: int) -> Allocation:
    """Split `wanted` for a code that named `lot`; the parts always sum to `wanted`."""
    held = max(sum(lv.qty for lv in levels if lv.lot == lot), 0)
    if held >= wanted:
        return Allocation([(lot, wanted)], mismatch=False)
    rest = fefo([lv for lv in levels if lv.lot != lot], wanted - held)
    return Allocation([(lot, held)] * (held > 0) + rest, mismatch=True)
