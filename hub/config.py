"""`kucun hub serve`'s options, from a TOML file and the command line.

One flat table of keys (docs/operations.md shows them all); the command line overrides
the file, the file overrides the defaults. A key the hub does not know, or a value of the
wrong type, is refused naming the key: a typo must not silently run a hub on defaults.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from hub.errors import HubError

LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(HubError):
    """A config file the hub cannot use; the message names the file and the key."""


@dataclass(frozen=True)
class ServeConfig:
    """Everything `hub serve` needs; `db` and `nats` have no default."""

    db: str = ""
    nats: str = ""
    #: the HTTP listen address
    http: str = "127.0.0.1:8080"
    #: None: the global `kucun --log-level`
    log_level: str | None = None
    #: seconds between rounds of publishing the hub's logs (a write wakes it at once)
    publish_interval: float = 2.0
    #: threads (each with its own SQLite connection) answering GET routes
    readers: int = 4
    #: seconds one attempt to reach NATS may take before the next
    nats_connect_timeout: float = 2.0
    #: seconds stopping may take before the hub gives up waiting on its work
    stop_timeout: float = 5.0

    def check(self) -> ServeConfig:
        if not self.db:
            raise ConfigError('no hub database: give --db or db = "…" in the config file')
        if not self.nats:
            raise ConfigError('no NATS URL: give --nats or nats = "…" in the config file')
        if self.log_level is not None and self.log_level not in LOG_LEVELS:
            raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
        if not 1 <= self.readers <= 64:
            raise ConfigError("readers must be between 1 and 64")
        for name in ("publish_interval", "nats_connect_timeout", "stop_timeout"):
            if not 0 < getattr(self, name) <= 3600:
                raise ConfigError(f"{name} must be more than 0 and at most 3600 seconds")
        return self


#: the type each key takes in the file (TOML integers are accepted for seconds)
_TYPES: dict[str, tuple[type, ...]] = {
    "db": (str,),
    "nats": (str,),
    "http": (str,),
    "log_level": (str,),
    "publish_interval": (int, float),
    "readers": (int,),
    "nats_connect_timeout": (int, float),
    "stop_timeout": (int, float),
}
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number"}


def load(path: str | Path) -> dict[str, Any]:
    """The keys a config file sets, checked; relative `db` paths are the file's."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"no config file at {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    known = {f.name for f in fields(ServeConfig)}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(
                f"{path}: unknown key {key!r} (known keys: {', '.join(sorted(known))})"
            )
        types = _TYPES[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(
                f"{path}: {key} must be {_TYPE_NAMES[types[-1]]}, not {_toml_type(value)}"
            )
    if "db" in data:
        db = Path(data["db"]).expanduser()
        data["db"] = str(db if db.is_absolute() else Path(path).parent / db)
    return data


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def resolve(path: str | Path | None, overrides: dict[str, Any]) -> ServeConfig:
    """The file's keys (if a file is given), then every override that is not None."""
    config = ServeConfig()
    if path is not None:
        config = replace(config, **load(path))
    given = {k: v for k, v in overrides.items() if v is not None}
    config = replace(config, **given)
    try:
        return config.check()
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}" if path is not None else str(exc)) from None
