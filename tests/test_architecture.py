"""Import direction, checked on the source: pure core, one-way dependencies."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kucun", "node", "hub", "ledger", "protocol", "devices")
ALLOWED = {
    "protocol": set(),
    "devices": set(),
    "ledger": {"protocol"},
    "node": {"ledger", "protocol", "devices"},
    "hub": {"ledger", "protocol"},
    "kucun": {"node", "hub", "ledger", "protocol", "devices"},
}
#: protocol and devices parsers stay free of I/O frameworks.
FORBIDDEN_THIRD_PARTY = {
    "protocol": {
        "sqlite3",
        "asyncio",
        "nats",
        "aiohttp",
        "serial",
        "textual",
        "sqlite_utils",
        "socket",
    }
}


def imports_of(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, alias.name.split(".")[0]) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_import_direction(package):
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, name in imports_of(package)
        if name in PACKAGES and name != package and name not in ALLOWED[package]
    ]
    assert not bad


def test_protocol_is_pure():
    bad = [
        f"{p.relative_to(ROOT)} imports {n}"
        for p, n in imports_of("protocol")
        if n in FORBIDDEN_THIRD_PARTY["protocol"]
    ]
    assert not bad
