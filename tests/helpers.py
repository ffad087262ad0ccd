"""Running the real `kucun` command and the real hub process from tests."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from kucun.natsserver import free_port, wait_for_port


def kucun(
    *args: str, cwd: Path | None = None, check: bool = False, timeout: float = 60
) -> subprocess.CompletedProcess:
    env = dict(os.environ, KUCUN_LANG="en")
    result = subprocess.run(
        [sys.executable, "-m", "kucun", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"kucun {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def http_json(url: str, token: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll until predicate() is truthy; returns its last value (a wait, not a timing test)."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


@dataclass
class HubProcess:
    db: Path
    token: str
    http: str
    proc: subprocess.Popen
    log: Path

    def get(self, path: str, auth: bool = True) -> tuple[int, dict]:
        return http_json(f"http://{self.http}{path}", self.token if auth else None)

    def stock(self, **query: str) -> list[dict]:
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        status, body = self.get(f"/api/v1/stock?{qs}")
        assert status == 200, body
        return body["items"]

    def ingested(self, origin: str) -> int:
        """How far `origin` is stored, verified *and* folded into the hub's reports."""
        health = self.get("/healthz", auth=False)[1]
        return min(health["origins"].get(origin, 0), health["folded"].get(origin, 0))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_hub(tmp: Path, nats_url: str) -> HubProcess:
    """`hub init` (a fresh token) and a `hub serve` process on tmp/hub.db."""
    db = tmp / "hub.db"
    if db.exists():  # a restarted hub: `hub init` refuses a hub database, so a new token
        name = f"test-{secrets.token_hex(4)}"
        created = kucun(
            "hub", "token", "create", "--db", str(db), "--name", name, "--role", "admin", check=True
        )
        token = created.stdout.strip()
    else:
        token = kucun("hub", "init", "--db", str(db), check=True).stdout.strip()
    return serve_hub(db, token, nats_url, tmp / "hub.log")


def serve_hub(db: Path, token: str, nats_url: str, log: Path) -> HubProcess:
    """A `kucun hub serve` process on an existing hub database, on a free port."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kucun",
            "--log-level",
            "info",
            "hub",
            "serve",
            "--db",
            str(db),
            "--nats",
            nats_url,
            "--http",
            f"127.0.0.1:{port}",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port("127.0.0.1", port, proc=proc)
    # The hub creates the streams once connected; tests that publish need them to exist.
    wait_until(lambda: "ingesting" in log.read_text(errors="replace"), timeout=20)
    return HubProcess(db, token, f"127.0.0.1:{port}", proc, log)
