"""Re-hashing a replica's logs: does every stored event still chain to the one before it?

The log verified each event's chain when it stored it; a file edited afterwards (with the
sqlite3 shell, say) is not re-checked by anything that reads it. This walk re-decodes and
re-hashes what the log holds, through `EventLog`'s own readers (so both storage forms,
`events` rows and `verified_batches`), and names the first event that does not fit.

It is what `kucun node verify` / `kucun hub verify` run over every origin, and what the
publisher runs over the part of its own log it is about to send (so a forged middle event
never reaches the hub as valid). The one edit no chain can reveal — the newest event,
before anything follows it and before it was ever synced — is discussed in docs/security.md.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import msgspec

from ledger.log import EventLog
from protocol import codec
from protocol.events import Event

#: events read (and decoded) per step of a walk
CHUNK = 5000

#: the alert kind a broken chain leaves in the read model's alerts
ALERT_KIND = "chain_broken"


@dataclass(frozen=True)
class Break:
    """The first event of an origin that does not fit its chain, and what is wrong."""

    origin: str
    seq: int
    problem: str
    hlc: int = 0

    def __str__(self) -> str:
        return f"{self.origin}:{self.seq}: {self.problem}"


@dataclass(frozen=True)
class Report:
    """What a verification walked; `broken` is None when every chain held."""

    events: int
    origins: int
    broken: Break | None = None

    def __str__(self) -> str:
        if self.broken is None:
            noun = "origin" if self.origins == 1 else "origins"
            return f"{self.events} events of {self.origins} {noun} verified"
        return f"hash chain broken at {self.broken}"


def hash_at(log: EventLog, origin: str, seq: int) -> bytes | None:
    """The hash of the bytes this replica holds for `origin`:`seq`, recomputed (not read
    from a stored column an editor could have changed too); GENESIS for seq 0."""
    if seq == 0:
        return codec.GENESIS
    rows = log.raw_events(origin, seq - 1, 1)
    if not rows or rows[0][0] != seq:
        return None
    return codec.event_hash(rows[0][1])


class _Envelope(msgspec.Struct):
    """An event's envelope without its body: all a quick walk needs to follow the chain."""

    origin: str
    seq: int
    hlc: int
    prev: bytes


_envelope = msgspec.msgpack.Decoder(_Envelope)


def _read(raw: bytes, quick: bool) -> _Envelope | Event:
    """The event (canonical check included), or only its envelope when `quick`."""
    if not quick:
        return codec.decode(raw)
    try:
        return _envelope.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise codec.BadEvent(f"not a kucun event: {exc}") from None


def walk(
    log: EventLog, origin: str, after: int = 0, upto: int | None = None, quick_upto: int = 0
) -> tuple[int, Break | None]:
    """Re-check `origin`'s events after..upto (default: its verified head): each decodes
    canonically, names its origin and seq, and carries the hash of the one before as
    `prev`. Events up to `quick_upto` are read by their envelope only (the chain over
    their bytes is checked all the same; their bodies were checked when they were sent),
    which makes a walk of a long confirmed history cheap. Returns (events checked, the
    first break or None)."""
    upto = log.head_seq(origin) if upto is None else upto
    prev = hash_at(log, origin, after)
    if prev is None:
        return 0, Break(origin, after, "the event is missing from the log")
    checked, expected = 0, after + 1
    envelope, blake2b = _envelope.decode, hashlib.blake2b
    while expected <= upto:
        rows = log.raw_events(origin, expected - 1, min(CHUNK, upto - expected + 1))
        if not rows:
            return checked, Break(origin, expected, "the event is missing from the log")
        for seq, raw in rows:
            if seq != expected:
                return checked, Break(origin, expected, "the event is missing from the log")
            try:
                # the common case inline: a publisher walks every event it sends
                event = envelope(raw) if seq <= quick_upto else _read(raw, False)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                problem = f"the stored bytes are not a valid event (not a kucun event: {exc})"
                return checked, Break(origin, seq, problem)
            except codec.BadEvent as exc:
                return checked, Break(
                    origin, seq, f"the stored bytes are not a valid event ({exc})"
                )
            if event.origin != origin or event.seq != seq:
                problem = f"the stored event calls itself {event.origin}:{event.seq}"
                return checked, Break(origin, seq, problem, event.hlc)
            if event.prev != prev:
                problem = (
                    f"it does not chain to {origin}:{seq - 1}: one of the two was edited "
                    "after it was written"
                )
                return checked, Break(origin, seq, problem, event.hlc)
            prev = blake2b(raw, digest_size=codec.HASH_SIZE).digest()
            checked += 1
            expected += 1
    return checked, None


def verify(log: EventLog) -> Report:
    """Walk every origin the replica holds, and check each head record against the newest
    event (an edit of the newest event that forgot the head shows here)."""
    total = 0
    heads = log.heads()
    for origin in heads:
        checked, broken = walk(log, origin)
        total += checked
        if broken is None:
            seq, recorded = log.head(origin)
            if hash_at(log, origin, seq) != recorded:
                broken = Break(
                    origin, seq, "it differs from the hash recorded when it was written (edited)"
                )
        if broken is not None:
            return Report(total, len(heads), broken)
    return Report(total, len(heads))


def record_alert(log: EventLog, broken: Break) -> bool:
    """Leave the break in the replica's alerts (what the node's screens list), once per
    event; True when the row is new. The caller holds the unit of work."""
    conn = log.conn
    if conn.execute(
        "SELECT 1 FROM alerts WHERE kind = ? AND origin = ? AND seq = ?",
        (ALERT_KIND, broken.origin, broken.seq),
    ).fetchone():
        return False
    conn.execute(
        "INSERT INTO alerts(kind, origin, seq, hlc, message) VALUES (?, ?, ?, ?, ?)",
        (ALERT_KIND, broken.origin, broken.seq, broken.hlc, str(broken)),
    )
    return True
