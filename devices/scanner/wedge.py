"""Keyboard-wedge fallback: tell a scanner "typing" into the TUI from a person typing.

A USB scanner in keyboard mode types the whole code in one burst — a few milliseconds per
key — and presses Enter. People manage 80-250 ms per key. At Enter we look at the run of
keys that came before it: it is a scan when it has at least `min_length` keys, the mean
gap (including the gap to Enter) is below `max_gap` (30 ms), and no single gap exceeds
`hiccup_gap` (one event-loop stall must not turn a scan into typing). Everything before
a gap longer than `hiccup_gap` belongs to an earlier, separate run.

Pure: the caller passes each key with its own timestamp (Textual's `event.time`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

ENTER_KEYS = frozenset({"enter", "\r", "\n", "ctrl+m", "ctrl+j"})


@dataclass(frozen=True, slots=True)
class WedgeResult:
    text: str  # everything typed since the previous Enter
    scanned: str | None  # the trailing burst if it was a scanner, else None

    @property
    def is_scan(self) -> bool:
        return self.scanned is not None


def is_scanner_burst(
    times: list[float],
    enter_time: float,
    *,
    max_gap: float = 0.030,
    min_length: int = 4,
    hiccup_gap: float = 0.100,
) -> bool:
    """True when keys at `times` followed by Enter at `enter_time` look machine-typed."""
    if len(times) < min_length:
        return False
    stamps = [*times, enter_time]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    if any(g < 0 or g > hiccup_gap for g in gaps):
        return False
    return sum(gaps) / len(gaps) < max_gap


@dataclass
class WedgeDetector:
    """Feed every key press; get a `WedgeResult` back when Enter is pressed."""

    max_gap: float = 0.030
    min_length: int = 4
    hiccup_gap: float = 0.100
    _keys: list[tuple[str, float]] = field(default_factory=list)

    def feed(self, key: str, t: float) -> WedgeResult | None:
        if key in ENTER_KEYS:
            return self._finish(t)
        if len(key) != 1:
            return None  # arrows, function keys: not part of any code
        self._keys.append((key, t))
        return None

    def _finish(self, t: float) -> WedgeResult:
        keys, self._keys = self._keys, []
        text = "".join(k for k, _ in keys)
        start = len(keys)
        last = t
        while start > 0 and last - keys[start - 1][1] <= self.hiccup_gap:
            start -= 1
            last = keys[start][1]
        run = keys[start:]
        if is_scanner_burst(
            [ts for _, ts in run],
            t,
            max_gap=self.max_gap,
            min_length=self.min_length,
            hiccup_gap=self.hiccup_gap,
        ):
            return WedgeResult(text, "".join(k for k, _ in run))
        return WedgeResult(text, None)
