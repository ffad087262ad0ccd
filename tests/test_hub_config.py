"""`hub serve --config hub.toml`: every option from the file, the command line wins, and a
key the hub does not know or a value of the wrong type is one error naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import config
from hub.config import ConfigError, ServeConfig
from tests.helpers import kucun

FULL = """\
db = "/var/lib/kucun/hub.db"
nats = "nats://hq:4222"
http = "0.0.0.0:8080"
log_level = "info"
publish_interval = 1.5
readers = 8
nats_connect_timeout = 3
stop_timeout = 10
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hub.toml"
    path.write_text(text)
    return path


def test_every_option_comes_from_the_file(tmp_path):
    got = config.resolve(_file(tmp_path, FULL), {})
    assert got == ServeConfig(
        db="/var/lib/kucun/hub.db",
        nats="nats://hq:4222",
        http="0.0.0.0:8080",
        log_level="info",
        publish_interval=1.5,
        readers=8,
        nats_connect_timeout=3,
        stop_timeout=10,
    )


def test_the_operations_doc_example_is_a_valid_file(tmp_path):
    doc = (Path(__file__).parent.parent / "docs" / "operations.md").read_text()
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    got = config.resolve(_file(tmp_path, example), {})
    assert got.db and got.nats


def test_the_command_line_overrides_the_file(tmp_path):
    got = config.resolve(
        _file(tmp_path, FULL), {"http": "127.0.0.1:9000", "readers": 2, "db": None}
    )
    assert (got.http, got.readers, got.db) == ("127.0.0.1:9000", 2, "/var/lib/kucun/hub.db")


def test_a_relative_db_is_the_files(tmp_path):
    got = config.resolve(_file(tmp_path, 'db = "hub.db"\nnats = "nats://x:4222"\n'), {})
    assert got.db == str(tmp_path / "hub.db")


def test_defaults_without_a_file():
    got = config.resolve(None, {"db": "hub.db", "nats": "nats://127.0.0.1:4222"})
    assert (got.http, got.readers, got.publish_interval) == ("127.0.0.1:8080", 4, 2.0)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('db = "h.db"\nnats = "n"\nlisten = "x"\n', ["unknown key 'listen'", "http"]),
        ('db = "h.db"\nnats = "n"\nreaders = "4"\n', ["readers must be an integer", "string"]),
        ('db = "h.db"\nnats = "n"\nreaders = true\n', ["readers", "boolean"]),
        ('db = 5\nnats = "n"\n', ["db must be a string", "integer"]),
        ('db = "h.db"\nnats = "n"\npublish_interval = "2"\n', ["publish_interval", "number"]),
        ('db = "h.db"\nnats = "n"\n[hub]\nx = 1\n', ["unknown key 'hub'"]),
        ('db = "h.db"\nnats = "n"\nlog_level = "loud"\n', ["log_level must be one of"]),
        ('db = "h.db"\nnats = "n"\nreaders = 0\n', ["readers must be between"]),
        ('nats = "n"\n', ["no hub database"]),
        ('db = "h.db"\n', ["no NATS URL"]),
        ("db = \n", ["not valid TOML"]),
    ],
)
def test_a_bad_file_is_one_error_naming_the_key(tmp_path, text, words):
    path = _file(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        config.resolve(path, {})
    message = str(caught.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


def test_a_missing_file_is_said(tmp_path):
    with pytest.raises(ConfigError, match="no config file"):
        config.resolve(tmp_path / "none.toml", {})


def test_the_cli_says_which_key_and_exits_1(tmp_path):
    path = _file(tmp_path, 'db = "h.db"\nnats = "n"\nlisten = "x"\n')
    result = kucun("hub", "serve", "--config", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: unknown key 'listen' (known keys: db, http, log_level, nats, "
        "nats_connect_timeout, publish_interval, readers, stop_timeout)"
    ]
