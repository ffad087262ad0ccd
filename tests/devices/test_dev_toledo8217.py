"""Toledo 8217 conformance: STX-framed weight and status replies, echo probe, parity."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.scales import Ack, Command, Echo, ErrorKind, Reading, ScaleError, StatusReport
from devices.scales.toledo8217 import Toledo8217, decode_status, encode_status

STX, CR = b"\x02", b"\r"


def frame(body: bytes) -> bytes:
    return STX + body + CR


def with_even_parity(data: bytes) -> bytes:
    """What a 7E1 line delivers to a port wrongly opened as 8N1: parity in bit 7."""
    return bytes(b | (0x80 if bin(b).count("1") % 2 else 0) for b in data)


@pytest.mark.parametrize(
    ("body", "weight", "net"),
    [
        (b"01.234", "1.234", False),  # kg, WW.WWW
        (b"00.000", "0.000", False),
        (b"14.995", "14.995", False),
        (b"01.234N", "1.234", True),  # net weight carries an N
        (b"001.50", "1.50", False),  # lb, 0WW.WW
        (b"01.50", "1.50", False),  # lb, WW.WW
        (b"030.00N", "30.00", True),
    ],
)
def test_weight_frames(body, weight, net, split_everywhere):
    for chunks in split_everywhere(frame(body)):
        p = Toledo8217()
        events = [e for c in chunks for e in p.feed(c)]
        assert events == [Reading(Decimal(weight), "kg", stable=True, net=net)]


def test_unit_comes_from_configuration_because_the_frame_has_none():
    assert Toledo8217("lb").feed(frame(b"001.50"))[0].unit == "lb"


@pytest.mark.parametrize(
    ("bit", "field"),
    [
        (0x01, "motion"),
        (0x02, "over_capacity"),
        (0x04, "under_zero"),
        (0x08, "outside_zero_range"),
        (0x10, "center_of_zero"),
        (0x20, "net"),
    ],
)
def test_each_status_bit(bit, field):
    (event,) = Toledo8217().feed(frame(b"?" + bytes([0x40 | bit])))
    assert isinstance(event, StatusReport)
    flags = {
        f: getattr(event, f)
        for f in (
            "motion",
            "over_capacity",
            "under_zero",
            "outside_zero_range",
            "center_of_zero",
            "net",
        )
    }
    assert flags == {f: f == field for f in flags}


def test_status_errors_map_to_error_kinds():
    p = Toledo8217()
    motion, over, under = (p.feed(frame(b"?" + bytes([b])))[0] for b in (0x41, 0x42, 0x44))
    assert p.reply(Command.WEIGH, motion).kind is ErrorKind.MOTION
    assert p.reply(Command.WEIGH, over).kind is ErrorKind.OVERLOAD
    assert p.reply(Command.WEIGH, under).kind is ErrorKind.UNDERLOAD
    # a plain status instead of weight (e.g. outside zero capture range) is not executable
    outside = p.feed(frame(b"?" + bytes([0x48])))[0]
    assert p.reply(Command.WEIGH, outside).kind is ErrorKind.NOT_EXECUTABLE


def test_zero_tare_clear_replies_are_status_bytes():
    p = Toledo8217()
    at_zero = p.feed(frame(b"?" + bytes([encode_status(center_of_zero=True)])))[0]
    refused = p.feed(frame(b"?" + bytes([encode_status(outside_zero_range=True)])))[0]
    tared = p.feed(frame(b"?" + bytes([encode_status(net=True)])))[0]
    gross = p.feed(frame(b"?" + bytes([encode_status()])))[0]
    moving = p.feed(frame(b"?" + bytes([encode_status(motion=True, net=True)])))[0]
    assert isinstance(p.reply(Command.ZERO, at_zero), Ack)
    assert p.reply(Command.ZERO, refused).kind is ErrorKind.NOT_EXECUTABLE
    assert isinstance(p.reply(Command.TARE, tared), Ack)
    assert p.reply(Command.TARE, gross).kind is ErrorKind.NOT_EXECUTABLE
    assert p.reply(Command.TARE, moving).kind is ErrorKind.MOTION
    assert isinstance(p.reply(Command.CLEAR_TARE, gross), Ack)
    assert p.reply(Command.CLEAR_TARE, moving).kind is ErrorKind.MOTION


def test_commands():
    p = Toledo8217()
    assert p.encode(Command.WEIGH) == b"W"
    assert p.encode(Command.ZERO) == b"Z"
    assert p.encode(Command.TARE) == b"T\r"
    assert p.encode(Command.CLEAR_TARE) == b"C"
    assert p.encode(Command.PROBE) == b"E"
    assert p.encode(Command.END_PROBE) == b"F"
    assert p.encode(Command.IDENTIFY) is None


def test_echo_probe_handshake():
    p = Toledo8217()
    e, f = p.feed(frame(b"E") + frame(b"F"))
    assert e == Echo("E") and f == Echo("F")
    assert p.reply(Command.PROBE, e) == Ack("E")
    assert p.reply(Command.PROBE, f) is None
    assert p.reply(Command.END_PROBE, f) == Ack("F")


def test_echoed_characters_between_frames_are_noise_not_crashes():
    p = Toledo8217()
    events = p.feed(frame(b"E") + b"hello" + frame(b"F") + frame(b"01.000"))
    assert [type(e).__name__ for e in events] == ["Echo", "ScaleError", "Echo", "Reading"]
    assert events[1].kind is ErrorKind.GARBLED and events[1].raw == b"hello"


def test_unrecognised_command_reply_and_confidence_ack():
    p = Toledo8217()
    assert p.feed(frame(b"?"))[0].kind is ErrorKind.SYNTAX
    assert p.feed(frame(b""))[0] == Ack("STX", detail="command received")


def test_parity_bit_is_ignored():
    wire = with_even_parity(frame(b"01.234N") + frame(b"?" + bytes([0x41])))
    assert any(b & 0x80 for b in wire)
    reading, status = Toledo8217().feed(wire)
    assert reading == Reading(Decimal("1.234"), "kg", True, net=True)
    assert status.motion and status.byte == 0x41


def test_decode_status_masks_parity():
    assert decode_status(0xC1).byte == 0x41


def test_two_frames_in_one_read_and_noise_between():
    events = Toledo8217().feed(frame(b"01.000") + b"\x00\xffzz" + frame(b"02.000"))
    assert [getattr(e, "weight", None) for e in events] == [
        Decimal("1.000"),
        None,
        Decimal("2.000"),
    ]
    assert events[1].kind is ErrorKind.GARBLED


def test_broken_frames_resync():
    p = Toledo8217()
    events = p.feed(STX + b"01.2" + frame(b"03.000"))  # STX again before CR
    assert events[0].kind is ErrorKind.GARBLED
    assert events[1] == Reading(Decimal("3.000"), "kg", True)
    events = p.feed(STX + b"9" * 40 + CR + frame(b"04.000"))  # far too long
    assert events[0].kind is ErrorKind.GARBLED
    assert events[-1] == Reading(Decimal("4.000"), "kg", True)
    assert p.feed(frame(b"1x.000"))[0].kind is ErrorKind.GARBLED


def test_noise_without_frames_stays_bounded():
    p = Toledo8217()
    events = []
    for _ in range(500):
        events += p.feed(b"noise" * 20)
    assert len(p._noise) < 64 and p._frame is None
    assert all(isinstance(e, ScaleError) for e in events)


STREAM = (
    frame(b"01.234")
    + b"junk"
    + frame(b"?A")
    + frame(b"E")
    + frame(b"02.000N")
    + STX
    + b"x" * 30
    + CR
    + frame(b"F")
)


@settings(deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts):
    cuts = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)]
    p = Toledo8217()
    got = [e for c in chunks for e in p.feed(c)]
    assert got == Toledo8217().feed(STREAM)
    assert [e.raw for e in got] == [e.raw for e in Toledo8217().feed(STREAM)]


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data):
    p = Toledo8217()
    p.feed(data)
    assert p.feed(frame(b"01.000"))[-1] == Reading(Decimal("1.000"), "kg", True)
