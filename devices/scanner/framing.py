"""Serial scanner framing: bytes in, `Scan` / `ScanError` values out (sans-IO).

A serial scanner sends `[prefix] [AIM id] data suffix` per read. The suffix (CR, LF or
CR LF) ends a scan; stray CR/LF from a mismatched suffix setting are trimmed. The GS
separator (1Dh, FNC1 in GS1 codes) is kept; other control characters mean line noise
and give a `ScanError`. Data is decoded as UTF-8, falling back to
GB18030 (QR codes from Chinese systems) and then Latin-1, which cannot fail.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from devices.lines import LineSplitter, Overflow
from devices.scanner.aim import split_aim, symbology_name
from devices.scanner.dedup import RepeatFilter

Suffix = Literal["cr", "lf", "crlf"]
SUFFIXES: dict[str, bytes] = {"cr": b"\r", "lf": b"\n", "crlf": b"\n"}
MAX_SCAN = 4096
GS = "\x1d"
# GS separates GS1 fields; RS and EOT frame ISO/IEC 15434 messages (DataMatrix on parts)
_ALLOWED_CONTROLS = frozenset({GS, "\x1e", "\x04"})


@dataclass(frozen=True, slots=True)
class Scan:
    code: str  # data without prefix, AIM identifier and suffix; GS kept
    symbology: str | None = None  # AIM identifier, e.g. "]C1"
    raw: bytes = field(default=b"", compare=False, repr=False)

    @property
    def symbology_name(self) -> str | None:
        return symbology_name(self.symbology)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "symbology": self.symbology,
            "symbology_name": self.symbology_name,
        }


@dataclass(frozen=True, slots=True)
class ScanError:
    reason: str
    raw: bytes = field(default=b"", compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.reason}


ScanEvent = Scan | ScanError


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


class ScanDecoder:
    """Frame, decode and de-duplicate scans. `clock` is injectable for deterministic tests."""

    def __init__(
        self,
        suffix: Suffix = "cr",
        *,
        prefix: bytes = b"",
        repeat_window: float = 0.6,
        clock: Callable[[], float] = time.monotonic,
        max_length: int = MAX_SCAN,
    ) -> None:
        if suffix not in SUFFIXES:
            raise ValueError(f"suffix must be one of {', '.join(SUFFIXES)}, not {suffix!r}")
        self.prefix = prefix
        self._lines = LineSplitter(SUFFIXES[suffix], max_length)
        self._repeats = RepeatFilter(repeat_window, clock)

    def feed(self, data: bytes) -> list[ScanEvent]:
        out: list[ScanEvent] = []
        for item in self._lines.feed(data):
            if isinstance(item, Overflow):
                out.append(
                    ScanError("scan longer than the limit; check the suffix setting", item.head)
                )
                continue
            event = self._decode(item)
            if event is None:
                continue
            if isinstance(event, Scan) and not self._repeats.accept(event.code):
                continue
            out.append(event)
        return out

    def _decode(self, line: bytes) -> ScanEvent | None:
        body = line.strip(b"\r\n")
        if not body:
            return None
        if self.prefix:
            if not body.startswith(self.prefix):
                return ScanError(f"missing prefix {self.prefix!r}; check scanner settings", line)
            body = body[len(self.prefix) :]
        identifier, code = split_aim(decode_text(body))
        if not code:
            return ScanError("empty scan", line)
        if any(ch not in _ALLOWED_CONTROLS and (ch < " " or ch == "\x7f") for ch in code):
            return ScanError("unprintable characters in scan: line noise or wrong baud rate", line)
        return Scan(code, identifier, line)


_GS_SPELLINGS = ("\\x1d", "\\x1D", "<GS>", "{GS}", "^]")


def unescape(text: str) -> str:
    """Human spellings of the GS separator (`\\x1d`, `<GS>`, `{GS}`, `^]`) -> 0x1D."""
    for spelling in _GS_SPELLINGS:
        text = text.replace(spelling, GS)
    return text


def escape(text: str) -> str:
    """Printable form of a code: GS shown as `<GS>`."""
    return text.replace(GS, "<GS>")
