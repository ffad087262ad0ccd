"""Running the hub: serve HTTP at once, connect to NATS in the background, ingest,
publish the hub's own logs; stop on SIGTERM or SIGINT within seconds, whatever the state.

The HTTP API keeps serving while NATS is away (`/readyz` says 503 meanwhile); ingest and
publishing resume on reconnect. SQLite work runs on threads, each with its own
connection (hub/workers.py; ingest on one of its own), so the loop only moves bytes.
What goes wrong at start (the port taken, NATS refusing the hub's key) ends the process
with one line (`ServeError`), never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib
import logging
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web
from nats.aio.client import Client as NatsClient

from hub.api import make_app
from hub.config import ServeConfig
from hub.ingest import run_ingest, watch_node_consumers
from hub.metrics import METRICS, STATE
from hub.stock_service import serve_stock
from hub.store import HubError, HubStore
from hub.workers import Workers, shutdown_within, thread_safe
from ledger.log import IngestResult
from protocol.events import HUB_ORIGIN, is_hub_origin, valid_replica_id
from replication.nats_transport import NatsTransport
from replication.publisher import CONNECTION_ERRORS, Publisher
from replication.setup import ensure_streams
from replication.transport import Publishing, StreamMissing

log = logging.getLogger("kucun.hub")

T = TypeVar("T")


class ServeError(HubError):
    """`hub serve` cannot go on: one line for the person, exit 1."""


def parse_listen(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or len(port) > 5 or int(port) > 65535:
        raise HubError(f"--http {address[:80]!r} must look like 127.0.0.1:8080 (port 0 to 65535)")
    return host or "127.0.0.1", int(port)


class HubOutbox:
    """Publishes the hub's own logs ("hub", "hub-<location>") when woken or every few s.

    Each log is published on its own: one that cannot be (a location id that is no NATS
    subject token, from before ids were checked whole; an event the server refuses) is
    logged once, listed in `stuck`, and tried again each round, while every other log keeps
    flowing. Only a lost connection stops the round (the caller reconnects)."""

    def __init__(self, store: HubStore, interval: float = 2.0) -> None:
        self.store = store
        self.interval = interval
        self.wake_event = asyncio.Event()
        #: origin -> why its log could not be published (cleared once it is again)
        self.stuck: dict[str, str] = {}

    def wake(self) -> None:
        self.wake_event.set()

    async def run(self, transport: Publishing, stop: asyncio.Event) -> None:
        publishers: dict[str, Publisher] = {}
        while not stop.is_set():
            await self.publish_round(transport, publishers)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake_event.wait(), self.interval)
            self.wake_event.clear()

    async def publish_round(
        self, transport: Publishing, publishers: dict[str, Publisher] | None = None
    ) -> None:
        """Publish every hub log's backlog once; a log that fails is set aside, not the rest."""
        publishers = {} if publishers is None else publishers
        for origin in self.store.events.log.heads():
            if not is_hub_origin(origin):
                continue
            if origin != HUB_ORIGIN and not valid_replica_id(origin[len(HUB_ORIGIN) + 1 :]):
                self._stuck(origin, f"{origin!r} names no valid location, so it has no subject")
                continue
            try:
                if origin not in publishers:
                    publishers[origin] = Publisher(self.store.events, transport, origin)
                await publishers[origin].publish_backlog()
            except (*CONNECTION_ERRORS, StreamMissing):
                raise  # not this log's fault: reconnect, and set the streams up again
            except Exception as exc:  # this log only: the others must keep flowing
                publishers.pop(origin, None)  # a new one reconciles before it sends again
                self._stuck(origin, f"{type(exc).__name__}: {exc}")
                continue
            if self.stuck.pop(origin, None) is not None:
                log.info("hub log %s is published again", origin)

    def _stuck(self, origin: str, reason: str) -> None:
        if self.stuck.get(origin) != reason:
            log.error(
                "hub log %r cannot be published (%s); it is skipped, the others go on",
                origin,
                reason,
            )
        self.stuck[origin] = reason


