from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.hlc import LOGICAL_MASK, ClockSkewError, HybridClock, logical, pack, physical_ms


def test_tick_follows_wall_clock():
    clock = HybridClock()
    assert clock.tick(1000) == pack(1000, 0)
    assert clock.tick(1000) == pack(1000, 1)
    assert clock.tick(2000) == pack(2000, 0)


def test_wall_clock_going_back_never_moves_hlc_back():
    clock = HybridClock()
    a = clock.tick(5000)
    b = clock.tick(1000)
    assert b > a
    assert physical_ms(b) == 5000


def test_logical_overflow_borrows_next_millisecond():
    clock = HybridClock(last=pack(7, LOGICAL_MASK))
    assert clock.tick(7) == pack(8, 0)


def test_observe_moves_past_remote():
    clock = HybridClock()
    clock.tick(1000)
    clock.observe(pack(1500, 3), wall_ms=1200)
    assert clock.tick(1200) == pack(1500, 4)


def test_observe_refuses_clock_too_far_ahead():
    clock = HybridClock(max_skew_ms=1000)
    before = clock.tick(1000)
    with pytest.raises(ClockSkewError, match="ahead"):
        clock.observe(pack(5000, 0), wall_ms=1000)
    assert clock.last == before


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 10**6), st.integers(0, 10**6))))
def test_issued_timestamps_strictly_increase(steps):
    clock = HybridClock(max_skew_ms=10**7)
    last = 0
    for local, wall, remote_ms in steps:
        if local:
            value = clock.tick(wall)
            assert value > last
            last = value
        else:
            clock.observe(pack(remote_ms, 0), wall)
            assert clock.last >= last
            last = clock.last
    assert logical(last) <= LOGICAL_MASK
