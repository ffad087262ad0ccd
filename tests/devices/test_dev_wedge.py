"""Keyboard-wedge detection: scanner bursts versus human typing, from timestamps only."""

from devices.scanner import WedgeDetector, is_scanner_burst


def type_keys(det: WedgeDetector, text: str, start: float, gap: float):
    t = start
    for ch in text:
        assert det.feed(ch, t) is None
        t += gap
    return det.feed("enter", t), t


def test_scanner_burst_is_a_scan():
    result, _ = type_keys(WedgeDetector(), "6901234567892", 10.0, 0.004)
    assert result.is_scan and result.scanned == "6901234567892"


def test_human_typing_is_not_a_scan():
    result, _ = type_keys(WedgeDetector(), "6901234567892", 10.0, 0.150)
    assert not result.is_scan and result.text == "6901234567892"


def test_fast_human_is_still_human():
    result, _ = type_keys(WedgeDetector(), "12345", 0.0, 0.060)
    assert not result.is_scan


def test_short_bursts_are_not_scans():
    result, _ = type_keys(WedgeDetector(), "12", 0.0, 0.002)
    assert not result.is_scan


def test_one_event_loop_hiccup_inside_a_burst_is_tolerated():
    det = WedgeDetector()
    times = [0.000, 0.005, 0.010, 0.080, 0.085, 0.090, 0.095, 0.100, 0.105, 0.110]
    for i, t in enumerate(times):
        det.feed(str(i), t)
    assert det.feed("enter", 0.115).is_scan


def test_scan_after_typing_picks_out_the_burst():
    det = WedgeDetector()
    for i, ch in enumerate("qty"):
        det.feed(ch, 1.0 + i * 0.2)
    for i, ch in enumerate("96385074"):
        det.feed(ch, 2.0 + i * 0.003)
    result = det.feed("enter", 2.03)
    assert result.text == "qty96385074" and result.scanned == "96385074"


def test_enter_long_after_the_burst_is_human():
    det = WedgeDetector()
    for i, ch in enumerate("96385074"):
        det.feed(ch, i * 0.003)
    assert not det.feed("enter", 2.0).is_scan


def test_non_character_keys_are_ignored():
    det = WedgeDetector()
    det.feed("left", 0.0)
    for i, ch in enumerate("1234"):
        det.feed(ch, i * 0.002)
    assert det.feed("\r", 0.01).scanned == "1234"


def test_pure_function():
    assert is_scanner_burst([0, 0.01, 0.02, 0.03], 0.04)
    assert not is_scanner_burst([0, 0.1, 0.2, 0.3], 0.4)
    assert not is_scanner_burst([0.3, 0.2, 0.1, 0.0], 0.4)  # clock going backwards
