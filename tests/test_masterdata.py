"""Master-data rules (protocol/masterdata.py) alone, and the tables a replica derives
from the registers: the same whatever order the upserts arrive in, and filled in for a
ledger written before they existed."""

from __future__ import annotations

import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import registers, schema_master
from ledger.masterdata import MasterData, RecordFilter
from ledger.replica import Replica
from ledger.schema import MIGRATIONS
from ledger.sqlite import connect, migrate
from protocol import masterdata
from protocol.events import Event, Upsert
from protocol.search import BARCODE_EXACT, ProductFields, matches, search
from replication.clock import wall_ms


def test_price_keys_split_back_whatever_the_sku_holds():
    assert masterdata.price_key("S01", "A/1") == "S01/A/1"
    assert masterdata.split_price_key("S01/A/1") == ("S01", "A/1")
    for bad in ("S01", "/A", "S01/", ""):
        assert masterdata.split_price_key(bad) is None


def test_a_stores_override_wins_over_the_default():
    assert masterdata.effective_price(240, 250) == 240
    assert masterdata.effective_price(None, 250) == 250
    assert masterdata.effective_price(0, 250) == 0  # free is a price
    assert masterdata.effective_price(None, None) is None


def test_a_group_roll_out_goes_to_the_groups_active_stores():
    stores = [
        masterdata.StoreRecord("S03", "pilot"),
        masterdata.StoreRecord("S01", "pilot"),
        masterdata.StoreRecord("S02", None),
        masterdata.StoreRecord("S04", "pilot", active=False),
    ]
    assert masterdata.rollout(stores, "pilot") == ["S01", "S03"]
    assert masterdata.rollout(stores, "north") == []


def test_barcode_changes_claim_the_new_and_release_the_dropped():
    assert masterdata.barcode_changes("A", ["1", "2"], ["2", "3", "3"]) == {"3": "A", "1": None}
    assert masterdata.barcode_changes("A", [], []) == {}
    assert masterdata.barcode_changes("A", ["1"], ["1"]) == {}


def test_gtin_and_search_text():
    assert masterdata.gtin14("6901234567892") == "06901234567892"
    assert masterdata.gtin14("12345") is None and masterdata.gtin14("69012345678x2") is None
    text = masterdata.search_text("A1", "苹果 Red", ["690"])
    for needle in ("a1", "苹果red", "690", "pg", "pingguo"):
        assert needle in text
    assert masterdata.record_flags({"active": False, "kind": "warehouse", "group": ""}) == (
        False,
        None,
        "warehouse",
        None,
    )


def test_search_finds_a_product_by_any_of_its_barcodes_and_puts_inactive_last():
    a = ProductFields("A", "Apple", "111", barcodes=("111", "222"))
    old = ProductFields("B", "Apple old", barcodes=("333",), active=False)
    assert matches("222", a) == BARCODE_EXACT
    assert [p.sku for p in search("apple", [old, a])] == ["A", "B"]


# ---- derived tables: the same in every order -----------------------------------------

SKUS = ("A", "B", "C")
CODES = ("111", "222", "6901234567892")


def upserts() -> st.SearchStrategy[list[Upsert]]:
    barcode = st.builds(
        lambda code, sku: Upsert(entity="barcode", key=code, fields={"sku": sku}),
        st.sampled_from(CODES),
        st.sampled_from((*SKUS, None)),
    )
    price = st.builds(
        lambda loc, sku, p: Upsert(entity="price", key=f"{loc}/{sku}", fields={"price": p}),
        st.sampled_from(("S01", "S02")),
        st.sampled_from(SKUS),
        st.one_of(st.none(), st.integers(0, 1000)),
    )
    product = st.builds(
        lambda sku, price, active: Upsert(
            entity="product", key=sku, fields={"name": sku, "price": price, "active": active}
        ),
        st.sampled_from(SKUS),
        st.integers(0, 1000),
        st.booleans(),
    )
    return st.lists(st.one_of(barcode, price, product), min_size=1, max_size=12)


def derived(conn: sqlite3.Connection) -> tuple:
    return tuple(
        conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        for table in ("products", "barcodes", "prices", "master_index")
    )


