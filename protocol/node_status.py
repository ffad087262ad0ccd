"""What a node says of its own sync state at the end of each round: the wire contract of
`kucun.status.<location>.<node>` (core NATS, no stream: only the latest matters).

The hub cannot know a node's backlog from what reached it (events still on the node
never arrived), so the node tells it; an offline node's last report stays, with its age.
"""

from __future__ import annotations

import msgspec

#: a report is a few numbers: anything bigger is not one
MAX_REPORT_BYTES = 1024


class NodeStatus(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    node: str
    location: str
    #: the node's own log: its last seq, the last it published, and how many of those the
    #: hub has not confirmed yet
    head_seq: int
    published_seq: int
    unconfirmed: int
    #: events written on the node and not yet published
    backlog: int
    #: how long the oldest of those has waited, by the node's clock; None: nothing waits
    oldest_unsent_age_s: float | None
    #: when the node said so, by its wall clock
    at_ms: int


_decoder = msgspec.json.Decoder(NodeStatus)

#: every count fits the limits of protocol/limits.py's seqs (64-bit)
_MAX_COUNT = 2**63 - 1


def encode(status: NodeStatus) -> bytes:
    return msgspec.json.encode(status)


def decode(data: bytes) -> NodeStatus:
    """A report, or ValueError saying why it is none."""
    if len(data) > MAX_REPORT_BYTES:
        raise ValueError(f"a status report is at most {MAX_REPORT_BYTES} bytes, not {len(data)}")
    try:
        status = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a status report: {exc}") from None
    counts = (status.head_seq, status.published_seq, status.unconfirmed, status.backlog)
    if any(not 0 <= n <= _MAX_COUNT for n in (*counts, status.at_ms)):
        raise ValueError("a status report's counts and time are whole numbers from 0")
    age = status.oldest_unsent_age_s
    if age is not None and not 0 <= age < 1e12:
        raise ValueError("oldest_unsent_age_s must be from 0")
    return status
