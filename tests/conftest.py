from __future__ import annotations

import os

import pytest

# The tests read messages in English unless a test sets another language (monkeypatch):
# set at import, so every CLI, hub and till a test starts as a subprocess inherits it.
os.environ["KUCUN_LANG"] = "en"

from kucun.natsserver import NatsServer
from tests.helpers import start_hub


@pytest.fixture
def nats_server(tmp_path):
    """A real nats-server with JetStream on a free loopback port."""
    server = NatsServer(data_dir=tmp_path / "nats")
    server.start(log_file=(tmp_path / "nats.log").open("ab"))
    yield server
    server.close()


@pytest.fixture
def hub(tmp_path, nats_server):
    process = start_hub(tmp_path, nats_server.url)
    yield process
    process.stop()
