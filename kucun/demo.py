"""`kucun demo`: NATS, a hub and a store node on loopback, with sample data.

Everything real: the nats-server binary, the hub as its own process, the node's ledger on
disk under --dir. Run twice, it reuses what the first run created.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from kucun.natsserver import NatsServer, free_port, wait_for_port
from node import sync
from node.service import Node

SAMPLE_PRODUCTS = [
    # sku, name, barcode, price, unit, received qty, cost
    ("COLA-330", "可口可乐 330ml", "6901234567892", "3.00", "pcs", "48", "1.80"),
    ("NOODLE-5", "康师傅红烧牛肉面 5连包", "6920152400012", "13.50", "pcs", "20", "9.60"),
    ("RICE-5KG", "五常大米 5kg", "6970000000017", "59.90", "pcs", "10", "42.00"),
    ("APPLE", "红富士苹果 (散装)", "00123", "9.80", "kg", "25.000", "6.50"),
    ("EGG", "鸡蛋 (散装)", None, "7.60", "kg", "12.500", "5.90"),
]


def _seed(node: Node) -> None:
    for sku, name, barcode, price, unit, qty, cost in SAMPLE_PRODUCTS:
        node.add_product(sku, name, barcode, price, unit)
        node.receive(sku, qty, cost)
    node.sell("COLA-330", "2")
    node.sell("APPLE", "1.250")


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


#: What the simulated scanner scans, one every SCAN_INTERVAL_S: a can of cola, a label-scale
#: sticker for 0.350 kg of apples (PLU 00123), a pack of noodles.
DEMO_SCANS = ["6901234567892", "2100123003501", "6920152400012"]
SCAN_INTERVAL_S = 20


@contextlib.contextmanager
def simulated_devices(root: Path):
    """A scale (MT-SICS, 0.642 kg on the platter) and a scanner, each on a real pty."""
    from node.tui import DeviceConfig

    codes = root / "scanner-codes.txt"
    codes.write_text("\n".join(DEMO_SCANS) + "\n")
    sims = []
    try:
        paths = []
        for args in (
            ["sim-scale", "--protocol", "mt-sics", "--weight", "0.642"],
            ["sim-scanner", "--codes", str(codes), "--interval", str(SCAN_INTERVAL_S)],
        ):
            proc = subprocess.Popen(
                [sys.executable, "-m", "devices", *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            sims.append(proc)
            assert proc.stdout is not None  # stdout=PIPE
            paths.append(proc.stdout.readline().strip())
        yield DeviceConfig(scanner=paths[1], scale=paths[0], scale_protocol="mt-sics")
    finally:
        for proc in sims:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _exit_on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def run(directory: str, http: str, ui: bool = True) -> int:
    # SIGTERM/SIGHUP (a closed terminal) must still stop NATS, the hub and the simulators.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    root = Path(directory)
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
        print(
            f"NATS   {nats.url}\nhub    http://{http}  (token in {token_file})\n"
            f"node   S01, ledger {store_db}",
            flush=True,
        )
        if not ui:
            summary = asyncio.run(sync.sync_once(node))
            print(f"synced {summary.sent_events} events")
            stock = _hub_stock(http, token, "S01", summary.head_seq)
            print(json.dumps(stock, ensure_ascii=False, indent=1))
            return 0
        from node.tui import CounterApp

        with simulated_devices(root) as devices:
            CounterApp(node, sync_interval=2.0, devices=devices).run()
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
