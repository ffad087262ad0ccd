"""The shared replica store on real SQLite files."""

from __future__ import annotations

import pytest

from ledger.replica import Replica
from ledger.sqlite import connect, transaction
from protocol import codec
from protocol.events import Count, Event, Movement, Upsert


@pytest.fixture
def make_store(tmp_path):
    def make(origin: str, name: str | None = None) -> Replica:
        return Replica(connect(tmp_path / f"{name or origin}.db"), origin)

    return make


def receive(qty, sku="A1", loc="S01"):
    return Movement(sku=sku, qty=qty, src="@supplier", dst=loc, unit_cost=100)


def sell(qty, sku="A1", loc="S01"):
    return Movement(sku=sku, qty=qty, src=loc, dst="@customer", unit_price=200)


def all_levels(store):
    return {(r.location, r.sku, r.lot): r.qty for r in store.read.stock(include_virtual=True)}


def raws(store, origin):
    return [raw for _, raw in store.log.raw_events(origin, 0)]


def test_append_chains_events_and_folds(make_store):
    node = make_store("S01")
    events = node.append([receive(10_000), sell(3000)], "alice", wall_ms=1000)
    assert [e.seq for e in events] == [1, 2]
    assert events[0].prev == codec.GENESIS
    assert events[1].prev == codec.event_hash(codec.encode(events[0]))
    assert events[0].hlc < events[1].hlc
    assert all_levels(node) == {
        ("S01", "A1", None): 7000,
        ("@supplier", "A1", None): -10_000,
        ("@customer", "A1", None): 3000,
    }


def test_ingest_twice_changes_nothing(make_store):
    node, hub = make_store("S01"), make_store("hub")
    node.append([receive(10_000), sell(3000)], "u", 1000)
    first = hub.ingest(raws(node, "S01"), 2000)
    second = hub.ingest(raws(node, "S01"), 2000)
    assert (first.applied, second.applied, second.duplicates) == (2, 0, 2)
    assert all_levels(hub) == all_levels(node)
    assert hub.log.heads() == {"S01": 2}


def test_events_after_a_gap_wait_until_it_fills(make_store):
    node, hub = make_store("S01"), make_store("hub")
    node.append([receive(5000), sell(1000), sell(1000), sell(1000)], "u", 1000)
    r = raws(node, "S01")
    result = hub.ingest([r[0], r[1], r[3]], 2000)
    assert (result.applied, result.waiting) == (2, 1)
    assert hub.read.stock(sku="A1")[0].qty == 4000
    result = hub.ingest([r[2]], 2000)
    assert (result.applied, result.waiting) == (2, 0)
    assert hub.read.stock(sku="A1")[0].qty == 2000


def test_broken_chain_is_rejected_and_kept_aside(make_store):
    node, hub = make_store("S01"), make_store("hub")
    node.append([receive(5000)], "u", 1000)
    forged = Event(
        origin="S01", seq=2, hlc=1 << 40, prev=b"\x01" * 16, user="mallory", body=sell(5000)
    )
    result = hub.ingest([*raws(node, "S01"), codec.encode(forged)], 2000)
    assert result.applied == 1
    assert result.rejected == [("S01", 2, "hash chain broken at S01:2")]
    assert hub.read.stock(sku="A1")[0].qty == 5000
    assert [r["reason"] for r in hub.quarantine.rejected()] == ["hash chain broken at S01:2"]
    node.append([sell(1000)], "u", 3000)  # the genuine seq 2 still gets in
    assert hub.ingest(raws(node, "S01"), 4000).applied == 1
    assert hub.read.stock(sku="A1")[0].qty == 4000


def test_garbage_and_conflicting_copies_are_rejected_not_fatal(make_store):
    node, hub = make_store("S01"), make_store("hub")
    node.append([receive(5000)], "u", 1000)
    hub.ingest(raws(node, "S01"), 2000)
    other = make_store("S01", name="impostor")
    other.append([receive(9000)], "u", 1000)
    result = hub.ingest([b"\x00garbage", *raws(other, "S01")], 2000)
    assert len(result.rejected) == 2
    assert "conflicting copy of S01:1" in result.rejected[1][2]
    assert hub.read.stock(sku="A1")[0].qty == 5000


def test_count_resets_level_and_books_variance(make_store):
    node = make_store("S01")
    node.append([receive(10_000), sell(3000), Count(location="S01", sku="A1", qty=6000)], "u", 1)
    levels = all_levels(node)
    assert levels[("S01", "A1", None)] == 6000
    assert levels[("@count", "A1", None)] == 1000
    assert sum(levels.values()) == 0


