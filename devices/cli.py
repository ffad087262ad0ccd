"""`kucun devices ...` (or `python -m devices ...`): read scales, listen to scanners, simulate
them and receipt printers on ptys, and explain barcodes.

Exit status: 0 success; 1 the device or barcode reported an error; 2 bad usage;
3 the port could not be opened.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import signal
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from devices import PROTOCOL_NAMES
from devices.transport import SerialSettings

EXIT_OK, EXIT_DEVICE, EXIT_USAGE, EXIT_PORT = 0, 1, 2, 3


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


def _terminate_on_sigterm() -> None:
    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _shared(*flags: str, **kwargs: Any) -> argparse.ArgumentParser:
    """An option several commands share, as an argparse parent parser (`parents=[...]`):
    defined once, with one help text."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(*flags, **kwargs)
    return parent


def _serial_settings() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    g = parent.add_argument_group("line settings (default: the protocol's usual settings)")
    g.add_argument("--baud", type=int, help="baud rate, e.g. 9600")
    g.add_argument("--bytesize", type=int, choices=(7, 8), help="data bits")
    g.add_argument("--parity", choices=("N", "E", "O"), help="parity: N none, E even, O odd")
    g.add_argument("--stopbits", type=int, choices=(1, 2), help="stop bits")
    return parent


def _settings(args: argparse.Namespace, default: SerialSettings) -> SerialSettings:
    return SerialSettings(
        baudrate=args.baud or default.baudrate,
        bytesize=args.bytesize or default.bytesize,
        parity=args.parity or default.parity,
        stopbits=args.stopbits or default.stopbits,
    )


def _port_help(url: str, detail: str) -> str:
    return (
        f"cannot open {url}: {detail}. Check the cable and the port name (ls /dev/ttyUSB* "
        "/dev/ttyACM*), that no other program holds the port, and that your user may use "
        "it (group dialout)."
    )


# -- read-scale ---------------------------------------------------------------------------


def _print_scale_result(result: Any, as_json: bool) -> bool:
    from devices.scales.events import Reading

    if isinstance(result, Reading):
        if as_json:
            _emit(result.as_dict())
        else:
            flags = (" net" if result.net else "") + ("" if result.stable else " (unstable)")
            print(f"{result.weight} {result.unit}{flags}", flush=True)
        return True
    if as_json:
        _emit(result.as_dict())
    print(f"error: {result.kind}: {result.message}", file=sys.stderr, flush=True)
    return False


def cmd_read_scale(args: argparse.Namespace) -> int:
    from devices.scales import make_protocol
    from devices.scales.session import ScaleSession

    protocol = make_protocol(args.protocol, unit=args.unit)
    session = ScaleSession(
        args.port,
        protocol,
        settings=_settings(args, protocol.default_settings),
        command_timeout=min(args.timeout, 2.0),
        poll_interval=args.interval,
    )
    _terminate_on_sigterm()
    session.start()
    try:
        if not session.wait_ready(args.timeout):
            return _fail(_port_help(args.port, session.last_error or "no answer"), EXIT_PORT)
        if not args.follow:
            result = session.read_weight(
                timeout=args.timeout,
                require_stable=not args.immediate,
                consecutive=args.consecutive,
            )
            return EXIT_OK if _print_scale_result(result, args.json) else EXIT_DEVICE
        for shown, result in enumerate(session.follow(), start=1):
            _print_scale_result(result, args.json)
            if args.count and shown >= args.count:
                break
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        session.close()


# -- listen-scanner -----------------------------------------------------------------------


def _prefix_bytes(text: str) -> bytes:
    return codecs.decode(text, "unicode_escape").encode("latin-1")


def cmd_listen_scanner(args: argparse.Namespace) -> int:
    from devices.barcodes import interpret
    from devices.scanner.framing import Scan, escape
    from devices.scanner.reader import ScannerReader

    def on_state(state: Any, detail: str) -> None:
        if str(state) == "disconnected":
            print(f"scanner: {detail}; reconnecting", file=sys.stderr, flush=True)

    reader = ScannerReader(
        args.port,
        suffix=args.suffix,
        prefix=_prefix_bytes(args.prefix),
        repeat_window=args.repeat_window,
        settings=_settings(args, SerialSettings(9600, 8, "N", 1)),
        on_state=on_state,
    )
    _terminate_on_sigterm()
    reader.start()
    try:
        if not reader.wait_ready(args.timeout):
            return _fail(_port_help(args.port, reader.last_error or "no answer"), EXIT_PORT)
        print(
            f"listening on {args.port} (suffix {args.suffix}); scan a barcode",
            file=sys.stderr,
            flush=True,
        )
        seen = 0
        for event in reader.events():
            if not isinstance(event, Scan):
                if args.json:
                    _emit(event.as_dict())
                print(f"scanner: {event.reason}", file=sys.stderr, flush=True)
                continue
            if args.json:
                obj = event.as_dict()
                if args.interpret:
                    obj["barcode"] = interpret(event.code, symbology=event.symbology).as_dict()
                _emit(obj)
            else:
                print(escape(event.code), flush=True)
            seen += 1
            if args.count and seen >= args.count:
                break
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        reader.close()


