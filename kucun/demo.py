"""`kucun demo`: NATS, a hub and a store node on loopback, with sample data.

Everything real: the nats-server binary, the hub as its own process, the node's ledger on
disk under --dir, a scanner, a scale and a receipt printer simulated on ptys. Run twice,
it reuses what the first run created; `reset=True` (`--reset`) starts from fresh sample
data, removing only the demo's own files. The simulated scanner scans only when asked
(Ctrl+T in the till, or the palette's "scan a sample"), so it never overwrites what the
cashier is reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from kucun.natsserver import NatsServer, free_port, wait_for_port
from node import sync
from node.service import Node
from protocol.i18n import language

SAMPLE_PRODUCTS = [
    # sku, name, barcode, price, unit, received qty, cost
    ("COLA-330", "可口可乐 330ml", "6901234567892", "3.00", "pcs", "48", "1.80"),
    ("NOODLE-5", "康师傅红烧牛肉面 5连包", "6920152400012", "13.50", "pcs", "20", "9.60"),
    ("RICE-5KG", "五常大米 5kg", "6970000000017", "59.90", "pcs", "10", "42.00"),
    ("APPLE", "红富士苹果 (散装)", "00123", "9.80", "kg", "25.000", "6.50"),
    ("EGG", "鸡蛋 (散装)", None, "7.60", "kg", "12.500", "5.90"),
]


#: who logs in at the demo's till: user id, name, role, PIN
DEMO_USERS = [
    ("wang", "王芳", "cashier", "1234"),
    ("li", "李强", "manager", "5678"),
]

#: everything the demo writes under --dir: what `--reset` removes (and nothing else)
DEMO_FILES = (
    "hub.db",
    "hub.db-wal",
    "hub.db-shm",
    "hub-token.txt",
    "store.db",
    "store.db-wal",
    "store.db-shm",
    "store.db.log",
    "nats",
    "nats.log",
    "hub.log",
    "scanner-codes.txt",
    "printer.bin",
)


def _seed(node: Node) -> None:
    for sku, name, barcode, price, unit, qty, cost in SAMPLE_PRODUCTS:
        node.add_product(sku, name, barcode, price, unit)
        node.receive(sku, qty, cost)
    node.sell("COLA-330", "2")
    node.sell("APPLE", "1.250")


def _users(node: Node) -> None:
    """The demo's cashier and manager, added once (a ledger from an older demo gets them)."""
    from node.users import add_user

    for user, name, role, pin in DEMO_USERS:
        if not node.read.master_fields("user", user):
            add_user(node, user, name, role, pin)


def reset(root: Path) -> list[str]:
    """Remove the demo's own files under `root` (never the directory, nor anything else
    in it: `--dir .` must not take a checkout's .venv with it); the names removed."""
    removed = []
    for name in DEMO_FILES:
        path = root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed


def port_problem(http: str) -> str | None:
    """Why the hub could not listen on `http` (host:port), or None when it can: asked
    before anything starts, so a port in use is one clear line, not a log entry."""
    host, _, port = http.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        return f"--http {http!r} is not host:port, e.g. 127.0.0.1:8080"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host or "127.0.0.1", int(port)))
        except OSError as exc:
            return (
                f"cannot start the hub on {http}: {exc.strerror or exc} (another program "
                f"uses port {port}?); give another address, e.g. --http {host or '127.0.0.1'}:"
                f"{int(port) + 1 if int(port) < 65535 else 8081}"
            )
    return None


