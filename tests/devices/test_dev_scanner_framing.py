"""Scanner framing: suffixes, prefix, AIM identifiers, GS kept, repeats dropped, bounded."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.lines import LineSplitter, Overflow
from devices.scanner import GS, Scan, ScanDecoder, ScanError, escape, split_aim, unescape


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("suffix", "wire"),
    [
        ("cr", b"6901234567892\r"),
        ("lf", b"6901234567892\n"),
        ("crlf", b"6901234567892\r\n"),
    ],
)
def test_suffixes(suffix, wire, split_everywhere):
    for chunks in split_everywhere(wire * 2):
        d = ScanDecoder(suffix, repeat_window=0)
        events = [e for c in chunks for e in d.feed(c)]
        assert events == [Scan("6901234567892")] * 2


def test_mismatched_suffix_setting_still_yields_clean_codes():
    d = ScanDecoder("cr", repeat_window=0)
    assert d.feed(b"111\r\n222\r\n") == [Scan("111"), Scan("222")]


@pytest.mark.parametrize(
    ("wire", "code", "aim"),
    [
        (b"]E06901234567892\r", "6901234567892", "]E0"),
        (b"]E496385074\r", "96385074", "]E4"),
        (b"]C1010950600013435210ABC\x1d17261231\r", "010950600013435210ABC\x1d17261231", "]C1"),
        (b"]d2010950600013435221SER1\r", "010950600013435221SER1", "]d2"),
        (b"]Q3010950600013435210L1\r", "010950600013435210L1", "]Q3"),
        (b"]A0CODE39\r", "CODE39", "]A0"),
        (b"no aim\r", "no aim", None),
        (b"]]x\r", "]]x", None),
    ],
)
def test_aim_identifiers_recorded_and_stripped(wire, code, aim):
    (scan,) = ScanDecoder().feed(wire)
    assert scan == Scan(code, aim)


def test_symbology_names():
    assert Scan("x", "]C1").symbology_name == "GS1-128"
    assert Scan("x", "]E4").symbology_name == "EAN-8"
    assert Scan("x", "]Q1").symbology_name == "QR Code"
    assert Scan("x").symbology_name is None


def test_gs_separator_preserved():
    (scan,) = ScanDecoder().feed(b"010950600013435210LOT\x1d21SER\r")
    assert GS in scan.code and scan.code.endswith("21SER")
    assert escape(scan.code) == "010950600013435210LOT<GS>21SER"
    assert unescape("10LOT<GS>21") == unescape("10LOT\\x1d21") == "10LOT\x1d21"


def test_prefix_stripped_and_required():
    d = ScanDecoder("cr", prefix=b"\x02", repeat_window=0)
    assert d.feed(b"\x02123\r") == [Scan("123")]
    (err,) = d.feed(b"456\r")
    assert isinstance(err, ScanError) and "prefix" in err.reason


def test_repeat_within_window_is_ignored_with_injected_clock():
    clock = FakeClock()
    d = ScanDecoder("cr", repeat_window=0.5, clock=clock)
    assert d.feed(b"A\r") == [Scan("A")]
    clock.now += 0.2
    assert d.feed(b"A\r") == []  # double read
    clock.now += 0.4
    assert d.feed(b"A\r") == []  # still re-read: the window slides
    clock.now += 0.6
    assert d.feed(b"A\r") == [Scan("A")]  # after a pause: a deliberate second scan
    assert d.feed(b"B\r") == [Scan("B")]
    assert d.feed(b"A\r") == [Scan("A")]  # different code in between


def test_utf8_and_gb18030_payloads():
    d = ScanDecoder(repeat_window=0)
    assert d.feed("苹果\r".encode()) == [Scan("苹果")]
    assert d.feed("苹果\r".encode("gb18030")) == [Scan("苹果")]
    assert d.feed(b"\xff\xfe\r")[0].code  # undecodable still yields text (latin-1)


def test_overlong_scan_is_an_error_and_decoder_recovers():
    d = ScanDecoder("cr", max_length=32)
    events = d.feed(b"9" * 100 + b"\r123\r")
    assert isinstance(events[0], ScanError) and "suffix" in events[0].reason
    assert events[1] == Scan("123")


def test_empty_lines_are_skipped():
    assert ScanDecoder().feed(b"\r\r\n\r") == []


def test_split_aim():
    assert split_aim("]e0123") == ("]e0", "123")
    assert split_aim("]") == (None, "]")


@settings(deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=20), st.integers(1, 40))
def test_line_splitter_chunking_invariance(parts, max_line):
    data = b"\n".join(parts) + b"\n"
    whole = LineSplitter(b"\n", max_line).feed(data)
    bytewise = LineSplitter(b"\n", max_line)
    assert [x for b in data for x in bytewise.feed(bytes([b]))] == whole
    for item in whole:
        assert isinstance(item, Overflow) or len(item) <= max_line


@settings(deadline=None)
@given(
    st.lists(st.text(alphabet="0123456789ABC\x1d", min_size=1, max_size=30), max_size=10),
    st.lists(st.integers(0, 400), max_size=8),
)
def test_scan_stream_any_chunking(codes, cuts):
    data = b"".join(c.encode() + b"\r" for c in codes)
    cuts = sorted({c for c in cuts if c <= len(data)})
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    d = ScanDecoder("cr", repeat_window=0)
    assert [e for c in chunks for e in d.feed(c)] == [Scan(c) for c in codes]
