from __future__ import annotations

import contextlib

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import codec
from protocol.events import Count, Document, Event, Movement, Tender, Upsert


def event(seq=1, body=None, prev=codec.GENESIS):
    body = body or Movement(sku="A1", qty=1000, src="S01", dst="@customer", unit_price=350)
    return Event(origin="S01", seq=seq, hlc=seq << 16, prev=prev, user="u", body=body)


BODIES = [
    Movement(
        sku="A1",
        qty=1000,
        src="@supplier",
        dst="S01",
        unit_cost=200,
        lot="L1",
        expiry="2027-01-31",
        doc="S01-1",
    ),
    Count(location="S01", sku="A1", qty=0),
    Upsert(entity="product", key="A1", fields={"name": "苹果", "price": 350, "barcode": None}),
    Document(doc="S01-1", type="sale", location="S01", tenders=[Tender(method="cash", amount=5)]),
]


@pytest.mark.parametrize("body", BODIES, ids=lambda b: type(b).__name__)
def test_round_trip_is_canonical(body):
    raw = codec.encode(event(body=body))
    assert codec.decode(raw) == event(body=body)
    assert codec.encode(codec.decode(raw)) == raw


def test_field_order_does_not_change_bytes():
    a = Upsert(entity="product", key="A1", fields={"name": "x", "price": 1})
    b = Upsert(entity="product", key="A1", fields={"price": 1, "name": "x"})
    assert codec.encode(event(body=a)) == codec.encode(event(body=b))


def test_non_canonical_bytes_are_refused():
    raw = codec.encode(event())
    as_map = msgspec.msgpack.decode(raw)  # same data, keys in another order
    reordered = msgspec.msgpack.encode(dict(reversed(list(as_map.items()))))
    assert reordered != raw
    with pytest.raises(codec.BadEvent, match="canonical"):
        codec.decode(reordered)


@given(st.binary(max_size=200))
def test_garbage_is_a_bad_event_never_a_crash(data):
    with contextlib.suppress(codec.BadEvent):
        codec.decode(data)
    with contextlib.suppress(codec.BadEvent):
        codec.decode_batch(data)


def test_wrong_schema_reports_reason():
    raw = msgspec.msgpack.encode({"origin": "S01", "seq": "one"})
    with pytest.raises(codec.BadEvent, match="not a kucun event"):
        codec.decode(raw)


def test_hash_chain_changes_with_any_byte():
    raw = codec.encode(event())
    assert codec.event_hash(raw) != codec.event_hash(raw[:-1] + bytes([raw[-1] ^ 1]))
    assert len(codec.event_hash(raw)) == codec.HASH_SIZE
