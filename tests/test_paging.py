"""Paging's pure parts: limits, cursors (opaque, of one list, refused when spoilt), time
bounds, and the kinds a movement is given."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import paging, subjects
from protocol.events import COUNT, CUSTOMER, SCRAP, SUPPLIER, TRANSIT
from protocol.movement_kinds import KINDS, kind_of
from protocol.paging import PagingError

texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
keys = st.tuples(st.integers(min_value=-(2**63), max_value=2**63 - 1), texts, st.none() | texts)


def test_limits():
    assert paging.parse_limit(None) == paging.parse_limit("") == 100
    assert paging.parse_limit("1") == 1 and paging.parse_limit("1000") == 1000
    for bad in ("0", "1001", "-1", "1.5", "abc", "²", "9" * 40, " 5"):
        with pytest.raises(PagingError, match="limit must be a whole number from 1 to 1000"):
            paging.parse_limit(bad)


@given(keys)
def test_a_cursor_gives_back_its_key(key):
    cursor = paging.encode_cursor("movements", key)
    assert cursor.isascii() and "=" not in cursor
    assert paging.decode_cursor("movements", cursor, (int, str, str)) == key


@given(keys)
def test_another_lists_cursor_is_refused(key):
    cursor = paging.encode_cursor("stock", key)
    with pytest.raises(PagingError, match="cursor is not one this list gave"):
        paging.decode_cursor("movements", cursor, (int, str, str))


@given(st.text(max_size=600))
def test_any_text_is_a_cursor_or_refused(text):
    try:
        found = paging.decode_cursor("users", text, (str,))
    except PagingError:
        return
    assert found is None or (len(found) == 1 and (found[0] is None or isinstance(found[0], str)))


def test_spoilt_cursors_are_refused():
    good = paging.encode_cursor("alerts", (7,))
    for bad in (
        good[:-2],
        good + "x",
        "%%%",
        "A" * 600,
        paging.encode_cursor("alerts", ("7",)),  # a string where a number goes
        paging.encode_cursor("alerts", (True,)),  # JSON true is no id
        paging.encode_cursor("alerts", (7, 8)),  # one part too many
        "bm90IGpzb24",  # base64 of "not json"
        "国",
        paging.encode_cursor("alerts", (2**64,)),  # beyond SQLite's integers
    ):
        with pytest.raises(PagingError):
            paging.decode_cursor("alerts", bad, (int,))
    assert paging.decode_cursor("alerts", None, (int,)) is None
    assert paging.decode_cursor("alerts", "", (int,)) is None


def test_time_bounds():
    day = paging.parse_time_ms("2026-12-01", "from")
    assert day == 1_796_083_200_000
    assert paging.parse_time_ms("2026-12-01", "to", end=True) == day + 86_400_000
    assert paging.parse_time_ms("2026-12-01T00:00:00Z", "from") == day
    assert paging.parse_time_ms("2026-12-01T08:00:00+08:00", "from") == day
    assert paging.parse_time_ms("2026-12-01T00:00:00", "to", end=True) == day + 1000
    assert paging.parse_time_ms("2026-12-01T00:00:00.250", "to", end=True) == day + 251
    assert paging.parse_time_ms("2026-12-01T00:00", "to", end=True) == day + 60_000
    assert paging.parse_time_ms("2026-12-01T08:00+08:00", "to", end=True) == day + 60_000
    assert paging.parse_time_ms(None, "from") is None
    lone = base64.urlsafe_b64encode(b'["x","\\ud800"]').decode()  # a lone surrogate
    with pytest.raises(PagingError):
        paging.decode_cursor("x", lone, (str,))
    for bad in (
        "9999-12-31",
        "6500-01-01T00:00Z",
        "2026-13-01",
        "yesterday",
        "2026-12-01T25:00",
        "1" * 50,
        "0001-01-01T00:00+14:00",
    ):
        with pytest.raises(PagingError, match="must be an ISO date or datetime"):
            paging.parse_time_ms(bad, "from")
    assert paging.iso_time(day + 1500) == "2026-12-01T00:00:01Z"


def test_days_booleans_and_choices():
    assert paging.parse_days("0", "d") == 0 and paging.parse_days("30", "d") == 30
    for bad in ("-1", "x", "4000"):
        with pytest.raises(PagingError, match="whole number of days"):
            paging.parse_days(bad, "d")
    assert paging.parse_bool("true", "b") is True and paging.parse_bool("false", "b") is False
    with pytest.raises(PagingError, match="true or false"):
        paging.parse_bool("yes", "b")
    with pytest.raises(PagingError, match="one of: a, b"):
        paging.parse_choice("c", "x", ("a", "b"))


def test_movement_kinds():
    assert kind_of("S01", CUSTOMER, "S01", "sale") == "sale"
    assert kind_of(CUSTOMER, "S01", "S01", "return") == "return"
    assert kind_of(CUSTOMER, "S01", "S01", "void") == "void"
    assert kind_of(SUPPLIER, "S01", "S01", "receipt") == "receipt"
    assert kind_of("S01", SUPPLIER, "S01", "reversal") == "reversal"
    assert kind_of("S01", TRANSIT, "S01", "transfer") == "transfer_out"
    assert kind_of(TRANSIT, "S02", "S02", "receipt") == "transfer_in"
    assert kind_of("S01", "S02", "S01", None) == "transfer_out"
    assert kind_of("S01", "S02", "S02", None) == "transfer_in"
    assert kind_of(COUNT, "S01", "S01", "count") == "correction"
    assert kind_of("S01", SCRAP, "S01", None) == "scrap"
    assert kind_of(None, None, "S01", "stocktake_close") == "count"
    assert kind_of("S01", "@elsewhere", "S01", None) == "other"
    assert set(KINDS) >= {"sale", "receipt", "transfer_out", "transfer_in", "count", "scrap"}


def test_the_status_subject_is_the_nodes_own():
    assert subjects.status_subject("S01-T2", "S01") == "kucun.status.S01.S01-T2"
    assert subjects.status_of_subject("kucun.status.S01.S01-T2") == ("S01", "S01-T2")
    for bad in ("kucun.status.S01", "kucun.status.S01.T2.x", "kucun.ev.S01.T2", "kucun.status..T"):
        assert subjects.status_of_subject(bad) is None
    allowed = subjects.node_permissions("S01-T2", "S01")["publish"]["allow"]
    assert "kucun.status.S01.S01-T2" in allowed
    assert not any(s.startswith("kucun.status.") and "S01-T2" not in s for s in allowed)