def test_negative_stock_is_allowed_and_alerted(make_store):
    node = make_store("S01")
    node.append([sell(2000)], "u", 1)
    assert node.read.stock(sku="A1")[0].qty == -2000
    alerts = [(a.kind, a.location, a.qty) for a in node.read.alerts()]
    assert alerts == [("negative_stock", "S01", -2000)]


def test_master_data_is_last_writer_wins_per_field(make_store):
    a, b = make_store("S01"), make_store("S02")
    a.append([Upsert(entity="product", key="A1", fields={"name": "Apple", "price": 300})], "u", 10)
    b.append([Upsert(entity="product", key="A1", fields={"price": 350})], "u", 20)
    for order in ([a, b], [b, a]):
        replica = make_store("X", name=f"x{id(order)}")
        for source in order:
            replica.ingest(raws(source, source.origin), 30)
        row = replica.conn.execute("SELECT name, price FROM products WHERE sku='A1'").fetchone()
        assert row == ("Apple", 350)


def test_failed_transaction_leaves_nothing(make_store):
    node = make_store("S01")
    with pytest.raises(RuntimeError), transaction(node.conn):
        node.append([receive(1000)], "u", 1)
        raise RuntimeError("power cut")
    assert node.log.head_seq("S01") == 0
    assert node.read.stock() == []


def test_gaps_list_missing_ranges_until_filled(make_store):
    node, hub = make_store("S01"), make_store("hub")
    node.append([receive(1000) for _ in range(8)], "u", 1)
    r = raws(node, "S01")
    hub.ingest([r[0], r[3], r[6], r[7]], 2)
    assert hub.log.gaps() == {"S01": [(2, 3), (5, 6)]}
    hub.ingest([r[1], r[2]], 2)
    assert hub.log.gaps() == {"S01": [(5, 6)]}
    hub.ingest([r[4], r[5]], 2)
    assert hub.log.gaps() == {} and hub.log.head_seq("S01") == 8


def test_a_second_header_of_a_number_leaves_the_first_and_keeps_its_lines(make_store):
    """The fold inserts headers and counts what it wrote; a number stored already keeps
    its first header, and the lines of the later one are kept as movements of their own,
    whether the later header comes in another fold or in the same one as new headers."""
    from protocol.documents import DocMovement
    from protocol.events import Document

    first, second = make_store("S01"), make_store("S02")
    hub = make_store("hub")
    first.append([Document(doc="D-1", type="receipt", location="S01"), receive(5000)], "u", 1000)
    hub.ingest(raws(first, "S01"), 2000)
    line = Movement(sku="A1", qty=2000, src="@supplier", dst="S02", doc="D-1", unit_cost=100)
    second.append(
        [
            Document(doc="D-2", type="receipt", location="S02"),
            Document(doc="D-1", type="transfer", location="S02"),
            line,
            Movement(sku="A1", qty=1000, src="@supplier", dst="S02", doc="D-2", unit_cost=90),
        ],
        "u",
        3000,
    )
    hub.ingest(raws(second, "S02"), 4000)
    header = hub.read.document_header("D-1")
    assert header is not None and header.type == "receipt" and header.location == "S01"
    assert hub.read.document_movements("D-1") == [DocMovement("A1", None, 2000, "@supplier", "S02")]
    assert hub.read.document_movements("D-2") == [DocMovement("A1", None, 1000, "@supplier", "S02")]
    assert hub.read.document_header("D-2").type == "receipt"  # type: ignore[union-attr]


def test_nulls_blobs_and_flags_are_stored_as_such(make_store):
    """The fold binds None, bytes and bool through registered adapters (ledger.journals):
    what is stored must be what sqlite3 stores without them: NULL, a blob, an integer."""
    store = make_store("S01")
    store.append([sell(1000), Count(location="S01", sku="A1", qty=4000)], "u", 1000)
    conn = store.conn
    assert conn.execute(
        "SELECT typeof(?), typeof(?), ?, typeof(?)", (None, b"x", True, False)
    ).fetchone() == (
        "null",
        "blob",
        1,
        "integer",
    )
    rows = conn.execute(
        "SELECT typeof(unit_cost), typeof(counted), typeof(variance), whole, typeof(whole) "
        "FROM journal ORDER BY seq"
    ).fetchall()
    assert rows == [
        ("null", "null", "null", 0, "integer"),
        ("null", "integer", "integer", 1, "integer"),  # a count without a lot: whole
    ]
