"""ScannerReader on a simulated serial scanner (real pty): scans, repeats, reconnects."""

import itertools
import threading

import pytest

from devices.port import Backoff, PortState
from devices.scanner import Scan, ScanError
from devices.scanner.reader import ScannerReader

FAST = Backoff(initial=0.02, maximum=0.2)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def reader_for():
    readers: list[ScannerReader] = []

    def open_reader(url: str, **kw) -> ScannerReader:
        kw.setdefault("backoff", FAST)
        r = ScannerReader(url, **kw).start()
        readers.append(r)
        assert r.wait_ready(5), r.last_error
        return r

    yield open_reader
    for r in readers:
        r.close()


def test_scans_arrive_with_gs_and_aim_handled(thread_sim, reader_for):
    sim = thread_sim("scanner")
    reader = reader_for(sim.path)
    sim.control("scan ]C1010950600013435210LOT<GS>17261231")
    sim.control("scan 6901234567892")
    first, second = reader.get(5), reader.get(5)
    assert first == Scan("010950600013435210LOT\x1d17261231", "]C1")
    assert second == Scan("6901234567892")


def test_repeats_are_dropped_within_the_window(thread_sim, reader_for):
    clock = FakeClock()
    sim = thread_sim("scanner")
    reader = reader_for(sim.path, repeat_window=1.0, clock=clock)
    sim.control("scan 111")
    sim.control("scan 111")  # a double read: same instant on the injected clock
    sim.control("scan 222")
    assert [reader.get(5).code, reader.get(5).code] == ["111", "222"]
    clock.now = 5.0  # a pause longer than the window: scanning again is deliberate
    sim.control("scan 222")
    sim.control("scan 222")
    sim.control("scan 333")
    assert [reader.get(5).code, reader.get(5).code] == ["222", "333"]
    assert reader.get(0.1) is None


def test_codes_file_mode_round_robin(thread_sim, reader_for):
    sim = thread_sim("scanner", scanner_codes=["A1", "B2", "C3"], interval=0.02, suffix=b"\r\n")
    reader = reader_for(sim.path, suffix="crlf", repeat_window=0)
    codes = [reader.get(5).code for _ in range(4)]
    assert set(codes) <= {"A1", "B2", "C3"}
    assert all(a != b for a, b in itertools.pairwise(codes))


def test_noise_is_an_error_event_then_scans_continue(thread_sim, reader_for):
    sim = thread_sim("scanner")
    reader = reader_for(sim.path)
    sim.control("garble")
    sim.control("scan 96385074")
    events = [reader.get(5), reader.get(5)]
    assert isinstance(events[0], ScanError) and "noise" in events[0].reason
    assert events[1] == Scan("96385074")


def wait_for(condition, timeout: float = 5.0) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if condition():
            return True
        done.wait(0.02)
    return condition()


def test_callback_and_reconnect(thread_sim, reader_for, tmp_path):
    link = str(tmp_path / "scanner")
    sim = thread_sim("scanner", link=link)
    seen: list[Scan | ScanError] = []
    states: list[PortState] = []
    reader = reader_for(link, on_event=seen.append, on_state=lambda s, _d: states.append(s))
    sim.control("scan 111")
    assert reader.get(5).code == "111"
    sim.close()  # unplugged
    assert wait_for(lambda: PortState.DISCONNECTED in states)
    sim2 = thread_sim("scanner", link=link)  # plugged back in
    assert wait_for(lambda: states[-1] is PortState.READY)
    sim2.control("scan 222")
    assert reader.get(5).code == "222"
    assert [e.code for e in seen if isinstance(e, Scan)] == ["111", "222"]


async def test_async_iteration(thread_sim, reader_for):
    sim = thread_sim("scanner")
    reader = reader_for(sim.path)
    sim.control("scan 96385074")
    async for event in reader.aevents():
        assert event == Scan("96385074")
        break
