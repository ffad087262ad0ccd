"""ReceiptPrinter against `python -m devices sim-printer` on real ptys: what reaches the
paper, the drawer kick, paper out, a printer that stops reading, unplugging, replugging."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from devices.port import Backoff, PortState
from devices.printer import PrinterError, ReceiptPrinter, escpos
from devices.sim.printer import PrintJob, read_jobs
from node.receipt import sale_receipt
from protocol.events import DocLine, Document, Tender

FAST = Backoff(initial=0.02, maximum=0.2)


def _until(check: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait for a condition the device threads bring about (no time is asserted)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(0.02)


def _jobs(record: Path, count: int) -> list[PrintJob]:
    """The recording's cut jobs, once `count` of them have arrived."""
    jobs: list[PrintJob] = []

    def arrived() -> bool:
        nonlocal jobs
        jobs = [job for job in read_jobs(record.read_bytes()) if job.cut]
        return len(jobs) >= count

    _until(arrived)
    return jobs


def _finishes(call: Callable[[], object], bound: float = 10.0) -> BaseException | None:
    """Run `call` on a thread; it must come back (return or raise) within `bound` s: the
    till's screen must never wait on a printer for ever. Returns what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(bound)
    assert not thread.is_alive(), "print_receipt hung"
    return raised[0] if raised else None


@pytest.fixture
def printer_for():
    printers: list[ReceiptPrinter] = []

    def open_printer(url: str, **kw) -> ReceiptPrinter:
        kw.setdefault("backoff", FAST)
        printer = ReceiptPrinter(url, **kw).start()
        printers.append(printer)
        return printer

    yield open_printer
    for printer in printers:
        printer.close()


def _sale() -> Document:
    return Document(
        doc="S01-T1-42",
        type="sale",
        location="S01",
        lines=[
            DocLine(sku="COKE", qty=2000, unit_price=350, amount=700),
            DocLine(sku="APPLE", qty=1000, unit_price=1280, amount=1180, discount=100),
        ],
        tenders=[Tender(method="cash", amount=1880)],
    )


NAMES = {"COKE": "可口可乐 330ml", "APPLE": "新疆阿克苏冰糖心红富士苹果特级大果礼盒装"}


def test_a_receipt_with_a_drawer_kick_reaches_the_paper(cli_sim, printer_for, tmp_path):
    record = tmp_path / "paper.bin"
    sim = cli_sim("sim-printer", "--record", str(record))
    printer = printer_for(sim.path)
    assert printer.wait_ready(5), printer.last_error
    assert printer.state is PortState.READY
    lines = sale_receipt(
        _sale(),
        store_name="库存超市 人民路店",
        till="S01-T1",
        cashier="张三",
        at="2026-12-02T13:05:11",
        change=120,
        lang="zh-CN",
        width=printer.width,
        names=NAMES,
    )
    printer.print_receipt(lines, kick_drawer=True)
    [job] = _jobs(record, 1)
    assert job.lines == lines
    assert "可口可乐 330ml" in job.lines and "小票号                 S01-T1-42" in job.lines
    assert job.cut and job.drawer_kicks == 1
    assert sim.control("jobs") == "ok 1 jobs"

    printer.reprint_last()  # a copy: same text, the drawer stays shut
    printer.print_receipt(["card sale"])  # no cash, no kick
    jobs = _jobs(record, 3)
    assert jobs[1].lines == lines and jobs[1].drawer_kicks == 0
    assert jobs[2].lines == ["card sale"] and jobs[2].drawer_kicks == 0

    printer.open_drawer()
    _until(lambda: read_jobs(record.read_bytes())[-1] == PrintJob([], False, 1))


def test_a_killed_printer_goes_offline_and_printing_fails_clearly(cli_sim, printer_for, tmp_path):
    record, link = tmp_path / "paper.bin", tmp_path / "ttyPRN"
    sim = cli_sim("sim-printer", "--record", str(record), "--link", str(link))
    printer = printer_for(sim.path, timeout=3.0)
    assert printer.wait_ready(5), printer.last_error
    printer.print_receipt(["before"])
    _jobs(record, 1)

    sim.proc.kill()  # unplugged: the pty vanishes
    sim.proc.wait(5)
    # its device name goes with it (the stale link would soon name another test's pty)
    link.unlink()
    _until(lambda: printer.state is PortState.DISCONNECTED)

    error = _finishes(lambda: printer.print_receipt(["after"], kick_drawer=True))
    assert isinstance(error, PrinterError)
    assert error.kind == "offline"
    assert str(error) == (
        f"the receipt printer at {sim.path} is offline: check its cable and power"
    )
    assert error.fields["detail"]  # why, for the log
    assert [job.lines for job in read_jobs(record.read_bytes())] == [["before"]]


def test_the_printer_comes_back_on_the_same_link(cli_sim, printer_for, tmp_path):
    link = str(tmp_path / "ttyPRN")
    first, second = tmp_path / "first.bin", tmp_path / "second.bin"
    sim = cli_sim("sim-printer", "--record", str(first), "--link", link)
    states: list[PortState] = []
    printer = printer_for(link, on_state=lambda state, _detail: states.append(state))
    assert printer.wait_ready(5), printer.last_error
    sim.kill()
    _until(lambda: printer.state is PortState.DISCONNECTED)

    cli_sim("sim-printer", "--record", str(second), "--link", link)
    _until(lambda: printer.state is PortState.READY)
    printer.print_receipt(["再次连接"])
    assert _jobs(second, 1)[0].lines == ["再次连接"]
    assert first.read_bytes() == b""
    assert PortState.DISCONNECTED in states and states[-1] is PortState.READY


def test_paper_out_is_an_error_state_until_a_roll_is_in(cli_sim, printer_for, tmp_path):
    record = tmp_path / "paper.bin"
    sim = cli_sim("sim-printer", "--record", str(record), "--paper-out")
    printer = printer_for(sim.path)
    assert printer.wait_ready(5), printer.last_error

    error = _finishes(lambda: printer.print_receipt(["no paper"], kick_drawer=True))
    assert isinstance(error, PrinterError) and error.kind == "paper_out"
    assert "out of paper" in str(error)
    assert printer.state is PortState.ERROR
    assert record.read_bytes() == escpos.PAPER_STATUS  # asked, printed nothing

    assert sim.control("paper in") == "ok paper in"
    assert printer.refresh() is PortState.READY  # a look, without printing
    assert sim.control("paper out") == "ok paper out"
    assert printer.refresh() is PortState.ERROR
    assert printer.last_error.endswith("put in a new roll and print again")
    assert sim.control("paper in") == "ok paper in"
    assert printer.reprint_last()  # the receipt that found no paper, drawer shut
    [job] = _jobs(record, 1)
    assert job.lines == ["no paper"] and job.drawer_kicks == 0
    printer.print_receipt(["有纸了"])
    assert _jobs(record, 2)[1].lines == ["有纸了"]
    assert printer.state is PortState.READY


def test_a_printer_that_never_answers_status_still_prints_and_is_asked_once(
    cli_sim, printer_for, tmp_path
):
    record = tmp_path / "paper.bin"
    sim = cli_sim("sim-printer", "--record", str(record))
    sim.control("silent")
    printer = printer_for(sim.path, status_timeout=0.2)
    assert printer.wait_ready(5), printer.last_error
    printer.print_receipt(["one"])
    printer.print_receipt(["two"])
    assert [job.lines for job in _jobs(record, 2)] == [["one"], ["two"]]
    assert record.read_bytes().count(escpos.PAPER_STATUS) == 1


@pytest.mark.slow
def test_a_printer_that_stops_reading_times_out_and_recovers(cli_sim, printer_for, tmp_path):
    record = tmp_path / "paper.bin"
    sim = cli_sim("sim-printer", "--record", str(record))
    printer = printer_for(sim.path, timeout=3.0, status_timeout=0.2)
    assert printer.wait_ready(5), printer.last_error
    printer.print_receipt(["warm up"])  # learns that it answers status
    _jobs(record, 1)

    os.kill(sim.proc.pid, signal.SIGSTOP)  # jammed: the port is there, nothing is read
    try:
        long_receipt = ["x" * 32] * 200
        error: BaseException | None = None
        for _ in range(30):  # until the pty's buffer is full
            error = _finishes(lambda: printer.print_receipt(long_receipt))
            if error is not None:
                break
        assert isinstance(error, PrinterError) and error.kind == "timeout"
        assert "did not take the receipt" in str(error)
        assert printer.state is PortState.ERROR
    finally:
        os.kill(sim.proc.pid, signal.SIGCONT)

    def prints() -> bool:
        try:
            printer.print_receipt(["恢复"])
        except PrinterError:
            return False
        return True

    _until(prints)
    # the receipt cut short by the jam is on the same strip of paper, before it
    _until(lambda: read_jobs(record.read_bytes())[-1].lines[-1:] == ["恢复"])
    assert read_jobs(record.read_bytes())[-1].cut
    assert printer.state is PortState.READY


def test_a_closed_printer_refuses(printer_for):
    printer = printer_for("loop://")
    printer.close()
    with pytest.raises(PrinterError) as caught:
        printer.print_receipt(["x"])
    assert caught.value.kind == "closed"


def test_sim_printer_refuses_a_record_file_it_cannot_write(run_cli, tmp_path):
    result = run_cli("sim-printer", "--record", str(tmp_path / "no" / "such" / "dir.bin"))
    assert result.returncode == 2
    assert "cannot write --record file" in result.stderr


def test_test_printer_prints_a_page_as_wide_as_the_paper(cli_sim, run_cli, tmp_path):
    record = tmp_path / "paper.bin"
    sim = cli_sim("sim-printer", "--record", str(record))
    result = run_cli("test-printer", "--port", sim.path, "--width", "42", "--kick")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"printed a test page on {sim.path} (42 columns)\n"
    [job] = _jobs(record, 1)
    assert job.lines[:2] == ["-" * 42, "123456789012345678901234567890123456789012"]
    assert "中文：库存 收银 小票 ￥12.80" in job.lines
    assert job.drawer_kicks == 1


def test_test_printer_says_why_it_could_not(cli_sim, run_cli, tmp_path):
    sim = cli_sim("sim-printer", "--record", str(tmp_path / "paper.bin"), "--paper-out")
    result = run_cli("test-printer", "--port", sim.path)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: the receipt printer at {sim.path} is out of paper: "
        "put in a new roll and print again\n"
    )
    missing = run_cli("test-printer", "--port", str(tmp_path / "ttyNONE"), "--timeout", "0.5")
    assert missing.returncode == 3
    assert missing.stderr.startswith(f"error: cannot open {tmp_path / 'ttyNONE'}")
