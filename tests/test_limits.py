"""Numbers beyond what SQLite and the fold can hold are refused before they are stored."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.replica import Replica
from ledger.sqlite import connect
from protocol import codec
from protocol.events import Count, DocLine, Document, Event, Movement, Tender, Upsert
from protocol.limits import INT64_MAX, out_of_range
from protocol.units import MAX_MONEY, MAX_QTY

WALL = 1_790_000_000_000


def event(body, seq: int = 1, hlc: int = WALL << 16) -> Event:
    return Event(origin="S01", seq=seq, hlc=hlc, prev=codec.GENESIS, user="u", body=body)


def receipt(qty: int = 1000, unit_cost: int | None = 100, unit_price: int | None = None):
    return Movement(
        sku="A", qty=qty, src="@supplier", dst="S01", unit_cost=unit_cost, unit_price=unit_price
    )


@pytest.mark.parametrize(
    "bad",
    [
        event(receipt(), seq=0),
        event(receipt(), seq=-3),
        event(receipt(), seq=INT64_MAX + 1),
        event(receipt(), hlc=-1),
        event(receipt(), hlc=2**64 - 1),
        event(receipt(qty=MAX_QTY + 1)),
        event(receipt(qty=-MAX_QTY - 1)),
        event(receipt(unit_cost=MAX_MONEY + 1)),
        event(receipt(unit_price=-MAX_MONEY - 1)),
        event(receipt(unit_cost=-MAX_MONEY - 1)),
        event(receipt(unit_price=MAX_MONEY + 1)),
        event(Count(location="S01", sku="A", qty=2**62)),
        event(Upsert(entity="product", key="A", fields={"price": 2**63})),
        event(Document(doc="D", type="sale", location="S01", lines=[DocLine(sku="A", qty=2**63)])),
        event(
            Document(
                doc="D",
                type="transfer",
                location="S01",
                shipped=[DocLine(sku="A", qty=1, unit_cost=2**62)],
            )
        ),
        event(
            Document(
                doc="D", type="sale", location="S01", tenders=[Tender(method="cash", amount=2**63)]
            )
        ),
    ],
)
def test_out_of_range_numbers_are_named(bad):
    assert out_of_range(bad)


@pytest.mark.parametrize(
    "good",
    [
        event(receipt(qty=MAX_QTY, unit_cost=MAX_MONEY), seq=INT64_MAX, hlc=INT64_MAX),
        event(receipt(qty=-MAX_QTY)),  # the fold calls it invalid, but it can be stored
        event(Upsert(entity="product", key="A", fields={"price": INT64_MAX, "name": "x" * 99})),
        event(
            Document(
                doc="D",
                type="sale",
                location="S01",
                tenders=[Tender(method="cash", amount=MAX_MONEY)],
            )
        ),
    ],
)
def test_numbers_within_range_pass(good):
    assert out_of_range(good) is None


def near(limit: int) -> st.SearchStrategy[int]:
    """Integers on both sides of ±limit, and anywhere msgspec could decode."""
    return st.one_of(
        st.integers(-limit - 2, -limit + 2),
        st.integers(limit - 2, limit + 2),
        st.integers(-(2**64), 2**64),
    )


@given(qty=near(MAX_QTY), cost=st.none() | near(MAX_MONEY), price=st.none() | near(MAX_MONEY))
def test_a_movement_is_refused_exactly_when_a_number_is_beyond_its_limit(qty, cost, price):
    beyond = abs(qty) > MAX_QTY or any(v is not None and abs(v) > MAX_MONEY for v in (cost, price))
    assert bool(out_of_range(event(receipt(qty, cost, price)))) == beyond


@given(amounts=st.lists(near(MAX_MONEY), max_size=3))
def test_a_sale_header_is_refused_exactly_when_a_tender_is_beyond_the_limit(amounts):
    tenders = [Tender(method="cash", amount=a) for a in amounts]
    header = Document(doc="D", type="sale", location="S01", tenders=tenders)
    assert bool(out_of_range(event(header))) == any(abs(a) > MAX_MONEY for a in amounts)


def test_a_replica_never_writes_an_event_others_would_refuse(tmp_path):
    store = Replica(connect(tmp_path / "n.db"), "S01")
    with pytest.raises(ValueError, match="beyond"):
        store.append([receipt(qty=MAX_QTY + 1)], "u", WALL)
    assert store.log.head_seq("S01") == 0 and store.read.stock() == []


def test_ingest_keeps_an_out_of_range_event_aside_with_its_reason(tmp_path):
    store = Replica(connect(tmp_path / "h.db"), "hub")
    raw = codec.encode(event(receipt(), seq=INT64_MAX + 1))
    good = codec.encode(event(receipt()))
    result = store.ingest([raw, good], WALL)
    assert result.applied == 1 and store.log.head_seq("S01") == 1
    ((origin, seq, reason),) = result.rejected
    assert (origin, seq) == ("S01", None) and "seq must be between 1" in reason
    assert store.quarantine.rejected()[0]["size"] == len(raw)
