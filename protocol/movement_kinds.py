"""What a stock change was, for the movements list: derived from the movement's sides and
its document's type, never stored, so every replica names it alike."""

from __future__ import annotations

from typing import Literal

from protocol.events import COUNT, CUSTOMER, SCRAP, SUPPLIER, TRANSIT

Kind = Literal[
    "sale",
    "return",
    "void",
    "receipt",
    "reversal",
    "transfer_out",
    "transfer_in",
    "count",
    "correction",
    "scrap",
    "other",
]

KINDS: tuple[Kind, ...] = (
    "sale",
    "return",
    "void",
    "receipt",
    "reversal",
    "transfer_out",
    "transfer_in",
    "count",
    "correction",
    "scrap",
    "other",
)


def kind_of(src: str | None, dst: str | None, location: str, doc_type: str | None) -> Kind:
    """The kind of one location's side of a change. `src`/`dst` None: a till's count
    (a `Count` event has no sides). A reversal or void is named by its document: it
    undoes a receipt or sale with the opposite movement."""
    if src is None or dst is None:
        return "count"
    if doc_type in ("reversal", "void"):
        return doc_type  # type: ignore[return-value]  # both are kinds
    other = dst if src == location else src
    if other == CUSTOMER:
        return "sale" if src == location else "return"
    if other == SUPPLIER:
        return "receipt" if dst == location else "reversal"
    if other == TRANSIT:
        return "transfer_out" if src == location else "transfer_in"
    if other == COUNT:
        return "correction"
    if other == SCRAP:
        return "scrap"
    if not other.startswith("@"):  # store to store directly
        return "transfer_out" if src == location else "transfer_in"
    return "other"
