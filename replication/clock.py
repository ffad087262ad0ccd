"""Time, injectable: the system's clock in production, a manual one in simulation.

Every "now" of node and hub goes through here, so a simulation can run hours of ack
waits and duplicate windows in microseconds, and replay them exactly.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def wall_ms(self) -> int:
        """Milliseconds since the epoch: what events are stamped with."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going back: for intervals."""
        ...


class SystemClock:
    def wall_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK = SystemClock()

#: The system's wall clock in ms, for callers that take a plain function.
wall_ms = SYSTEM_CLOCK.wall_ms


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start_ms: int) -> None:
        self.now_ms = start_ms

    def wall_ms(self) -> int:
        return self.now_ms

    def monotonic(self) -> float:
        return self.now_ms / 1000

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("a manual clock only moves forward")
        self.now_ms += ms
