"""Keyset paging for the hub's lists, without I/O: limits, opaque cursors, time bounds.

A cursor is the sort key of the last item a page showed, so the next page starts right
after it whatever was written meanwhile: rows added between two pages never shift an
item onto both pages or off both, as an OFFSET would. It is opaque to callers (base64 of
a small JSON list) and names its list, so one list's cursor is refused by another.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, date, datetime, timedelta

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: a cursor is a handful of short keys: anything longer is not one of ours
MAX_CURSOR_CHARS = 512

Key = tuple[int | str | None, ...]

#: the latest time an HLC can hold (64-bit signed, 16 logical bits): later is refused
MAX_MS = (2**63 - 1) >> 16


class PagingError(ValueError):
    """A limit, cursor or time bound the caller must correct (the API answers 400)."""


def parse_limit(text: str | None) -> int:
    """`?limit=`: 1 to MAX_LIMIT, DEFAULT_LIMIT when left out."""
    if text is None or text == "":
        return DEFAULT_LIMIT
    # ASCII and short before int(): "²" is a digit to isdigit()
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not (
        1 <= int(text) <= MAX_LIMIT
    ):
        raise PagingError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {text[:20]!r}")
    return int(text)


def encode_cursor(name: str, key: Key) -> str:
    """The cursor after the item whose sort key is `key`, for the list `name`."""
    raw = json.dumps([name, *key], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(name: str, text: str | None, shape: tuple[type, ...]) -> Key | None:
    """The sort key a cursor of list `name` carries, each part of the type `shape` gives
    (a str part may also be None); None when no cursor was given."""
    if text is None or text == "":
        return None
    bad = PagingError(
        "cursor is not one this list gave: pass next_cursor from the previous page "
        "unchanged, or leave it out for the first page"
    )
    if len(text) > MAX_CURSOR_CHARS or not text.isascii():
        raise bad
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(value, list) or len(value) != len(shape) + 1 or value[0] != name:
        raise bad
    parts = value[1:]
    for part, kind in zip(parts, shape, strict=True):
        if kind is int and not (
            isinstance(part, int) and not isinstance(part, bool) and -(2**63) <= part < 2**63
        ):
            raise bad  # SQLite's integers are 64-bit
        if kind is str and not (part is None or (isinstance(part, str) and is_text(part))):
            raise bad
    return tuple(parts)


def is_text(text: str) -> bool:
    """Text a database can hold: no NUL, no lone surrogate (JSON and URLs may carry them)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def parse_time_ms(text: str | None, what: str, end: bool = False) -> int | None:
    """`?from=` / `?to=`: an ISO date or datetime, UTC unless it says otherwise, in
    milliseconds since the epoch. As an end (`end`) the bound is exclusive and covers
    what it names: a date its whole day (up to the next one), a moment its whole
    minute, second or millisecond, as precise as it is written (the lists show times to
    the second, so a time copied from one includes that item)."""
    if text is None or text == "":
        return None
    problem = PagingError(
        f"{what} must be an ISO date or datetime (UTC), e.g. 2026-12-01 or "
        f"2026-12-01T08:30:00Z, not {text[:40]!r}"
    )
    if len(text) > 40:
        raise problem
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            moment = start + timedelta(days=1) if end else start
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise problem from None
    ms = int(moment.timestamp() * 1000)
    if not 0 <= ms < MAX_MS - 60_000:
        raise problem
    if end and len(text) != 10:  # an end moment is included, to the precision it is given
        clock = text[11:].split("+")[0].split("-")[0].rstrip("Z")  # without its offset
        ms += 1 if "." in clock else 1000 if clock.count(":") > 1 else 60_000
    return ms


def iso_time(ms: int) -> str:
    """Wall milliseconds as the API writes a time: ISO 8601, UTC, to the second."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_days(text: str | None, what: str, most: int = 3650) -> int | None:
    """A whole number of days, 0 to `most`; None when left out."""
    if text is None or text == "":
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or int(text) > most:
        raise PagingError(f"{what} must be a whole number of days from 0 to {most}")
    return int(text)


def parse_bool(text: str | None, what: str) -> bool | None:
    """`true` or `false`; None when left out."""
    if text is None or text == "":
        return None
    if text not in ("true", "false"):
        raise PagingError(f"{what} must be true or false, not {text[:20]!r}")
    return text == "true"


def parse_choice(text: str | None, what: str, choices: tuple[str, ...]) -> str | None:
    """One of `choices`; None when left out."""
    if text is None or text == "":
        return None
    if text not in choices:
        raise PagingError(f"{what} must be one of: {', '.join(choices)}; not {text[:40]!r}")
    return text