# -- test-printer -------------------------------------------------------------------------


def _test_page(width: int) -> list[str]:
    """A page that shows at a glance whether width and Chinese are right: a rule as wide as
    the paper, a column ruler and Chinese text (GB18030)."""
    ruler = "".join(str(i % 10) for i in range(1, width + 1))
    return [
        "-" * width,
        ruler,
        "kucun 打印测试 / printer test",
        "中文：库存 收银 小票 ￥12.80",
        f"{width} columns / {width} 列",
        "-" * width,
    ]


def cmd_test_printer(args: argparse.Namespace) -> int:
    from devices.printer import PrinterError, ReceiptPrinter

    printer = ReceiptPrinter(
        args.port,
        args.width,
        settings=_settings(args, SerialSettings(9600, 8, "N", 1)),
        timeout=args.timeout,
    )
    _terminate_on_sigterm()
    printer.start()
    try:
        if not printer.wait_ready(args.timeout):
            return _fail(_port_help(args.port, printer.last_error or "no answer"), EXIT_PORT)
        printer.print_receipt(_test_page(args.width), kick_drawer=args.kick)
        print(f"printed a test page on {args.port} ({args.width} columns)", flush=True)
        return EXIT_OK
    except PrinterError as exc:
        return _fail(str(exc), EXIT_PORT if exc.kind == "offline" else EXIT_DEVICE)
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        printer.close()


# -- simulators ---------------------------------------------------------------------------


