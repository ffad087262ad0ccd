"""The rules that make something an alert at a till, without any I/O.

`node.alerts` gathers the facts (stock, lots, documents, the outbox, held events) and asks
these rules which of them are alerts, how serious each is and under which key it is
acknowledged. A key names the *condition*: when the condition changes (a new negative
stock event, another receipt, a new reorder point), the key changes and the alert is
unacknowledged again, so an acknowledgement never hides news.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Kind = Literal[
    "negative_stock",
    "below_reorder",
    "expiring",
    "receipt_discrepancy",
    "transfer_discrepancy",
    "received_twice",
    "backlog",
    "clock_skew",
    "lot_mismatch",
    "ledger",
]

#: every kind, in the order the screen's filter cycles through them
KINDS: tuple[Kind, ...] = (
    "negative_stock",
    "below_reorder",
    "expiring",
    "receipt_discrepancy",
    "transfer_discrepancy",
    "received_twice",
    "backlog",
    "clock_skew",
    "lot_mismatch",
    "ledger",
)

Severity = Literal["high", "medium", "low"]

#: how serious each kind is: "high" wants action today (the books or the link are wrong)
SEVERITY: dict[Kind, Severity] = {
    "negative_stock": "high",
    "below_reorder": "low",
    "expiring": "medium",
    "receipt_discrepancy": "medium",
    "transfer_discrepancy": "medium",
    "received_twice": "high",
    "backlog": "medium",
    "clock_skew": "high",
    "lot_mismatch": "low",
    "ledger": "high",
}

#: the quarantine's default limit (ledger.log.DEFAULT_MAX_SKEW_MS), repeated here because
#: protocol imports nothing of the ledger; the node passes its replica's own limit
DEFAULT_MAX_SKEW_MS = 10 * 60 * 1000


@dataclass(frozen=True)
class Thresholds:
    """When a fact becomes an alert."""

    #: a lot expiring within this many days (or already expired) is an alert
    expiring_days: int = 7
    #: unsent documents older than this many minutes are an alert
    backlog_minutes: int = 30
    #: a clock further apart than this (ms) is an alert; the quarantine holds beyond it
    max_skew_ms: int = DEFAULT_MAX_SKEW_MS


def severity(kind: Kind) -> Severity:
    return SEVERITY[kind]


def key(kind: Kind, *parts: object) -> str:
    """The alert's stable name: its kind and what identifies its condition, e.g.
    `negative_stock:S01/A1/-@S01-7`. `None` parts are written empty."""
    return f"{kind}:" + "/".join("" if p is None else str(p) for p in parts)


def is_negative(qty: int) -> bool:
    return qty < 0


def below_reorder(on_hand: int, point: int) -> bool:
    """On hand at the location at or below head office's reorder point."""
    return on_hand <= point


def days_left(expiry: str, today: date) -> int | None:
    """Days until a lot's expiry (negative once expired); None when it is not a date."""
    try:
        return (date.fromisoformat(expiry) - today).days
    except ValueError:
        return None


def expiring(expiry: str | None, qty: int, today: date, within_days: int = 7) -> bool:
    """A lot still held whose expiry is at most `within_days` away (or past)."""
    if expiry is None or qty <= 0:
        return False
    left = days_left(expiry, today)
    return left is not None and left <= within_days


def expiring_severity(left: int) -> Severity:
    """An expired lot must leave the shelf now; one about to expire wants a markdown."""
    return "high" if left < 0 else "medium"


def expiry_horizon(today: date, within_days: int) -> date:
    return today + timedelta(days=within_days)


def backlog_overdue(oldest_ms: int | None, now_ms: int, minutes: int = 30) -> bool:
    """Unsent documents whose oldest was written more than `minutes` ago."""
    return oldest_ms is not None and now_ms - oldest_ms > minutes * 60_000


def clock_skewed(event_ms: int, now_ms: int, limit_ms: int = DEFAULT_MAX_SKEW_MS) -> bool:
    """Two clocks further apart than the quarantine allows (either way round)."""
    return abs(event_ms - now_ms) > limit_ms


def qty_text(milli: int) -> str:
    """Milli-units as people write them in a sentence: 5, 2.5, -1 (no trailing zeros)."""
    whole, frac = divmod(abs(milli), 1000)
    text = f"{whole}.{frac:03d}".rstrip("0").rstrip(".")
    return f"-{text}" if milli < 0 else text


def newest_first_key(since_ms: int | None, key: str) -> tuple[int, str]:
    """Sort key: newest first, undated alerts last, then by key (a stable order)."""
    return (-(since_ms or 0), key)
