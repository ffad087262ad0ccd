"""Bounded line splitting shared by the line-oriented parsers (MT-SICS, A&D, scanners).

A port left open on a noisy cable must not grow memory without bound, so a line longer than
`max_line` is reported once as `Overflow` and then discarded up to the next terminator,
where parsing resynchronises. The result never depends on how the input was chunked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Overflow:
    """A line exceeded the limit; `head` holds its first `max_line` bytes."""

    head: bytes


class LineSplitter:
    """Split a byte stream on a single-byte terminator (use b"\\n" for CR LF framing)."""

    def __init__(self, terminator: bytes = b"\n", max_line: int = 256) -> None:
        if len(terminator) != 1:
            raise ValueError("terminator must be exactly one byte")
        self.terminator = terminator
        self.max_line = max_line
        self._buf = bytearray()
        self._discarding = False

    @property
    def pending(self) -> int:
        """Bytes held waiting for a terminator (never more than `max_line`)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | Overflow]:
        out: list[bytes | Overflow] = []
        start = 0
        while True:
            idx = data.find(self.terminator, start)
            if idx < 0:
                self._append(data[start:], out)
                return out
            self._append(data[start:idx], out)
            if self._discarding:
                self._discarding = False
            else:
                out.append(bytes(self._buf))
            self._buf.clear()
            start = idx + 1

    def _append(self, chunk: bytes, out: list[bytes | Overflow]) -> None:
        if self._discarding or not chunk:
            return
        self._buf += chunk
        if len(self._buf) > self.max_line:
            out.append(Overflow(bytes(self._buf[: self.max_line])))
            self._buf.clear()
            self._discarding = True