class _Nats:
    """The hub's NATS work, reconnecting for ever, until `stop`; a refusal of the hub's
    credentials is no reason to retry, so it ends the work with `fatal` set."""

    def __init__(
        self,
        config: ServeConfig,
        store: HubStore,
        ingest_store: HubStore,
        outbox: HubOutbox,
        stop: asyncio.Event,
        connect_options: dict[str, Any],
    ) -> None:
        self.config = config
        self.store = store
        self.ingest_store = ingest_store
        self.outbox = outbox
        self.stop = stop
        self.connect_options = connect_options
        self.fatal: str | None = None
        self._last_error = ""
        self._ingest_pool = ThreadPoolExecutor(1, thread_name_prefix="hub-ingest")

    async def offload(self, work: Callable[[], T]) -> T:
        """Ingest's SQLite work, on the one thread that uses the ingest store."""
        return await asyncio.get_running_loop().run_in_executor(self._ingest_pool, work)

    async def _error(self, exc: Exception) -> None:
        text = str(exc) or type(exc).__name__
        if "authorization violation" in text.lower():
            self.fatal = (
                f"NATS at {self.config.nats} refused the hub's credentials (Authorization "
                "Violation): the server's authorization must list the hub's public key "
                f"(kucun nats serve --hub-db {self.config.db})"
            )
            STATE.nats_problem = "refused the hub's credentials"
            self.stop.set()
            return
        STATE.nats_problem = text
        if text != self._last_error:  # once per kind of trouble, not once per retry
            log.warning("NATS at %s: %s; retrying", self.config.nats, text)
            self._last_error = text

    async def _disconnected(self) -> None:
        STATE.nats = False
        METRICS.nats_connected.set(0)

    async def _reconnected(self) -> None:
        STATE.nats = True
        METRICS.nats_connected.set(1)
        self._last_error = ""

    async def run(self) -> None:
        while not self.stop.is_set():
            nc = NatsClient()
            try:
                await self._session(nc)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.stop.is_set():
                    break
                log.exception("NATS work stopped; reconnecting")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), 1.0)
            finally:
                STATE.nats = STATE.streams = False
                METRICS.nats_connected.set(0)
                # a client still making its first connection has nothing to flush
                wait = 2.0 if nc.is_connected or nc.is_reconnecting else 0.2
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(nc.close(), wait)

    async def _session(self, nc: NatsClient) -> None:
        url = self.config.nats
        await nc.connect(
            url,
            name="kucun-hub",
            max_reconnect_attempts=-1,  # unreachable: retried for ever, until stopped
            reconnect_time_wait=1,
            connect_timeout=max(1, round(self.config.nats_connect_timeout)),
            ping_interval=10,
            error_cb=self._error,
            disconnected_cb=self._disconnected,
            reconnected_cb=self._reconnected,
            **self.connect_options,
        )
        STATE.nats, STATE.nats_problem, self._last_error = True, "", ""
        METRICS.nats_connected.set(1)
        tasks: list[asyncio.Task] = []
        extras: list[asyncio.Task] = []
        try:
            transport = NatsTransport(nc.jetstream())
            await ensure_streams(transport)
            STATE.streams = True
            await serve_stock(nc, self.store)  # tills' lookups of other stores' stock
            listen = _optional("hub.node_status", "listen")
            if listen is not None:  # nodes' status reports; ends with nc
                extras.append(asyncio.create_task(listen(nc, self.config.db)))
            log.info("connected to NATS at %s; ingesting", url)
            tasks = [
                asyncio.create_task(
                    run_ingest(
                        self.ingest_store,
                        transport,
                        self.stop,
                        on_ingested=self.outbox.wake,
                        offload=self.offload,
                        on_stored=_count_stored,
                    )
                ),
                asyncio.create_task(self.outbox.run(transport, self.stop)),
                asyncio.create_task(watch_node_consumers(self.store, transport, self.stop)),
            ]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in (*tasks, *extras):
                task.cancel()
            for task in (*tasks, *extras):
                with contextlib.suppress(BaseException):
                    await task

    def close(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the ingest thread's unit of work; True if it ended."""
        return shutdown_within(self._ingest_pool, timeout)


def _count_stored(result: IngestResult) -> None:
    METRICS.note_ingested(result.applied)


def _optional(module: str, name: str) -> Any:
    """A background job another area of the hub provides, if it is there yet."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(found, name, None)


async def serve(
    config: ServeConfig | str,
    nats_url: str | None = None,
    http: str | None = None,
    connect_options: dict | None = None,
) -> None:
    """Run the hub until SIGTERM or SIGINT; raises `ServeError` when it cannot go on.

    (`serve(db, nats_url, http)` as before is still accepted.)"""
    if isinstance(config, str):
        config = ServeConfig(db=config, nats=nats_url or "", http=http or "127.0.0.1:8080")
    host, port = parse_listen(config.http)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, _on_signal, stop, sig)
    store = HubStore.open(config.db)
    opened: list[HubStore] = [store]
    workers: Workers | None = None
    work: _Nats | None = None
    runner: web.AppRunner | None = None
    background: list[asyncio.Task] = []
    try:
        outbox = HubOutbox(store, config.publish_interval)
        STATE.stuck = outbox.stuck
        workers = Workers(config.db, thread_safe(loop, outbox.wake), config.readers)
        ingest_store = HubStore.open(config.db)
        opened.append(ingest_store)
        app = make_app(
            store,
            on_written=outbox.wake,
            middlewares=[METRICS.middleware()],
            execute=workers.execute,
        )
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            why = (
                "the address is already in use (another hub, or another program, listens there)"
                if exc.errno == errno.EADDRINUSE
                else exc.strerror or str(exc)
            )
            raise ServeError(f"cannot listen on {host}:{port}: {why}") from None
        log.info("hub API on http://%s:%d", host, port)
        print(f"hub listening on http://{host}:{port}", flush=True)
        work = _Nats(config, store, ingest_store, outbox, stop, connect_options or {})
        background.append(asyncio.create_task(work.run()))
        deliver = _optional("hub.webhooks", "deliver_forever")
        if deliver is not None:  # online orders' webhooks: need no NATS
            background.append(asyncio.create_task(deliver(config.db, stop)))
        await stop.wait()
        log.info("stopping")
    finally:
        stop.set()
        for task in background:
            task.cancel()
        if background:
            _, pending = await asyncio.wait(background, timeout=config.stop_timeout)
            if pending:
                log.warning("%d background tasks did not stop in time", len(pending))
        if runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runner.cleanup(), config.stop_timeout)
        deadline = time.monotonic() + config.stop_timeout
        clean = True
        if work is not None:
            clean = work.close(max(0.1, deadline - time.monotonic()))
        if workers is not None:
            clean = workers.close(max(0.1, deadline - time.monotonic())) and clean
        if clean:
            for each in opened:
                each.conn.close()
        else:  # a thread still in SQLite: its unit of work rolls back when the process ends
            log.warning("SQLite work did not end within %.0f s; leaving it", config.stop_timeout)
    if work is not None and work.fatal:
        raise ServeError(work.fatal)


def _on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
    if stop.is_set():  # asked twice: stop now
        log.warning("%s again: exiting at once", sig.name)
        os._exit(128 + sig)
    log.info("%s: stopping", sig.name)
    stop.set()
