"""ScaleSession against simulators on real ptys (threads in this process) and other URLs."""

from __future__ import annotations

import queue
import socket
import threading
from decimal import Decimal

import pytest

from devices.port import Backoff, PortState
from devices.scales import Ack, ErrorKind, Reading, ScaleError
from devices.scales.session import ScaleSession
from devices.sim.scale import MtSicsDevice, ScaleModel

PROTOCOLS = ["mt-sics", "toledo8217", "ad", "cas"]
FAST = Backoff(initial=0.02, factor=2, maximum=0.2)


@pytest.fixture
def session_for():
    sessions: list[ScaleSession] = []

    def open_session(url: str, protocol: str, **kw) -> ScaleSession:
        kw.setdefault("backoff", FAST)
        kw.setdefault("poll_interval", 0.02)
        s = ScaleSession(url, protocol, **kw).start()
        sessions.append(s)
        assert s.wait_ready(5), s.last_error
        return s

    yield open_session
    for s in sessions:
        s.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_reads_a_stable_weight(protocol, thread_sim, session_for):
    sim = thread_sim(protocol, weight="2.345")
    s = session_for(sim.path, protocol)
    r = s.read_weight(timeout=5)
    assert r == Reading(Decimal("2.345"), "kg", stable=True)
    assert r.to_milli("kg") == 2345
    assert s.state is PortState.READY


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unstable_weight_becomes_a_motion_error_at_the_deadline(protocol, thread_sim, session_for):
    sim = thread_sim(protocol, stable=False)
    s = session_for(sim.path, protocol)
    r = s.read_weight(timeout=0.4)
    assert isinstance(r, ScaleError) and r.kind is ErrorKind.MOTION


def _go_silent_after(sim, seconds: float) -> None:
    threading.Timer(seconds, sim.control, args=("silent",)).start()


@pytest.mark.parametrize("protocol", ["toledo8217", "mt-sics"])
def test_a_poll_cut_short_by_the_deadline_still_reports_motion(protocol, thread_sim, session_for):
    """The scale answered "moving" and then the deadline fell inside the next poll: the
    cashier must hear "not settled", not "scale not answering"."""
    sim = thread_sim(protocol, weight="1.250", stable=False)
    s = session_for(sim.path, protocol, command_timeout=30)
    _go_silent_after(sim, 0.3)  # the last poll waits until the deadline, unanswered
    r = s.read_weight(timeout=1.0)
    assert isinstance(r, ScaleError) and r.kind is ErrorKind.MOTION, r


@pytest.mark.slow
def test_a_scale_that_goes_quiet_mid_read_is_a_timeout(thread_sim, session_for):
    """Full command timeouts after unstable readings mean the scale stopped answering."""
    sim = thread_sim("toledo8217", weight="1.250", stable=False)
    s = session_for(sim.path, "toledo8217", command_timeout=0.3)
    _go_silent_after(sim, 0.3)
    r = s.read_weight(timeout=2.0)
    assert isinstance(r, ScaleError) and r.kind is ErrorKind.TIMEOUT, r


@pytest.mark.parametrize("protocol", ["mt-sics", "ad", "cas"])
def test_unstable_weight_is_returned_when_asked_for(protocol, thread_sim, session_for):
    sim = thread_sim(protocol, weight="0.750", stable=False)
    s = session_for(sim.path, protocol)
    assert s.read_weight(timeout=5, require_stable=False) == Reading(
        Decimal("0.750"), "kg", stable=False
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("condition", ["overload", "underload"])
def test_range_errors_return_at_once(protocol, condition, thread_sim, session_for):
    sim = thread_sim(protocol)
    sim.control(condition)
    s = session_for(sim.path, protocol)
    result: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: result.put(s.read_weight(timeout=60)), daemon=True).start()
    r = result.get(timeout=20)  # a retried error would only come back after 60 s
    assert isinstance(r, ScaleError) and r.kind is ErrorKind(condition)
    if protocol != "cas":
        assert sim.model.weigh_requests == 1  # asked once, not re-polled


def test_settles_when_the_scale_becomes_stable(thread_sim, session_for):
    sim = thread_sim("mt-sics", weight="1.000", stable=False)
    s = session_for(sim.path, "mt-sics")
    threading.Timer(0.2, sim.control, args=("stable",)).start()
    assert s.read_weight(timeout=10, consecutive=3) == Reading(Decimal("1.000"), "kg", True)


