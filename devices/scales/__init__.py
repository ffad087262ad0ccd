"""Weighing scales: sans-IO protocol parsers, a session, and the protocol registry."""

from __future__ import annotations

from collections.abc import Callable

from devices import PROTOCOL_NAMES
from devices.scales.ad import AndStandard
from devices.scales.base import ScaleProtocol
from devices.scales.cas import CasContinuous
from devices.scales.events import (
    Ack,
    Command,
    Echo,
    ErrorKind,
    Reading,
    ScaleError,
    ScaleEvent,
    StatusReport,
)
from devices.scales.mt_sics import MtSics
from devices.scales.toledo8217 import Toledo8217

PROTOCOLS: dict[str, Callable[..., ScaleProtocol]] = {
    parser.name: parser for parser in (MtSics, Toledo8217, AndStandard, CasContinuous)
}
if tuple(PROTOCOLS) != PROTOCOL_NAMES:
    raise RuntimeError(
        f"devices.PROTOCOL_NAMES {PROTOCOL_NAMES} do not match the parsers' "
        f"names {tuple(PROTOCOLS)}"
    )


def make_protocol(name: str, *, unit: str = "kg") -> ScaleProtocol:
    """A fresh parser for `name` (one of `PROTOCOLS`); `unit` matters only for 8217."""
    try:
        factory = PROTOCOLS[name]
    except KeyError:
        known = ", ".join(PROTOCOLS)
        raise ValueError(f"unknown scale protocol {name!r}; choose one of: {known}") from None
    return factory(unit) if factory is Toledo8217 else factory()


__all__ = [
    "PROTOCOLS",
    "Ack",
    "AndStandard",
    "CasContinuous",
    "Command",
    "Echo",
    "ErrorKind",
    "MtSics",
    "Reading",
    "ScaleError",
    "ScaleEvent",
    "ScaleProtocol",
    "StatusReport",
    "Toledo8217",
    "make_protocol",
]