def cmd_sim_scale(args: argparse.Namespace) -> int:
    from devices.sim.pty import PtyPort
    from devices.sim.scale import ScaleModel, make_device
    from devices.sim.serve import serve_scale

    try:
        weight = Decimal(args.weight)
    except InvalidOperation:
        return _fail(f"--weight must be a number like 1.234, not {args.weight!r}", EXIT_USAGE)
    model = ScaleModel(
        load=weight,
        unit=args.unit,
        stable=not args.unstable,
        capacity=Decimal(args.capacity),
        decimals=args.decimals,
    )
    device = make_device(args.protocol, model, stream=args.stream)
    _terminate_on_sigterm()
    with PtyPort(args.link) as port:
        print(port.path, flush=True)
        print(
            f"simulating a {args.protocol} scale on {port.path} ({port.tty_path}); "
            "commands on stdin: weight N, stable, unstable, overload, underload, normal, "
            "silent, talk, garble, state, quit",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            serve_scale(
                device, port, out=sys.stdout, control_fd=_stdin_fd(), interval=args.interval
            )
    return EXIT_OK


def cmd_sim_scanner(args: argparse.Namespace) -> int:
    from devices.scanner.framing import unescape
    from devices.sim.pty import PtyPort
    from devices.sim.serve import serve_scanner

    codes: list[str] = []
    if args.codes:
        try:
            with open(args.codes, encoding="utf-8") as fh:
                codes = [unescape(line.strip()) for line in fh if line.strip()]
        except OSError as exc:
            return _fail(f"cannot read --codes file {args.codes}: {exc.strerror}", EXIT_USAGE)
    suffix = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}[args.suffix]
    _terminate_on_sigterm()
    with PtyPort(args.link) as port:
        print(port.path, flush=True)
        print(
            f"simulating a scanner on {port.path}; commands on stdin: scan CODE, garble, quit",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            serve_scanner(
                port,
                out=sys.stdout,
                codes=codes,
                interval=args.interval,
                suffix=suffix,
                prefix=_prefix_bytes(args.prefix),
                control_fd=_stdin_fd(),
            )
    return EXIT_OK


def cmd_sim_printer(args: argparse.Namespace) -> int:
    from devices.sim.printer import PrinterModel, serve_printer
    from devices.sim.pty import PtyPort

    try:
        record = open(args.record, "ab")  # noqa: SIM115 - held for the whole run
    except OSError as exc:
        return _fail(f"cannot write --record file {args.record}: {exc.strerror}", EXIT_USAGE)
    model = PrinterModel()
    model.paper = not args.paper_out
    _terminate_on_sigterm()
    with record, PtyPort(args.link) as port:
        print(port.path, flush=True)
        print(
            f"simulating an ESC/POS receipt printer on {port.path}, recording to "
            f"{args.record}; commands on stdin: paper out, paper in, silent, talk, jobs, quit",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            serve_printer(
                port,
                record,
                out=sys.stdout,
                log=lambda line: print(line, file=sys.stderr, flush=True),
                model=model,
                control_fd=_stdin_fd(),
            )
    return EXIT_OK


def _stdin_fd() -> int | None:
    try:
        return sys.stdin.fileno() if sys.stdin is not None else None
    except (OSError, ValueError):
        return None


# -- parse-barcode ------------------------------------------------------------------------


def cmd_parse_barcode(args: argparse.Namespace) -> int:
    from devices.barcodes import DEFAULT_PATTERNS, PatternError, VariableMeasurePattern, interpret
    from devices.scanner.framing import escape, unescape

    patterns = [] if args.no_default_patterns else list(DEFAULT_PATTERNS)
    try:
        given: list[str] = args.pattern or []
        for spec in reversed(given):
            template, sep, measure = spec.rpartition(":")
            if not sep or measure not in ("weight", "price"):
                template, measure = spec, "weight"
            patterns.insert(0, VariableMeasurePattern.parse(template, measure=measure))  # type: ignore[arg-type]
    except PatternError as exc:
        return _fail(str(exc), EXIT_USAGE)
    result = interpret(unescape(args.code), patterns=patterns)
    if args.json:
        _emit(result.as_dict())
    else:
        for key, value in result.as_dict().items():
            shown = escape(value) if isinstance(value, str) else value
            print(f"{key}: {shown}")
    if not result.ok:
        print(f"error: {result.reason}", file=sys.stderr)
        return EXIT_DEVICE
    return EXIT_OK


# -- wiring -------------------------------------------------------------------------------


def _add_commands(sub: Any) -> None:
    port = _shared(
        "--port",
        required=True,
        help="the serial port, any pyserial URL: "
        "/dev/ttyUSB0, /dev/pts/3, socket://host:4001, loop://",
    )
    protocol = _shared(
        "--protocol", required=True, choices=PROTOCOL_NAMES, help="the scale's protocol"
    )
    as_json = _shared("--json", action="store_true", help="print JSON, one object per line")
    serial = _serial_settings()
    framing = _shared(
        "--suffix",
        choices=("cr", "lf", "crlf"),
        default="cr",
        help="what the scanner sends after each code (default cr)",
    )
    framing.add_argument(
        "--prefix",
        default="",
        help="what the scanner sends before each code, if anything; escapes allowed (e.g. \\x02)",
    )
    link = _shared("--link", help="also make this symlink to the pty (stable path)")

    p = sub.add_parser(
        "read-scale",
        parents=[port, protocol, as_json, serial],
        help="read one weight from a scale (or keep reading with --follow)",
        description="Ask a scale for one weight (or wait for one, for continuous protocols), "
        "print it and exit 0. An error reply (overload, motion, timeout, ...) is "
        "printed to stderr and exits 1.",
    )
    p.add_argument("--follow", action="store_true", help="keep printing readings until killed")
    p.add_argument("--count", type=int, default=0, help="with --follow: stop after N lines")
    p.add_argument(
        "--timeout",
        type=float,
        default=3.0,
        help="seconds to wait for a (stable) weight (default 3)",
    )
    p.add_argument(
        "--immediate",
        action="store_true",
        help="accept an unstable weight instead of waiting for stability",
    )
    p.add_argument(
        "--consecutive",
        type=int,
        default=1,
        help="require N equal stable readings in a row (default 1)",
    )
    p.add_argument(
        "--unit",
        default="kg",
        help="unit the scale is set to; only the toledo8217 protocol needs it",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=0.1,
        help="seconds between polls when waiting or following (default 0.1)",
    )
    p.set_defaults(func=cmd_read_scale)

    p = sub.add_parser(
        "listen-scanner",
        parents=[port, framing, as_json, serial],
        help="print one line per barcode scanned on a serial scanner",
        description="Listen to a serial barcode scanner and print one line per scan. AIM "
        "identifiers are stripped (see --json), GS separators shown as <GS>, a "
        "repeat of the same code within --repeat-window seconds is dropped.",
    )
    p.add_argument(
        "--interpret", action="store_true", help="with --json: add the barcode interpretation"
    )
    p.add_argument("--count", type=int, default=0, help="exit after N scans")
    p.add_argument(
        "--repeat-window",
        type=float,
        default=0.6,
        help="ignore the same code again within S seconds (default 0.6)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help="seconds to wait for the port to open (default 5)",
    )
    p.set_defaults(func=cmd_listen_scanner)

    p = sub.add_parser(
        "test-printer",
        parents=[port, serial],
        help="print a test page on an ESC/POS receipt printer",
        description="Print a test page (a ruler as wide as the paper, Chinese text) and cut. "
        "Exit 1 when the printer refuses (out of paper, jammed), 3 when the port cannot be "
        "opened.",
    )
    p.add_argument(
        "--width", type=int, default=32, help="columns: 32 on 58 mm paper, 42 or 48 on 80 mm"
    )
    p.add_argument("--kick", action="store_true", help="also open the cash drawer")
    p.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for the printer (default 5)"
    )
    p.set_defaults(func=cmd_test_printer)

    p = sub.add_parser(
        "sim-scale",
        parents=[protocol, link],
        help="simulate a scale on a new pty; prints the pty path first",
        description="Simulate a scale on a pseudo-terminal. The first stdout line is the path "
        "to open. Serves until killed. Control on stdin, one command per line: "
        "weight N, stable, unstable, toggle, overload, underload, normal, silent, "
        "talk, garble, state, quit. SIGUSR1 toggles stability.",
    )
    p.add_argument("--weight", default="0", help="weight on the platter (default 0)")
    p.add_argument("--unstable", action="store_true", help="start in motion")
    p.add_argument("--unit", default="kg", help="display unit (default kg)")
    p.add_argument("--capacity", default="30", help="overload above this (default 30)")
    p.add_argument("--decimals", type=int, default=3, help="display decimals (default 3)")
    p.add_argument(
        "--interval",
        type=float,
        default=0.1,
        help="seconds between frames of continuous protocols (default 0.1)",
    )
    p.add_argument("--stream", action="store_true", help="ad: stream frames continuously")
    p.set_defaults(func=cmd_sim_scale)

    p = sub.add_parser(
        "sim-scanner",
        parents=[framing, link],
        help="simulate a serial scanner on a new pty; prints the pty path first",
        description="Simulate a serial barcode scanner on a pseudo-terminal. The first stdout "
        "line is the path to open. Sends the codes from --codes round-robin every "
        "--interval seconds, and `scan CODE` lines from stdin at once.",
    )
    p.add_argument("--codes", help="file with one code per line (GS as \\x1d or <GS>)")
    p.add_argument(
        "--interval", type=float, default=1.0, help="seconds between codes from --codes (default 1)"
    )
    p.set_defaults(func=cmd_sim_scanner)

    p = sub.add_parser(
        "sim-printer",
        parents=[link],
        help="simulate an ESC/POS receipt printer on a new pty; prints the pty path first",
        description="Simulate an ESC/POS receipt printer on a pseudo-terminal. The first "
        "stdout line is the path to open. Every byte received is appended to --record; "
        "each job (up to a cut) is summed up on stderr. Answers DLE EOT status requests. "
        "Control on stdin, one command per line: paper out, paper in, silent, talk, jobs, "
        "quit.",
    )
    p.add_argument("--record", required=True, help="file every received byte is appended to")
    p.add_argument("--paper-out", action="store_true", help="start with the paper roll empty")
    p.set_defaults(func=cmd_sim_printer)

    p = sub.add_parser(
        "parse-barcode",
        parents=[as_json],
        help="explain a barcode: product, weight, price, lot, expiry",
        description="Interpret a barcode as the till would. GS separators may be written "
        "\\x1d or <GS>. Exit 1 with the reason when the code is invalid or unknown.",
    )
    p.add_argument("code", metavar="CODE", help="the barcode's text, as a scanner sends it")
    p.add_argument(
        "--pattern",
        action="append",
        metavar="TEMPLATE[:weight|price]",
        help="extra in-store pattern, tried first, e.g. '22PPPPP{NNNDD}C:price'",
    )
    p.add_argument(
        "--no-default-patterns",
        action="store_true",
        help="do not use the built-in Chinese label-scale patterns",
    )
    p.set_defaults(func=cmd_parse_barcode)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `devices` command group to an existing argparse subparsers object."""
    parser = subparsers.add_parser(
        "devices",
        help="barcode scanners, weighing scales and receipt printers",
        description="Serial barcode scanners, weighing scales and receipt printers: read, "
        "listen, simulate, and interpret barcodes.",
    )
    sub = parser.add_subparsers(dest="devices_command", required=True, metavar="COMMAND")
    _add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m devices COMMAND ...` (a leading `devices` is accepted too)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["devices"]:
        args_list = args_list[1:]
    parser = argparse.ArgumentParser(
        prog="python -m devices",
        description="Serial barcode scanners, weighing scales and receipt printers.",
    )
    sub = parser.add_subparsers(dest="devices_command", required=True, metavar="COMMAND")
    _add_commands(sub)
    args = parser.parse_args(args_list)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
