"""The node's hybrid clock is persisted: restarts and wall-clock jumps never move it back."""

from __future__ import annotations

import asyncio

from freezegun import freeze_time

from node.service import Node, wall_ms
from protocol.hlc import physical_ms


def test_hlc_survives_restart_and_clock_going_back(tmp_path):
    path = tmp_path / "store.db"
    with freeze_time("2026-11-25 12:00:00") as frozen:
        node = Node.init(path, "S01", None, "nats://127.0.0.1:1")
        node.add_product("A", "Apple", price="1.00")
        first = node.receive("A", "10")[-1].hlc
        node.close()
        frozen.move_to("2026-11-25 11:00:00")  # the till's clock is set back an hour
        node = Node.open(path)
        after = [e.hlc for e in node.sell("A", "1")]
        frozen.move_to("2026-11-25 13:00:00")
        later = node.sell("A", "1")[0].hlc
    assert first < after[0] < after[1] < later
    assert physical_ms(after[0]) == physical_ms(first)  # held at the highest time seen
    assert physical_ms(later) > physical_ms(first)


async def test_hlc_with_asyncio_and_time_jumps(tmp_path):
    path = tmp_path / "store.db"
    with freeze_time("2026-11-25 12:00:00", real_asyncio=True) as frozen:
        node = Node.init(path, "S01", None, "nats://127.0.0.1:1")
        node.add_product("A", "Apple", price="1.00")
        stamps = []
        for jump in ("2026-11-25 12:00:00", "2026-11-24 09:00:00", "2026-11-25 12:00:01"):
            frozen.move_to(jump)
            await asyncio.sleep(0)
            stamps += [e.hlc for e in node.receive("A", "1")]
    assert stamps == sorted(set(stamps))


def test_remote_events_advance_the_local_clock(tmp_path):
    with freeze_time("2026-11-25 12:00:00") as frozen:
        ahead = Node.init(tmp_path / "a.db", "S01-T1", "S01", "nats://127.0.0.1:1")
        ahead.add_product("A", "Apple", price="1.00")
        frozen.move_to("2026-11-25 11:59:00")  # the second till runs a minute slow
        behind = Node.init(tmp_path / "b.db", "S01-T2", "S01", "nats://127.0.0.1:1")
        behind.store.ingest([raw for _, raw in ahead.store.log.raw_events("S01-T1", 0)], wall_ms())
        own = behind.add_product("B", "Banana", price="2.00")
    theirs = next(ahead.store.log.events("S01-T1")).hlc
    assert own.hlc > theirs  # written after everything its writer had seen
