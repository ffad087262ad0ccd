"""Hybrid logical clock: wall-clock milliseconds with a logical counter in the low 16 bits.

Every replica stamps its events with an HLC so the merge rules can put all events in one
total order that is close to real time, never runs backwards on a replica (even when its
wall clock does) and always places an event after everything its writer had seen.
Pure: the caller passes the wall clock in and persists the returned value.
"""

from __future__ import annotations

from dataclasses import dataclass

LOGICAL_BITS = 16
LOGICAL_MASK = (1 << LOGICAL_BITS) - 1


def pack(physical_ms: int, logical: int) -> int:
    return (physical_ms << LOGICAL_BITS) | logical


def physical_ms(hlc: int) -> int:
    return hlc >> LOGICAL_BITS


def logical(hlc: int) -> int:
    return hlc & LOGICAL_MASK


class ClockSkewError(ValueError):
    """A remote timestamp is further ahead of our wall clock than we allow."""

    def __init__(self, remote: int, wall_ms: int, max_skew_ms: int) -> None:
        ahead = physical_ms(remote) - wall_ms
        super().__init__(
            f"remote clock is {ahead} ms ahead of ours (allowed {max_skew_ms} ms); "
            "check the sender's system time"
        )
        self.remote = remote
        self.ahead_ms = ahead


@dataclass
class HybridClock:
    """The clock state of one replica: `last` is the highest HLC issued or seen."""

    last: int = 0
    max_skew_ms: int = 5 * 60 * 1000

    def tick(self, wall_ms: int) -> int:
        """A timestamp for a new local event, strictly above every one before it."""
        last_pt = physical_ms(self.last)
        if wall_ms > last_pt:
            self.last = pack(wall_ms, 0)
        else:
            self.last = self._bump(self.last)
        return self.last

    def observe(self, remote: int, wall_ms: int) -> int:
        """Merge a timestamp received from another replica; refuse one too far ahead."""
        if physical_ms(remote) - wall_ms > self.max_skew_ms:
            raise ClockSkewError(remote, wall_ms, self.max_skew_ms)
        if remote > self.last:
            self.last = remote
        if wall_ms > physical_ms(self.last):
            self.last = pack(wall_ms, 0)
        return self.last

    @staticmethod
    def _bump(value: int) -> int:
        if logical(value) == LOGICAL_MASK:
            # 65536 events in one millisecond: borrow the next millisecond rather than wrap.
            return pack(physical_ms(value) + 1, 0)
        return value + 1
