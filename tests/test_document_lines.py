"""A document's movements, by property: every folded movement that cites it, exactly once.

The fold keeps the movements folded together with a header inside the header's row and
the others (folded before the header arrived, or after it was stored) a row each. Whatever
the delivery order, batch sizes and projection chunks, what a replica shows for a document
must be exactly the valid movements citing it that it has folded, and its status the one
the whole set gives.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.replica import Replica
from ledger.sqlite import connect
from protocol import codec, documents, fold
from protocol.documents import DocMovement
from protocol.events import Body, DocLine, Document, Event, Movement
from tests.test_merge_properties import WALL_MS, deliveries

DOCS = ["PO-S01-1", "S01-7", "W01-3"]
SKUS = ["A", "B"]

cited_movements = st.builds(
    Movement,
    sku=st.sampled_from(SKUS),
    qty=st.integers(0, 50),  # 0 is invalid: folded as ignored, never shown
    src=st.sampled_from(["@supplier", "@transit", "S01"]),
    dst=st.sampled_from(["S01", "@transit", "@customer"]),
    doc=st.sampled_from(DOCS),
)
headers = st.builds(
    Document,
    doc=st.sampled_from(DOCS),
    type=st.sampled_from(["purchase_order", "transfer", "receipt"]),
    location=st.just("S01"),
    counterparty=st.just("W01"),
    lines=st.lists(
        st.builds(DocLine, sku=st.sampled_from(SKUS), qty=st.integers(1, 60)), max_size=2
    ),
)


@st.composite
def logs_with_documents(draw) -> list[Event]:
    """Up to three origins; each document number gets at most one header, anywhere."""
    events: list[Event] = []
    headed: set[str] = set()
    for origin in draw(
        st.lists(st.sampled_from(["S01", "S01-T2", "hub"]), min_size=1, max_size=3, unique=True)
    ):
        bodies: list[Body] = []
        for body in draw(
            st.lists(st.one_of(headers, cited_movements, cited_movements), min_size=1, max_size=10)
        ):
            if isinstance(body, Document):
                if body.doc in headed:
                    continue
                headed.add(body.doc)
            bodies.append(body)
        prev = codec.GENESIS
        for seq, body in enumerate(bodies, start=1):
            hlc = ((1000 + draw(st.integers(0, 5))) << 16) + seq * 8
            event = Event(origin=origin, seq=seq, hlc=hlc, prev=prev, user="u", body=body)
            prev = codec.event_hash(codec.encode(event))
            events.append(event)
    return events


def expected_movements(events: list[Event], doc: str) -> Counter:
    return Counter(
        DocMovement(b.sku, b.lot, b.qty, b.src, b.dst)
        for e in events
        if isinstance(b := e.body, Movement) and b.doc == doc and not fold.invalid_reason(e)
    )


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs_with_documents(), st.randoms(use_true_random=False))
def test_a_document_shows_every_movement_citing_it_once(events, rng: random.Random):
    replica = Replica(connect(":memory:"), "X")
    for batch in deliveries(events, rng):
        replica.ingest(batch, WALL_MS, fold=rng.random() < 0.5)
        if rng.random() < 0.5:
            replica.project(per_origin=rng.randint(1, 4))
    while replica.project(per_origin=rng.randint(1, 6)):
        pass
    for doc in DOCS:
        header = next(
            (e.body for e in events if isinstance(e.body, Document) and e.body.doc == doc), None
        )
        shown = replica.read.document_movements(doc)
        if header is None:
            assert replica.read.document(doc) is None
            continue
        assert Counter(shown) == expected_movements(events, doc), doc
        want = documents.document_status(header, list(expected_movements(events, doc).elements()))
        assert replica.read.document(doc) == want
