"""CAS 22-byte continuous format: binary lamp byte, header-anchored framing, resync."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.scales import CasContinuous, Command, ErrorKind, Reading, ScaleError
from devices.scales.cas import lamp_byte


def cas(
    header: bytes = b"ST",
    mode: bytes = b"GS",
    data: bytes = b"0001.234",
    unit: bytes = b"kg",
    lamp: int = 0xC4,
    comma: bool = True,
) -> bytes:
    return (
        header
        + b","
        + mode
        + b","
        + b"1"
        + bytes([lamp])
        + (b"," if comma else b"")
        + data
        + b" "
        + unit
        + b"\r\n"
    )


def test_frame_lengths():
    assert len(cas()) == 22
    assert len(cas(comma=False)) == 21


@pytest.mark.parametrize(
    ("wire", "event"),
    [
        (cas(), Reading(Decimal("1.234"), "kg", stable=True)),
        (cas(comma=False), Reading(Decimal("1.234"), "kg", stable=True)),
        (cas(comma=False, data=b"1234.567"), Reading(Decimal("1234.567"), "kg", stable=True)),
        (cas(data=b"1234.567"), Reading(Decimal("1234.567"), "kg", stable=True)),
        (cas(b"US", data=b"   0.550"), Reading(Decimal("0.550"), "kg", stable=False)),
        (
            cas(mode=b"NT", data=b"  -0.500", lamp=0xC2),
            Reading(Decimal("-0.500"), "kg", True, net=True),
        ),
        (cas(data=b"  1234.5", unit=b" g"), Reading(Decimal("1234.5"), "g", True)),
        (cas(data=b"00012.30", unit=b" t"), Reading(Decimal("12.30"), "t", True)),
        (
            cas(b"OL", data=b"    OL  "),
            ScaleError(ErrorKind.OVERLOAD, "OL: out of range", source="OL"),
        ),
        (
            cas(b"OL", data=b"-   OL  "),
            ScaleError(ErrorKind.UNDERLOAD, "OL: out of range", source="OL"),
        ),
        # lamp bytes that look like CR or LF once bit 7 is gone must not break framing
        (cas(lamp=0x8A), Reading(Decimal("1.234"), "kg", True)),
        (cas(lamp=0x8D), Reading(Decimal("1.234"), "kg", True)),
        (cas(lamp=0x0A), Reading(Decimal("1.234"), "kg", True)),
    ],
)
def test_frames(wire, event, split_everywhere):
    for chunks in split_everywhere(wire):
        p = CasContinuous()
        assert [e for c in chunks for e in p.feed(c)] == [event], chunks


def test_lamp_byte_bits():
    assert lamp_byte(stable=True, net=False, zero=False) == 0b1100_0100
    assert lamp_byte(stable=False, net=True, zero=True) == 0b1000_0011


def test_streaming_only():
    p = CasContinuous()
    assert p.continuous
    assert p.encode(Command.WEIGH) is None
    assert p.encode(Command.ZERO) is None


def test_joined_mid_stream_then_frames():
    """Opening the port mid-frame: the tail is reported once, following frames parse."""
    tail = cas()[9:]
    events = CasContinuous().feed(tail + cas() + cas(b"US", data=b"0001.240"))
    assert [type(e).__name__ for e in events] == ["ScaleError", "Reading", "Reading"]


def test_two_frames_one_read_and_noise_between():
    events = CasContinuous().feed(cas() + b"\xff\xfe noise \x00" + cas(data=b"0002.000"))
    assert [e.kind if isinstance(e, ScaleError) else e.weight for e in events] == [
        Decimal("1.234"),
        ErrorKind.GARBLED,
        Decimal("2.000"),
    ]


def test_truncated_frame_followed_by_good_one_resyncs():
    events = CasContinuous().feed(cas()[:12] + cas())
    assert events[-1] == Reading(Decimal("1.234"), "kg", True)
    assert any(isinstance(e, ScaleError) and e.kind is ErrorKind.GARBLED for e in events)


def test_bad_weight_digits_are_garbled():
    (event,) = CasContinuous().feed(cas(data=b"00x1.234"))
    assert event.kind is ErrorKind.GARBLED


def test_noise_is_bounded():
    p = CasContinuous()
    events = [e for _ in range(300) for e in p.feed(b"no frame here ")]
    assert len(p._buf) <= 5 and len(p._noise) < 64
    assert all(e.kind is ErrorKind.GARBLED for e in events)
    assert p.feed(cas())[-1] == Reading(Decimal("1.234"), "kg", True)


STREAM = (
    b"\xc4,0001.2 kg\r\n"
    + cas()
    + b"junk"
    + cas(b"US", comma=False)
    + cas(b"OL")
    + cas()[:15]
    + b"ST,GS,"
    + b"#" * 70
    + cas(mode=b"NT")
)


@settings(deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=15))
def test_any_chunking_gives_the_same_events(cuts):
    cuts = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)]
    p = CasContinuous()
    got = [e for c in chunks for e in p.feed(c)]
    want = CasContinuous().feed(STREAM)
    assert got == want
    assert [e.raw for e in got] == [e.raw for e in want]


@settings(deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data):
    p = CasContinuous()
    p.feed(data)
    assert p.feed(cas() + cas())[-1] == Reading(Decimal("1.234"), "kg", True)
