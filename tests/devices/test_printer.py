"""ESC/POS bytes of a receipt, and the decoder that reads them back: pure, byte by byte."""

from __future__ import annotations

import pytest

from devices.printer import escpos
from devices.sim.printer import JobDecoder, PrintJob, read_jobs

KUCUN = "库存".encode("gb18030")  # b"\xbf\xe2\xb4\xe6"


def test_a_job_is_reset_chinese_mode_kick_lines_feed_and_cut():
    data = escpos.receipt(["abc", "库存"], kick_drawer=True)
    assert (
        data
        == (
            b"\x1b@"  # ESC @
            b"\x1c&"  # FS &: Chinese mode
            b"\x1bp\x00\x19\xfa"  # ESC p 0 25 250
            b"abc\n" + KUCUN + b"\n"
            b"\x1bd\x04"  # ESC d 4
            b"\x1dV\x01"  # GS V 1: partial cut
        )
    )


def test_chinese_is_gb18030_and_the_kick_is_optional():
    assert KUCUN == b"\xbf\xe2\xb4\xe6"
    data = escpos.receipt(["库存"])
    assert escpos.DRAWER_KICK not in data
    assert data.startswith(escpos.INIT + escpos.CHINESE_ON)


def test_the_title_is_centred_bold_and_double_size_then_back_to_normal():
    data = escpos.receipt(["x"], title="库存超市", cut=False)
    title = escpos.ALIGN_CENTRE + escpos.BOLD_ON + escpos.SIZE_DOUBLE
    assert title + "库存超市".encode("gb18030") + b"\n" in data
    after = escpos.SIZE_NORMAL + escpos.BOLD_OFF + escpos.ALIGN_LEFT + b"x\n"
    assert data.endswith(after)
    assert escpos.PARTIAL_CUT not in data


def test_control_characters_in_a_line_never_become_commands_or_lines():
    assert escpos.text_line("a\x1bd\x05b\nc\x7f") == b"adbc\n"
    assert escpos.text_line("\x1dV\x00") == b"V\n"


def test_a_character_gb18030_lacks_is_replaced_not_fatal():
    assert escpos.text_line("a\udcffb") == b"a?b\n"


def test_feed_is_clamped_to_a_byte():
    assert escpos.feed(300) == b"\x1bd\xff"
    assert escpos.feed(-1) == b"\x1bd\x00"


def test_paper_status_bits():
    assert escpos.paper_out(0x72)
    assert not escpos.paper_out(0x12)
    assert not escpos.paper_out(0x1E)  # paper near its end still prints


def test_a_drawer_kick_alone_prints_nothing():
    assert read_jobs(escpos.drawer_kick()) == [PrintJob([], cut=False, drawer_kicks=1)]


# -- decoding ---------------------------------------------------------------------------

LINES = [
    "库存超市 人民路店",
    "小票号          S01-T1-42",
    "可口可乐 330ml",
    "  2 x 3.50            7.00",
    "𠮷野家 ¥ €",  # a four-byte GB18030 character, and signs outside ASCII
    "",
    "TOTAL                 7.00",
]


def test_what_is_encoded_reads_back_chinese_included():
    data = escpos.receipt(LINES, title="收银小票", kick_drawer=True)
    [job] = read_jobs(data)
    assert job.lines == ["收银小票", *LINES]
    assert job.cut and job.drawer_kicks == 1
    assert job.big == [0] and job.bold == [0]
    assert job.fed == escpos.FEED_BEFORE_CUT
    assert job.unknown == []


def test_several_jobs_split_at_cuts_and_a_trailing_one_is_not_cut():
    data = (
        escpos.receipt(["one"], kick_drawer=True)
        + escpos.receipt(["two", "二"])
        + escpos.receipt(["three"], cut=False)
    )
    jobs = read_jobs(data)
    assert [(j.lines, j.cut, j.drawer_kicks) for j in jobs] == [
        (["one"], True, 1),
        (["two", "二"], True, 0),
        (["three"], False, 0),
    ]


def test_nothing_gives_no_job():
    assert read_jobs(b"") == []
    assert read_jobs(escpos.INIT + escpos.CHINESE_ON) == []


def test_chunks_split_anywhere_decode_the_same(split_everywhere):
    data = escpos.receipt(["库存 abc", "𠮷"], title="题", kick_drawer=True) + escpos.PAPER_STATUS
    whole = read_jobs(data)
    for chunks in split_everywhere(data):
        decoder = JobDecoder()
        jobs = [job for chunk in chunks for job in decoder.feed(chunk)] + decoder.finish()
        assert jobs == whole
        assert decoder.requests == [4]


def test_without_chinese_mode_the_bytes_are_a_code_page_not_chinese():
    """What a printer shows when the driver forgets FS &: the decoder does not hide it."""
    [job] = read_jobs(escpos.INIT + "库存".encode("gb18030") + b"\n")
    assert job.lines[0] != "库存"
    assert job.lines[0] == "库存".encode("gb18030").decode("cp437")


def test_chinese_mode_off_mid_line():
    data = escpos.CHINESE_ON + KUCUN + escpos.CHINESE_OFF + b"\x82\n"
    assert read_jobs(data)[0].lines == ["库存é"]


def test_reset_discards_what_was_not_printed_yet():
    data = escpos.CHINESE_ON + b"lost" + escpos.INIT + escpos.CHINESE_ON + b"kept\n"
    assert read_jobs(data)[0].lines == ["kept"]


@pytest.mark.parametrize(
    ("cut", "rest"),
    [
        (b"\x1dV\x00", b""),  # full cut
        (b"\x1dV\x01", b""),
        (b"\x1dV0", b""),
        (b"\x1dV1", b""),
        (b"\x1dVA\x03", b""),  # feed 3 and cut: one more byte
        (b"\x1dVB\x00", b""),
    ],
)
def test_every_form_of_gs_v_cuts(cut, rest):
    jobs = read_jobs(b"a\n" + cut + rest + b"b\n")
    assert [(j.lines, j.cut) for j in jobs] == [(["a"], True), (["b"], False)]


def test_other_software_commands_are_understood_or_skipped():
    data = (
        b"\x1b!\x38big bold\n"  # ESC ! : bold + double height + double width
        b"\x1b!\x00"
        b"\x1d(k\x03\x001C\x03"  # GS ( k: a QR code setting, length-prefixed: skipped
        b"\x10\x14\x01\x00\x05"  # DLE DC4 1: real-time drawer pulse
        b"\x10\x04\x01"  # DLE EOT 1: status request
        b"\x1c!\x0cfs big\n"  # FS ! : Chinese double size
        b"\x1d!\x00\x1c!\x00"
        b"\x1bz\x01"  # unknown ESC z: two bytes skipped, noted
        b"tab\there\r\n"
    )
    decoder = JobDecoder()
    assert decoder.feed(data) == []
    [job] = decoder.finish()
    assert job.lines == ["big bold", "fs big", "tab here"]  # its \x01 is no text
    assert job.big == [0, 1] and job.bold == [0]
    assert job.drawer_kicks == 1
    assert job.unknown == [b"\x1bz"]
    assert decoder.requests == [1]


def test_an_incomplete_command_at_the_end_is_waited_for_then_dropped():
    decoder = JobDecoder()
    assert decoder.feed(b"ab\n\x1bp\x00") == []
    assert decoder.feed(b"\x19") == []
    assert decoder.feed(b"\xfa") == []
    [job] = decoder.finish()
    assert job.drawer_kicks == 1
    assert read_jobs(b"ab\n\x1bp\x00")[0] == PrintJob(["ab"], cut=False, drawer_kicks=0)
