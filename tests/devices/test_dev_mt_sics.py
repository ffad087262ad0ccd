"""MT-SICS conformance: every reply form of S/SI/Z/ZI/T/TA/TAC/@/I4 and the generic errors."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.scales import Ack, Command, ErrorKind, MtSics, Reading, ScaleError

REPLIES = [
    (b"S S      100.00 g\r\n", Reading(Decimal("100.00"), "g", stable=True)),
    (b"S S     1.234 kg\r\n", Reading(Decimal("1.234"), "kg", stable=True)),
    (b"S S     -0.02 g\r\n", Reading(Decimal("-0.02"), "g", stable=True)),
    (b"S D      129.07 g\r\n", Reading(Decimal("129.07"), "g", stable=False)),
    (b"S S      12.500 lb\r\n", Reading(Decimal("12.500"), "lb", stable=True)),
    (b"S I\r\n", ScaleError(ErrorKind.NOT_EXECUTABLE, "S I: command not executable", source="S")),
    (b"S +\r\n", ScaleError(ErrorKind.OVERLOAD, "S +: upper limit exceeded", source="S")),
    (b"S -\r\n", ScaleError(ErrorKind.UNDERLOAD, "S -: lower limit exceeded", source="S")),
    (b"ES\r\n", ScaleError(ErrorKind.SYNTAX, "ES: command not understood", source="ES")),
    (
        b"ET\r\n",
        ScaleError(ErrorKind.TRANSMISSION, "ET: transmission error (parity or break)", source="ET"),
    ),
    (
        b"EL\r\n",
        ScaleError(ErrorKind.LOGICAL, "EL: logical error, command cannot be executed", source="EL"),
    ),
    (b"Z A\r\n", Ack("Z")),
    (b"Z I\r\n", ScaleError(ErrorKind.NOT_EXECUTABLE, "Z I: command not executable", source="Z")),
    (b"Z +\r\n", ScaleError(ErrorKind.OVERLOAD, "Z +: upper limit exceeded", source="Z")),
    (b"Z -\r\n", ScaleError(ErrorKind.UNDERLOAD, "Z -: lower limit exceeded", source="Z")),
    (b"ZI S\r\n", Ack("ZI")),
    (b"ZI D\r\n", Ack("ZI", detail="zeroed while unstable")),
    (
        b"ZI I\r\n",
        ScaleError(ErrorKind.NOT_EXECUTABLE, "ZI I: command not executable", source="ZI"),
    ),
    (b"T S      100.00 g\r\n", Ack("T", Decimal("100.00"), "g")),
    (b"T I\r\n", ScaleError(ErrorKind.NOT_EXECUTABLE, "T I: command not executable", source="T")),
    (b"T +\r\n", ScaleError(ErrorKind.OVERLOAD, "T +: upper limit exceeded", source="T")),
    (b"T -\r\n", ScaleError(ErrorKind.UNDERLOAD, "T -: lower limit exceeded", source="T")),
    (b"TA A      0.100 kg\r\n", Ack("TA", Decimal("0.100"), "kg")),
    (
        b"TA I\r\n",
        ScaleError(ErrorKind.NOT_EXECUTABLE, "TA I: command not executable", source="TA"),
    ),
    (b"TA L\r\n", ScaleError(ErrorKind.LOGICAL, "TA L: parameter not allowed", source="TA")),
    (b"TAC A\r\n", Ack("TAC")),
    (
        b"TAC I\r\n",
        ScaleError(ErrorKind.NOT_EXECUTABLE, "TAC I: command not executable", source="TAC"),
    ),
    (b'I4 A "0123456789"\r\n', Ack("I4", detail="0123456789")),
    (
        b"I4 I\r\n",
        ScaleError(ErrorKind.NOT_EXECUTABLE, "I4 I: command not executable", source="I4"),
    ),
]


@pytest.mark.parametrize(("wire", "event"), REPLIES, ids=[r[0].decode().strip() for r in REPLIES])
def test_every_reply_form(wire, event, split_everywhere):
    for chunks in split_everywhere(wire):
        p = MtSics()
        got = [e for c in chunks for e in p.feed(c)]
        assert got == [event], chunks


def test_commands_are_crlf_terminated():
    p = MtSics()
    assert p.encode(Command.WEIGH_STABLE) == b"S\r\n"
    assert p.encode(Command.WEIGH) == b"SI\r\n"
    assert p.encode(Command.ZERO) == b"Z\r\n"
    assert p.encode(Command.ZERO_NOW) == b"ZI\r\n"
    assert p.encode(Command.TARE) == b"T\r\n"
    assert p.encode(Command.QUERY_TARE) == b"TA\r\n"
    assert p.encode(Command.CLEAR_TARE) == b"TAC\r\n"
    assert p.encode(Command.RESET) == b"@\r\n"
    assert p.encode(Command.IDENTIFY) == b"I4\r\n"
    assert p.encode(Command.PROBE) is None


def test_power_on_banner_then_two_frames_in_one_read():
    p = MtSics()
    events = p.feed(b'I4 A "B123"\r\nS S 1.000 kg\r\nS D 1.010 kg\r\n')
    assert events == [
        Ack("I4", detail="B123"),
        Reading(Decimal("1.000"), "kg", True),
        Reading(Decimal("1.010"), "kg", False),
    ]
    # the unsolicited I4 is not an answer to a weight request, the reading is
    assert p.reply(Command.WEIGH, events[0]) is None
    assert p.reply(Command.WEIGH, events[1]) == events[1]
    assert p.reply(Command.IDENTIFY, events[0]) == events[0]


def test_noise_between_frames_is_reported_and_parsing_continues():
    p = MtSics()
    events = p.feed(b"S S 1.000 kg\r\n\x00\xff\xfegarbage\r\nS S 2.000 kg\r\n")
    assert [type(e).__name__ for e in events] == ["Reading", "ScaleError", "Reading"]
    assert events[1].kind is ErrorKind.GARBLED
    assert events[2].weight == Decimal("2.000")


def test_unknown_replies_and_bad_numbers_are_garbled_not_crashes():
    p = MtSics()
    for line in (b"S S abc kg", b"S X 1 kg", b"Q Q", b"S", b"Z Q", b"T S 1.0"):
        (event,) = p.feed(line + b"\r\n")
        assert isinstance(event, ScaleError) and event.kind is ErrorKind.GARBLED, line


def test_bare_lf_or_cr_lines_and_blank_lines():
    p = MtSics()
    assert p.feed(b"S S 1 kg\nS S 2 kg\r\n\r\n") == [
        Reading(Decimal(1), "kg", True),
        Reading(Decimal(2), "kg", True),
    ]


def test_endless_garbage_is_bounded_and_resyncs():
    p = MtSics()
    events = []
    for _ in range(1000):
        events += p.feed(b"x" * 100)
    assert p._lines.pending <= 128
    assert sum(1 for e in events if e.kind is ErrorKind.GARBLED) == 1
    assert p.feed(b"\r\nS S 5 kg\r\n") == [Reading(Decimal(5), "kg", True)]


def test_reply_matching():
    p = MtSics()
    zero_refused = p.feed(b"Z I\r\n")[0]
    assert p.reply(Command.ZERO, zero_refused) == zero_refused
    assert p.reply(Command.WEIGH, zero_refused) is None  # a stale reply to another command
    syntax = p.feed(b"ES\r\n")[0]
    assert p.reply(Command.TARE, syntax) == syntax  # generic errors answer anything
    tare = p.feed(b"T S 0.5 kg\r\n")[0]
    assert p.reply(Command.TARE, tare) == tare
    assert p.reply(Command.QUERY_TARE, tare) is None


STREAM = (
    b'I4 A "X"\r\nS S 1.000 kg\r\nS D 0.9 kg\r\njunk\r\nS +\r\nZ A\r\nT S 0.2 kg\r\nES\r\nTAC A\r\n'
)


@settings(deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts):
    cuts = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)]
    p = MtSics()
    assert [e for c in chunks for e in p.feed(c)] == MtSics().feed(STREAM)


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data):
    p = MtSics()
    p.feed(data)
    assert p.feed(b"\r\nS S 1 kg\r\n")[-1] == Reading(Decimal(1), "kg", True)
