"""Drop a repeat of the same code within a short window (double reads, presentation mode).

The window slides: while a code keeps being re-read (an item left in front of a
presentation scanner), every repeat restarts it, so the item is counted once. Scanning the
same product twice on purpose needs a pause of `window` seconds between the two reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RepeatFilter:
    def __init__(self, window: float = 0.6, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._last: str | None = None
        self._at = float("-inf")

    def accept(self, code: str) -> bool:
        now = self._clock()
        repeat = code == self._last and now - self._at < self.window
        self._last, self._at = code, now
        return not repeat