@pytest.mark.parametrize("protocol", ["mt-sics", "toledo8217"])
def test_tare_and_clear_tare_through_the_protocol(protocol, thread_sim, session_for):
    sim = thread_sim(protocol, weight="0.400")
    s = session_for(sim.path, protocol)
    assert isinstance(s.tare(), Ack)
    sim.control("weight 1.650")
    r = s.read_weight(timeout=5)
    assert r.weight == Decimal("1.250")
    assert isinstance(s.clear_tare(), Ack)
    assert s.read_weight(timeout=5).weight == Decimal("1.650")


def test_tare_on_an_ad_balance_is_acknowledged(thread_sim, session_for):
    sim = thread_sim("ad", weight="0.400")
    s = session_for(sim.path, "ad")
    assert s.tare() == Ack("ACK")
    sim.control("weight 1.000")
    assert s.read_weight(timeout=5).weight == Decimal("0.600")
    assert s.clear_tare().kind is ErrorKind.UNSUPPORTED


@pytest.mark.parametrize("protocol", ["mt-sics", "toledo8217", "ad"])
def test_zero_within_range_and_refused_outside(protocol, thread_sim, session_for):
    sim = thread_sim(protocol, weight="0.010")
    s = session_for(sim.path, protocol)
    assert isinstance(s.zero(), Ack)
    assert s.read_weight(timeout=5).weight == Decimal("0.000")
    sim.control("weight 5")
    refused = s.zero()
    assert isinstance(refused, ScaleError)
    assert refused.kind in (ErrorKind.OVERLOAD, ErrorKind.NOT_EXECUTABLE)


def test_zero_while_moving_is_refused(thread_sim, session_for):
    sim = thread_sim("toledo8217", weight="0.010", stable=False)
    s = session_for(sim.path, "toledo8217")
    assert s.zero().kind is ErrorKind.MOTION


def test_cas_has_no_commands(thread_sim, session_for):
    sim = thread_sim("cas")
    s = session_for(sim.path, "cas")
    assert s.zero().kind is ErrorKind.UNSUPPORTED
    assert s.tare().kind is ErrorKind.UNSUPPORTED


def test_toledo_echo_probe_then_weighing_still_works(thread_sim, session_for):
    sim = thread_sim("toledo8217")
    s = session_for(sim.path, "toledo8217")
    assert s.probe() == Ack("E")
    assert s.read_weight(timeout=5).weight == Decimal("1.234")


def test_mt_sics_probe_identifies_the_balance(thread_sim, session_for):
    sim = thread_sim("mt-sics")
    s = session_for(sim.path, "mt-sics")
    assert s.probe() == Ack("I4", detail="SIM0001")


def test_silent_scale_times_out_and_state_recovers(thread_sim, session_for):
    sim = thread_sim("mt-sics")
    states: list[PortState] = []
    s = session_for(
        sim.path, "mt-sics", command_timeout=0.2, on_state=lambda st, _d: states.append(st)
    )
    sim.control("silent")
    r = s.read_weight(timeout=0.5)
    assert r.kind is ErrorKind.TIMEOUT and s.state is PortState.ERROR
    sim.control("talk")
    assert isinstance(s.read_weight(timeout=5), Reading)
    assert s.state is PortState.READY
    assert states[-2:] == [PortState.ERROR, PortState.READY]


@pytest.mark.parametrize("protocol", ["mt-sics", "toledo8217", "cas"])
def test_line_noise_does_not_break_a_reading(protocol, thread_sim, session_for):
    sim = thread_sim(protocol)
    s = session_for(sim.path, protocol)
    sim.control("garble")
    assert s.read_weight(timeout=5).weight == Decimal("1.234")


def test_follow_yields_readings_as_the_weight_changes(thread_sim, session_for):
    sim = thread_sim("cas", weight="0.100")
    s = session_for(sim.path, "cas")
    stop = threading.Event()
    seen = []
    for r in s.follow(stop):
        seen.append(r.weight)
        if len(seen) == 1:
            sim.control("weight 0.200")
        if r.weight == Decimal("0.200"):
            stop.set()
    assert seen[0] == Decimal("0.100") and seen[-1] == Decimal("0.200")


