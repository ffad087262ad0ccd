"""The README's first quick-start command, headless."""

from __future__ import annotations

import json

import pytest

from kucun.natsserver import free_port
from tests.helpers import kucun


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    result = kucun(
        "demo",
        "--no-ui",
        "--dir",
        str(tmp_path / "demo"),
        "--http",
        f"127.0.0.1:{free_port()}",
        check=True,
        timeout=120,
    )
    stock = json.loads(result.stdout[result.stdout.index("{") :])
    by_sku = {item["sku"]: item["qty"] for item in stock["items"]}
    assert by_sku["COLA-330"] == "46.000"
    assert by_sku["APPLE"] == "23.750"
