"""The hub confirms what it stored and folds it afterwards: reports catch up, and an event
whose fold cannot be stored is set aside instead of stopping every later one."""

from __future__ import annotations

from hub.ingest import project
from hub.store import HubStore
from ledger.sqlite import connect
from protocol import codec
from protocol.events import Event, Movement
from protocol.units import MAX_MONEY, MAX_QTY

WALL = 1_790_000_000_000


def chain(origin: str, bodies: list) -> list[bytes]:
    raws, prev = [], codec.GENESIS
    for seq, body in enumerate(bodies, start=1):
        event = Event(
            origin=origin, seq=seq, hlc=((WALL + seq) << 16), prev=prev, user="u", body=body
        )
        raw = codec.encode(event)
        prev = codec.event_hash(raw)
        raws.append(raw)
    return raws


def receipt(dst: str, qty: int, unit_cost: int) -> Movement:
    return Movement(sku="A", qty=qty, src="@supplier", dst=dst, unit_cost=unit_cost)


def test_reports_trail_ingest_until_projected(tmp_path):
    hub = HubStore(connect(tmp_path / "hub.db"))
    result = hub.events.ingest(chain("S01", [receipt("S01", 1000, 5)] * 12_000), WALL, fold=False)
    assert result.applied == 12_000 and hub.events.log.heads() == {"S01": 12_000}
    assert hub.events.read.stock() == [] and hub.events.projector.unfolded() == 12_000
    assert project(hub, per_origin=5000) == 5000
    assert hub.events.read.stock()[0].qty == 5000 * 1000 and hub.events.projector.folded() == {
        "S01": 5000
    }
    while project(hub):
        pass
    assert hub.events.projector.unfolded() == 0 and hub.events.read.stock()[0].qty == 12_000 * 1000
    assert hub.events.read.cost()[0].value == 12_000 * 5


def test_an_event_whose_fold_overflows_is_set_aside_and_folding_goes_on(tmp_path):
    """Each receipt is within the limits, but 93 of them add up to a stock value beyond
    64 bits: those are ignored with the reason, the rest (and other origins) are folded."""
    hub = HubStore(connect(tmp_path / "hub.db"))
    huge = chain("W01", [receipt("W01", MAX_QTY, MAX_MONEY)] * 100)
    normal = chain("S01", [receipt("S01", 2000, 300)])
    hub.events.ingest(huge + normal, WALL, fold=False)
    while project(hub):
        pass
    assert hub.events.projector.unfolded() == 0
    ignored = hub.events.read.snapshot().ignored
    assert len(ignored) == 8 and all(o == "W01" and s > 92 for o, s in ignored)
    assert all("cannot be folded: OverflowError" in reason for reason in ignored.values())
    stock = {row.location: row.qty for row in hub.events.read.stock()}
    assert stock == {"W01": 92 * MAX_QTY, "S01": 2000}
