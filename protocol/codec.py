"""Canonical bytes and the per-origin hash chain.

An event's bytes are its deterministic msgpack encoding; its hash is BLAKE2b over those
bytes and the next event of the same origin carries it as `prev`. A receiver re-encodes
what it decoded and refuses bytes that are not canonical, so every replica hashes the same
bytes and a changed, dropped or inserted event breaks the chain.
"""

from __future__ import annotations

import hashlib

import msgspec

from protocol.events import Event

HASH_SIZE = 16
GENESIS = b"\x00" * HASH_SIZE

_encoder = msgspec.msgpack.Encoder(order="deterministic")
_decoder = msgspec.msgpack.Decoder(Event)
_batch_decoder = msgspec.msgpack.Decoder(list[bytes])


class BadEvent(ValueError):
    """Bytes that are not a valid, canonical event."""


def encode(event: Event) -> bytes:
    return _encoder.encode(event)


def event_hash(raw: bytes) -> bytes:
    return hashlib.blake2b(raw, digest_size=HASH_SIZE).digest()


def decode(raw: bytes) -> Event:
    """Decode and check canonical form; raise BadEvent with a readable reason."""
    try:
        event = _decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadEvent(f"not a kucun event: {exc}") from None
    if _encoder.encode(event) != raw:
        raise BadEvent(f"event {event.origin}:{event.seq} is not in canonical encoding")
    return event


def decode_verified(raw: bytes) -> Event:
    """Decode bytes this replica already checked when it stored them: no canonical check."""
    return _decoder.decode(raw)


def encode_batch(raws: list[bytes]) -> bytes:
    """A batch on the wire is a msgpack array of the events' own canonical bytes."""
    return _encoder.encode(raws)


def decode_batch(payload: bytes) -> list[bytes]:
    try:
        return _batch_decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadEvent(f"not a kucun event batch: {exc}") from None
