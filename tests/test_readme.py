"""The README's walkthrough, command by command, exactly as a new user would type it.

Every indented `kucun …` line between `<!-- walkthrough -->` and `<!-- /walkthrough -->`
runs in one fresh directory, in order, against the real nats-server and hub it starts
itself. A comment after the command (two spaces, then `#`) may say what must happen:

- `(keeps running)`: a server; it runs in the background until the walkthrough ends;
- `(exit N)`: the command must exit with N (otherwise 0);
- `(prints TEXT)`: TEXT must be in what it prints (stdout and stderr).

Only the ports (4222, 8080, 7422) and the host name `hq.example` are replaced, by free
loopback ports and 127.0.0.1: what the README shows is what runs.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kucun.natsserver import free_port, wait_for_port

README = Path(__file__).resolve().parent.parent / "README.md"


@dataclass
class Step:
    line: int
    command: str
    keeps_running: bool = False
    exit_code: int = 0
    prints: tuple[str, ...] = ()


def walkthrough(text: str) -> list[Step]:
    """The steps of the README's walkthrough region."""
    start = text.index("<!-- walkthrough -->")
    end = text.index("<!-- /walkthrough -->")
    first_line = text[:start].count("\n") + 1
    steps = []
    for number, raw in enumerate(text[start:end].splitlines(), start=first_line):
        if not raw.startswith("    kucun "):
            continue
        command, _, comment = raw.strip().partition("  #")
        exit_code = re.search(r"\(exit (\d+)\)", comment)
        steps.append(
            Step(
                line=number,
                command=command.strip(),
                keeps_running="(keeps running)" in comment,
                exit_code=int(exit_code.group(1)) if exit_code else 0,
                prints=tuple(re.findall(r"\(prints ([^)]*)\)", comment)),
            )
        )
    return steps


def listening_port(args: list[str]) -> int | None:
    """Where a server step listens, to wait for it before the next step."""
    for flag in ("--http", "--port"):
        if flag in args:
            return int(args[args.index(flag) + 1].rsplit(":", 1)[-1])
    return None


def test_the_walkthrough_is_found_and_says_what_it_checks():
    steps = walkthrough(README.read_text(encoding="utf-8"))
    assert len(steps) >= 10
    assert sum(s.keeps_running for s in steps) >= 2  # NATS and the hub
    assert any(s.prints for s in steps)


@pytest.mark.slow
def test_the_readme_walkthrough_runs_as_written(tmp_path):
    ports = {"4222": str(free_port()), "8080": str(free_port()), "7422": str(free_port())}
    env = dict(os.environ, KUCUN_LANG="en")
    servers: list[subprocess.Popen] = []

    def argv(command: str) -> list[str]:
        for port, free in ports.items():
            command = re.sub(rf"(?<=:){port}\b|(?<=--port ){port}\b", free, command)
        command = command.replace("hq.example", "127.0.0.1")
        args = shlex.split(command)
        assert args[0] == "kucun"
        return [sys.executable, "-m", "kucun", *args[1:]]

    try:
        for step in walkthrough(README.read_text(encoding="utf-8")):
            where = f"README.md:{step.line}: {step.command}"
            if step.keeps_running:
                log = open(tmp_path / f"server-{step.line}.log", "w")  # noqa: SIM115
                proc = subprocess.Popen(
                    argv(step.command), cwd=tmp_path, env=env, stdout=log, stderr=log
                )
                servers.append(proc)
                port = listening_port(argv(step.command))
                if port is not None:
                    wait_for_port("127.0.0.1", port, timeout=30, proc=proc)
                continue
            result = subprocess.run(
                argv(step.command), cwd=tmp_path, env=env, capture_output=True, text=True,
                timeout=120,
            )  # fmt: skip
            said = result.stdout + result.stderr
            assert result.returncode == step.exit_code, f"{where}\nexit {result.returncode}\n{said}"
            assert "Traceback" not in said, f"{where}\n{said}"
            for text in step.prints:
                assert text in said, f"{where}\nexpected {text!r} in:\n{said}"
    finally:
        for proc in reversed(servers):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
