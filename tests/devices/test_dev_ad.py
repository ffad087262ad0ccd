"""A&D standard format conformance: headers ST/US/QT/OL, indicator second headers, EC errors."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.scales import Ack, AndStandard, Command, ErrorKind, Reading, ScaleError

FRAMES = [
    (b"ST,+0001.234 kg\r\n", Reading(Decimal("1.234"), "kg", stable=True)),
    (b"ST,+0001.234  kg\r\n", Reading(Decimal("1.234"), "kg", stable=True)),  # tolerated
    (b"US,-0000.010 kg\r\n", Reading(Decimal("-0.010"), "kg", stable=False)),
    (b"ST,+00123.45  g\r\n", Reading(Decimal("123.45"), "g", stable=True)),
    (b"QT,+00012345 PC\r\n", Reading(Decimal("12345"), "pcs", stable=True)),
    (b"ST,+0002.500 lb\r\n", Reading(Decimal("2.500"), "lb", stable=True)),
    (b"ST,+000123.4  %\r\n", Reading(Decimal("123.4"), "%", stable=True)),
    (b"ST,GS,+001.234 kg\r\n", Reading(Decimal("1.234"), "kg", stable=True, net=False)),
    (b"US,NT,+001.000 kg\r\n", Reading(Decimal("1.000"), "kg", stable=False, net=True)),
    (b"ST,OK,+0001.234 kg\r\n", Reading(Decimal("1.234"), "kg", stable=True)),
    (b"ST,TR,+000.500 kg\r\n", Ack("TR", Decimal("0.500"), "kg", detail="tare value")),
    (b"OL,+999999.9  g\r\n", ScaleError(ErrorKind.OVERLOAD, "OL: out of range (+)", source="OL")),
    (b"OL,-99999999 PC\r\n", ScaleError(ErrorKind.UNDERLOAD, "OL: out of range (-)", source="OL")),
    (b"OL,+9999999E+19\r\n", ScaleError(ErrorKind.OVERLOAD, "OL: out of range (+)", source="OL")),
    (
        b"OL,GS,-    .   kg\r\n",
        ScaleError(ErrorKind.UNDERLOAD, "OL: out of range (-)", source="OL"),
    ),
    (
        b"EC,E0\r\n",
        ScaleError(
            ErrorKind.TRANSMISSION, "EC,E0: communication error (parity/framing)", source="EC"
        ),
    ),
    (b"EC,E1\r\n", ScaleError(ErrorKind.SYNTAX, "EC,E1: undefined command", source="EC")),
    (b"EC,E2\r\n", ScaleError(ErrorKind.NOT_EXECUTABLE, "EC,E2: not ready", source="EC")),
    (b"EC,E3\r\n", ScaleError(ErrorKind.TIMEOUT, "EC,E3: timeout inside the balance", source="EC")),
    (b"EC,E4\r\n", ScaleError(ErrorKind.SYNTAX, "EC,E4: excess characters", source="EC")),
    (b"EC,E6\r\n", ScaleError(ErrorKind.SYNTAX, "EC,E6: format error", source="EC")),
    (b"EC,E7\r\n", ScaleError(ErrorKind.LOGICAL, "EC,E7: parameter out of range", source="EC")),
    (b"\x06", Ack("ACK")),
]


def test_balance_frame_is_17_bytes():
    assert len(FRAMES[0][0]) == 17


@pytest.mark.parametrize(("wire", "event"), FRAMES, ids=[repr(f[0]) for f in FRAMES])
def test_every_frame_form(wire, event, split_everywhere):
    for chunks in split_everywhere(wire):
        p = AndStandard()
        assert [e for c in chunks for e in p.feed(c)] == [event], chunks


def test_commands():
    p = AndStandard()
    assert p.encode(Command.WEIGH) == b"Q\r\n"
    assert p.encode(Command.WEIGH_STABLE) == b"S\r\n"
    assert p.encode(Command.ZERO) == b"Z\r\n"
    assert p.encode(Command.TARE) == b"T\r\n"
    assert p.encode(Command.CLEAR_TARE) is None


def test_ack_is_in_stream_order_and_answers_zero_not_weigh():
    p = AndStandard()
    events = p.feed(b"ST,+0001.000 kg\r\n\x06US,+0001.100 kg\r\n")
    assert [type(e).__name__ for e in events] == ["Reading", "Ack", "Reading"]
    assert p.reply(Command.ZERO, events[1]) == Ack("ACK")
    assert p.reply(Command.ZERO, events[0]) is None  # stream frames while zeroing: not answers
    assert p.reply(Command.WEIGH, events[1]) is None


def test_two_frames_one_read_with_noise_between():
    events = AndStandard().feed(b"ST,+0001.000 kg\r\n\xffnoise\x00\r\nST,+0002.000 kg\r\n")
    assert [e.kind if isinstance(e, ScaleError) else e.weight for e in events] == [
        Decimal("1.000"),
        ErrorKind.GARBLED,
        Decimal("2.000"),
    ]


@pytest.mark.parametrize("line", [b"ST,", b"ST,+12.3.4 kg", b"XX,+0001.000  kg", b"ST,abc"])
def test_malformed_frames_are_garbled(line):
    (event,) = AndStandard().feed(line + b"\r\n")
    assert event.kind is ErrorKind.GARBLED


def test_long_garbage_is_capped():
    p = AndStandard()
    events = [e for _ in range(200) for e in p.feed(b"A" * 50)]
    assert p._lines.pending <= 64 and len(events) == 1
    assert p.feed(b"\r\nST,+0001.000 kg\r\n") == [Reading(Decimal("1.000"), "kg", True)]


STREAM = (
    b"ST,+0001.234  kg\r\n\x06US,-0000.010 kg\r\nOL,+9999999E+19\r\nzz\r\n"
    b"EC,E1\r\nST,NT,+001.000 kg\r\n\x06"
)


@settings(deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts):
    cuts = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)]
    p = AndStandard()
    assert [e for c in chunks for e in p.feed(c)] == AndStandard().feed(STREAM)


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data):
    p = AndStandard()
    p.feed(data)
    assert p.feed(b"\r\nST,+0001.000 kg\r\n")[-1] == Reading(Decimal("1.000"), "kg", True)
