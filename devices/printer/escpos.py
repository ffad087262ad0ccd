"""ESC/POS bytes for a receipt, and nothing else: pure, no I/O.

Thermal receipt printers sold in China take text in GB18030 (GBK on older models) once put
in Chinese character mode with `FS &`; outside that mode a byte above 0x7F is a code-page
character, so Chinese would print as garbage. Every job therefore starts with `ESC @`
(reset) and `FS &`, and is written as plain lines ending in LF.

The commands used, and the only ones `devices.sim.printer.read_jobs` must understand for
our own output (it also reads a few more that other software sends):

    ESC @            initialise              1B 40
    FS &             Chinese mode on         1C 26
    ESC a n          align (0 left, 1 centre) 1B 61 n
    ESC E n          bold on/off             1B 45 n
    GS ! n           character size (0x11: double width and height)   1D 21 n
    ESC d n          print and feed n lines  1B 64 n
    ESC p 0 25 250   drawer kick, pin 2, 50 ms on, 500 ms off            1B 70 00 19 FA
    GS V 1           partial cut             1D 56 01
"""

from __future__ import annotations

from collections.abc import Sequence

ESC = 0x1B
FS = 0x1C
GS = 0x1D
DLE = 0x10
LF = 0x0A

INIT = b"\x1b@"
CHINESE_ON = b"\x1c&"
CHINESE_OFF = b"\x1c."
ALIGN_LEFT = b"\x1ba\x00"
ALIGN_CENTRE = b"\x1ba\x01"
BOLD_ON = b"\x1bE\x01"
BOLD_OFF = b"\x1bE\x00"
SIZE_NORMAL = b"\x1d!\x00"
SIZE_DOUBLE = b"\x1d!\x11"
#: pin 2 (the usual drawer socket), 25 × 2 ms on, 250 × 2 ms off
DRAWER_KICK = b"\x1bp\x00\x19\xfa"
PARTIAL_CUT = b"\x1dV\x01"
#: DLE EOT 4: ask for the paper roll sensor (one status byte comes back)
PAPER_STATUS = b"\x10\x04\x04"
#: in a DLE EOT 4 answer: paper end detected (bits 5 and 6)
PAPER_END_BITS = 0x60

ENCODING = "gb18030"

#: lines fed before the cut, so the last printed line clears the cutter
FEED_BEFORE_CUT = 4


def text_line(line: str) -> bytes:
    """One line of text in GB18030, with its LF. Control characters are dropped: a product
    name holding an ESC or a newline must not become a printer command or a second line."""
    clean = "".join(ch for ch in line if ch >= " " and ch != "\x7f")
    return clean.encode(ENCODING, errors="replace") + b"\n"


def feed(lines: int) -> bytes:
    """Print what is buffered and feed `lines` blank lines (0–255)."""
    return b"\x1bd" + bytes([max(0, min(255, lines))])


def receipt(
    lines: Sequence[str],
    *,
    title: str | None = None,
    kick_drawer: bool = False,
    cut: bool = True,
) -> bytes:
    """A whole print job: reset, Chinese mode, the drawer kick first (the drawer opens while
    the paper prints), an optional centred bold double-size `title`, the lines, feed, cut."""
    out = bytearray(INIT + CHINESE_ON)
    if kick_drawer:
        out += DRAWER_KICK
    if title is not None:
        out += ALIGN_CENTRE + BOLD_ON + SIZE_DOUBLE + text_line(title)
        out += SIZE_NORMAL + BOLD_OFF + ALIGN_LEFT
    for line in lines:
        out += text_line(line)
    if cut:
        out += feed(FEED_BEFORE_CUT) + PARTIAL_CUT
    return bytes(out)


def drawer_kick() -> bytes:
    """Open the cash drawer without printing (a "no sale")."""
    return INIT + DRAWER_KICK


def paper_out(status: int) -> bool:
    """Whether a DLE EOT 4 status byte says the roll is out."""
    return status & PAPER_END_BITS == PAPER_END_BITS
