"""The sans-IO scale protocol contract: bytes in, events out; commands in, bytes out.

A protocol object holds only parse state. It never reads a port, sleeps or raises on bad
input, so every protocol is testable with plain byte strings split at any boundary.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar

from devices.lines import LineSplitter, Overflow
from devices.scales.events import Command, ErrorKind, ScaleError, ScaleEvent
from devices.transport import SerialSettings


class ScaleProtocol(abc.ABC):
    name: ClassVar[str]
    #: True when the scale streams frames unasked (CAS, A&D stream mode).
    continuous: ClassVar[bool] = False
    default_settings: ClassVar[SerialSettings] = SerialSettings()

    @abc.abstractmethod
    def feed(self, data: bytes) -> list[ScaleEvent]:
        """Parse received bytes; partial frames are kept for the next call."""

    @abc.abstractmethod
    def encode(self, command: Command) -> bytes | None:
        """Bytes that ask the scale for `command`, or None if the protocol cannot."""

    def reply(self, command: Command, event: ScaleEvent) -> ScaleEvent | None:
        """Interpret `event` as the answer to `command`; None means "not an answer, ignore".

        Noise between frames (source "noise") is ignored. A garbled frame is returned: it
        most likely was the reply, corrupted, and the session retries weighings at once
        instead of waiting for a timeout.
        """
        if is_noise(event):
            return None
        return event


def is_noise(event: ScaleEvent) -> bool:
    return (
        isinstance(event, ScaleError)
        and event.kind is ErrorKind.GARBLED
        and event.source == "noise"
    )


def parse_text_lines(
    lines: LineSplitter, data: bytes, parse_line: Callable[[bytes], ScaleEvent]
) -> list[ScaleEvent]:
    """CR LF framed replies: each complete line parsed; an over-long one is GARBLED."""
    events: list[ScaleEvent] = []
    for item in lines.feed(data):
        if isinstance(item, Overflow):
            events.append(ScaleError(ErrorKind.GARBLED, "line too long", item.head))
            continue
        line = item.rstrip(b"\r")
        if line.strip(b"\r \x00"):
            events.append(parse_line(line))
    return events
