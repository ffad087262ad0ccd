"""Running the hub: connect to NATS, ingest, publish the hub's own logs, serve HTTP.

The HTTP API keeps serving while NATS is away; ingest and publishing resume on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import nats
from aiohttp import web

from hub.api import make_app
from hub.ingest import run_ingest, watch_node_consumers
from hub.stock_service import serve_stock
from hub.store import HubError, HubStore
from protocol.events import HUB_ORIGIN, is_hub_origin, valid_replica_id
from replication.nats_transport import NatsTransport
from replication.publisher import CONNECTION_ERRORS, Publisher
from replication.setup import ensure_streams
from replication.transport import Publishing, StreamMissing

log = logging.getLogger("kucun.hub")


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


async def _nats_loop(
    store: HubStore, url: str, stop: asyncio.Event, outbox: HubOutbox, connect_options: dict
) -> None:
    """Connect (retrying forever), then ingest and publish until stopped."""
    while not stop.is_set():
        try:
            nc = await nats.connect(
                url,
                name="kucun-hub",
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                ping_interval=10,
                error_cb=_log_nats_error,
                **connect_options,
            )
        except Exception as exc:
            log.warning("NATS at %s not reachable (%s); retrying", url, exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 2.0)
            continue
        tasks: list[asyncio.Task] = []
        try:
            transport = NatsTransport(nc.jetstream())
            await ensure_streams(transport)
            await serve_stock(nc, store)  # tills' lookups of other stores' stock; ends with nc
            log.info("connected to NATS at %s; ingesting", url)
            tasks = [
                asyncio.create_task(run_ingest(store, transport, stop, on_ingested=outbox.wake)),
                asyncio.create_task(outbox.run(transport, stop)),
                asyncio.create_task(watch_node_consumers(store, transport, stop)),
            ]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        except Exception:
            log.exception("NATS work stopped; reconnecting")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            with contextlib.suppress(Exception):
                await nc.close()


async def _log_nats_error(exc: Exception) -> None:
    log.warning("NATS: %s", exc)


async def serve(db: str, nats_url: str, http: str, connect_options: dict | None = None) -> None:
    store = HubStore.open(db)
    host, port = parse_listen(http)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    outbox = HubOutbox(store)
    runner = web.AppRunner(make_app(store, on_written=outbox.wake), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("hub API on http://%s:%d", host, port)
    print(f"hub listening on http://{host}:{port}", flush=True)
    nats_task = asyncio.create_task(
        _nats_loop(store, nats_url, stop, outbox, connect_options or {})
    )
    await stop.wait()
    await nats_task
    await runner.cleanup()
    store.conn.close()
