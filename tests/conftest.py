from __future__ import annotations

import pytest

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