@pytest.mark.parametrize("protocol", ["mt-sics", "cas"])
def test_reconnects_when_the_pty_closes_and_reopens(protocol, thread_sim, session_for, tmp_path):
    link = str(tmp_path / "scale")
    first = thread_sim(protocol, weight="1.000", link=link)
    states: list[PortState] = []
    s = session_for(link, protocol, command_timeout=0.5, on_state=lambda st, _d: states.append(st))
    results: queue.Queue = queue.Queue()
    stop = threading.Event()

    def follow() -> None:
        for r in s.follow(stop):
            results.put(r)

    threading.Thread(target=follow, daemon=True).start()
    assert results.get(timeout=5).weight == Decimal("1.000")
    first.close()  # the "USB cable" is pulled: the pty and the link are gone
    while not (
        isinstance(r := results.get(timeout=5), ScaleError) and r.kind is ErrorKind.DISCONNECTED
    ):
        pass
    thread_sim(protocol, weight="2.000", link=link)  # plugged back in
    while not (isinstance(r := results.get(timeout=10), Reading) and r.weight == Decimal("2.000")):
        pass
    stop.set()
    assert PortState.DISCONNECTED in states
    assert states[-1] is PortState.READY
    assert states.count(PortState.READY) >= 2


@pytest.mark.parametrize("protocol", ["mt-sics", "cas"])
def test_port_disappearing_mid_read_returns_disconnected_not_timeout(
    protocol, thread_sim, session_for
):
    sim = thread_sim(protocol)
    s = session_for(sim.path, protocol, command_timeout=30)
    sim.control("silent")
    result: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: result.put(s.read_weight(timeout=30)))
    reader.start()
    threading.Timer(0.2, sim.close).start()
    r = result.get(timeout=20)
    assert isinstance(r, ScaleError) and r.kind is ErrorKind.DISCONNECTED


def test_missing_port_is_an_error_value():
    s = ScaleSession("/dev/does-not-exist-kucun", "mt-sics", backoff=FAST).start()
    try:
        r = s.read_weight(timeout=0.3)
        assert r.kind is ErrorKind.DISCONNECTED and "cannot open" in r.detail
        assert s.state in (PortState.DISCONNECTED, PortState.CONNECTING)
    finally:
        s.close()


def test_socket_url_to_a_networked_scale(session_for):
    """`socket://` works like a serial port: a serial-to-Ethernet bridge in front of a scale."""
    server = socket.create_server(("127.0.0.1", 0))
    device = MtSicsDevice(ScaleModel(load=Decimal("3.210")))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(1024):
                conn.sendall(device.handle(data))

    threading.Thread(target=serve, daemon=True).start()
    try:
        s = session_for(f"socket://127.0.0.1:{server.getsockname()[1]}", "mt-sics")
        assert s.read_weight(timeout=5).weight == Decimal("3.210")
    finally:
        server.close()


def test_loop_url(session_for):
    """`loop://` echoes writes back: enough to feed a continuous protocol."""
    s = session_for("loop://", "cas")
    frame = b"ST,GS,1\xc4,0004.560 kg\r\n"
    stop = threading.Event()

    def feed() -> None:
        while not stop.wait(0.02):
            s._worker.write(frame)

    threading.Thread(target=feed, daemon=True).start()
    try:
        assert s.read_weight(timeout=5).weight == Decimal("4.560")
    finally:
        stop.set()


async def test_asyncio_twin(thread_sim, session_for):
    sim = thread_sim("ad", weight="0.123")
    s = session_for(sim.path, "ad")
    r = await s.aread_weight(timeout=5)
    assert r.weight == Decimal("0.123")
    assert isinstance(await s.atare(), Ack)


@pytest.mark.parametrize("protocol", ["mt-sics", "toledo8217", "ad"])
def test_consecutive_equal_readings_are_required(protocol, thread_sim, session_for):
    sim = thread_sim(protocol, weight="0.800")
    s = session_for(sim.path, protocol)
    assert s.read_weight(timeout=5, consecutive=3).weight == Decimal("0.800")
    assert sim.model.weigh_requests == 3