@settings(max_examples=40, deadline=None)
@given(upserts(), st.randoms(use_true_random=False))
def test_every_order_of_upserts_derives_the_same_tables(changes: list[Upsert], rnd: random.Random):
    """Each upsert is an event of its own origin and clock; two replicas fold them in
    different orders (each origin's own order kept) and derive equal tables."""
    events = [
        Event(
            origin=f"hub-{i % 3}",
            seq=i // 3 + 1,
            hlc=(1000 + rnd.randrange(5)) << 16,
            prev=b"",
            user="u",
            body=c,
        )
        for i, c in enumerate(changes)
    ]
    results = []
    for _ in range(2):
        conn = sqlite3.connect(":memory:")
        Replica(conn, "S01")  # its tables
        # each origin in its own order, the origins interleaved at random
        queues: dict[str, list[Event]] = {}
        for event in events:
            queues.setdefault(event.origin, []).append(event)
        while queues:
            origin = rnd.choice(sorted(queues))
            event = queues[origin].pop(0)
            assert isinstance(event.body, Upsert)
            registers.upsert(conn, event.body, event)
            if not queues[origin]:
                del queues[origin]
        results.append(derived(conn))
    assert results[0] == results[1]


def test_a_ledger_from_before_master_data_is_indexed_when_it_migrates(tmp_path):
    conn = connect(tmp_path / "old.db")
    migrate(conn, "ledger", MIGRATIONS)
    conn.execute(
        "INSERT INTO products(sku, name, barcode, unit, price) "
        "VALUES ('A', '苹果 1', '111', 'pcs', 250)"
    )
    conn.execute(
        "INSERT INTO registers(entity, key, field, value, hlc, origin) VALUES "
        "('store', 'S01', 'name', '\"一号店\"', 1, 'hub'), "
        "('store', 'S01', 'group', '\"pilot\"', 1, 'hub'), "
        "('price', 'S01/A', 'price', '240', 1, 'hub'), "
        "('supplier', 'ACME', 'active', 'false', 1, 'hub')"
    )
    conn.commit()
    migrate(conn, "ledger-master", schema_master.MIGRATIONS)
    data = MasterData(conn)
    assert data.keys("product", None, 10, RecordFilter(q="111")) == ["A"]
    assert data.keys("supplier", None, 10, RecordFilter(active=False)) == ["ACME"]
    assert data.stores() == [masterdata.StoreRecord("S01", "pilot", True)]
    assert data.override("S01", "A") == 240
    replica = Replica(conn, "S01-T1")
    assert replica.read.at("S01").product("A").price == 240  # type: ignore[union-attr]
    assert replica.read.product_by_barcode("111").sku == "A"  # type: ignore[union-attr]


def test_a_claimed_barcode_hides_the_old_single_field(tmp_path):
    replica = Replica(connect(tmp_path / "r.db"), "S01")
    now = wall_ms()
    replica.append(
        [
            Upsert(entity="product", key="A", fields={"name": "A", "barcode": "111"}),
            Upsert(entity="product", key="B", fields={"name": "B"}),
        ],
        "u",
        now,
    )
    assert replica.read.product_by_barcode("111").sku == "A"  # type: ignore[union-attr]
    assert replica.read.product("A").barcodes == ("111",)  # type: ignore[union-attr]
    replica.append([Upsert(entity="barcode", key="111", fields={"sku": "B"})], "u", now)
    assert replica.read.product_by_barcode("111").sku == "B"  # type: ignore[union-attr]
    assert replica.read.product("A").barcodes == ()  # type: ignore[union-attr]
    assert replica.read.product("A").barcode is None  # type: ignore[union-attr]
    assert replica.read.product("B").barcode == "111"  # type: ignore[union-attr]
    assert replica.read.product_by_plu("A").sku == "A"  # type: ignore[union-attr]


@pytest.mark.parametrize("code", ["6901234567892", "06901234567892"])
def test_a_gtin_finds_its_product_in_any_length(tmp_path, code):
    replica = Replica(connect(tmp_path / "r.db"), "S01")
    replica.append(
        [
            Upsert(entity="product", key="A", fields={"name": "A"}),
            Upsert(entity="barcode", key=code, fields={"sku": "A"}),
        ],
        "u",
        wall_ms(),
    )
    assert replica.read.product_by_gtin("06901234567892").sku == "A"  # type: ignore[union-attr]