def _get(url: str, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
        return json.load(r)


def _hub_stock(http: str, token: str, node: str, seq: int, wait_s: float = 15.0) -> dict:
    """The hub's stock once it has ingested `node`'s log up to `seq`."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if _get(f"http://{http}/healthz")["origins"].get(node, 0) >= seq:
            break
        time.sleep(0.1)
    return _get(f"http://{http}/api/v1/stock", token)


#: What the simulated scanner scans when asked, in turn: a can of cola, a label-scale
#: sticker for 0.350 kg of apples (PLU 00123), a pack of noodles.
DEMO_SCANS = ["6901234567892", "2100123003501", "6920152400012"]


@dataclass
class DemoDevices:
    """The simulators' ptys, and the scanner's control line (it scans when told)."""

    scanner: str
    scale: str
    printer: str | None
    scanner_control: IO[str]
    printer_record: Path
    codes: Iterator[str] = field(default_factory=lambda: itertools.cycle(DEMO_SCANS))

    def scan_next(self) -> None:
        """Tell the simulated scanner to scan the next sample code."""
        with contextlib.suppress(OSError, ValueError):  # the simulator has gone
            self.scanner_control.write(f"scan {next(self.codes)}\n")
            self.scanner_control.flush()


@contextlib.contextmanager
def simulated_devices(root: Path) -> Iterator[DemoDevices]:
    """A scale (MT-SICS, 0.642 kg on the platter), a scanner that scans when told, and a
    receipt printer that records what it prints to printer.bin, each on a real pty."""
    record = root / "printer.bin"
    sims: list[subprocess.Popen[str]] = []
    try:
        paths = []
        for args in (
            ["sim-scale", "--protocol", "mt-sics", "--weight", "0.642"],
            ["sim-scanner", "--interval", "86400"],
            ["sim-printer", "--record", str(record)],
        ):
            proc = subprocess.Popen(
                [sys.executable, "-m", "devices", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            sims.append(proc)
            assert proc.stdout is not None  # stdout=PIPE
            paths.append(proc.stdout.readline().strip())
        assert sims[1].stdin is not None  # stdin=PIPE
        yield DemoDevices(paths[1], paths[0], paths[2] or None, sims[1].stdin, record)
    finally:
        for proc in sims:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()


def _exit_on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def run(directory: str, http: str, ui: bool = True, fresh_data: bool = False) -> int:
    problem = port_problem(http)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    # SIGTERM/SIGHUP (a closed terminal) must still stop NATS, the hub and the simulators.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    root = Path(directory)
    if fresh_data and root.exists():
        removed = reset(root)
        print(f"reset: removed {', '.join(removed) or 'nothing'} in {root}", flush=True)
    root.mkdir(parents=True, exist_ok=True)
    kucun = [sys.executable, "-m", "kucun"]
    hub_db, store_db, token_file = root / "hub.db", root / "store.db", root / "hub-token.txt"
    if not hub_db.exists():
        token = subprocess.run(
            [*kucun, "hub", "init", "--db", str(hub_db)], check=True, capture_output=True, text=True
        ).stdout.strip()
        token_file.write_text(token + "\n")
    token = token_file.read_text().strip()

    nats = NatsServer(port=free_port(), data_dir=root / "nats")
    nats_log = open(root / "nats.log", "ab")  # noqa: SIM115 - lives as long as the server
    nats.start(log_file=nats_log)
    host, _, port = http.rpartition(":")
    hub_log = open(root / "hub.log", "ab")  # noqa: SIM115
    hub = subprocess.Popen(
        [
            *kucun,
            "--log-level",
            "info",
            "hub",
            "serve",
            "--db",
            str(hub_db),
            "--nats",
            nats.url,
            "--http",
            http,
        ],
        stdout=hub_log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(host or "127.0.0.1", int(port), proc=hub)
        fresh = not store_db.exists()
        node = Node.init(store_db, "S01", "S01", nats.url, user="demo")
        if fresh:
            _seed(node)
        _users(node)
        logins = ", ".join(f"{role} {user} PIN {pin}" for user, _, role, pin in DEMO_USERS)
        print(
            f"NATS   {nats.url}\nhub    http://{http}  (token in {token_file})\n"
            f"node   S01, ledger {store_db}\nlog in {logins}",
            flush=True,
        )
        if ui:
            from node.till.app import log_file_for

            print(
                "scan   Ctrl+T in the till: the simulated scanner scans the next sample; "
                f"receipts print to {root / 'printer.bin'}; logs in {log_file_for(store_db)}",
                flush=True,
            )
        if not ui:
            summary = asyncio.run(sync.sync_once(node))
            print(f"synced {summary.sent_events} events")
            stock = _hub_stock(http, token, "S01", summary.head_seq)
            print(json.dumps(stock, ensure_ascii=False, indent=1))
            return 0
        from node.till.app import DeviceConfig, TillApp, log_to_file
        from node.till.palette import TillCommand

        with simulated_devices(root) as sims, log_to_file(log_file_for(store_db)):
            name = "演示：扫一件样品" if language() == "zh-CN" else "Demo: scan a sample"
            scan = TillCommand(name, "Ctrl+T", sims.scan_next, "ctrl+t")
            devices = DeviceConfig(scanner=sims.scanner, scale=sims.scale)
            TillApp(
                node, devices=devices, printer=sims.printer, sync_interval=2.0, commands=[scan]
            ).run()
        return 0
    finally:
        hub.terminate()
        try:
            hub.wait(10)
        except subprocess.TimeoutExpired:
            hub.kill()
        nats.close()
        nats_log.close()
        hub_log.close()
