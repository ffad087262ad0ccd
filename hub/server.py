"""Running the hub: connect to NATS, keep ingesting, serve HTTP; survive NATS outages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import nats
from aiohttp import web

from hub.api import make_app
from hub.ingest import ensure_streams, run_ingest
from hub.store import HubError, HubStore

log = logging.getLogger("kucun.hub")


def parse_listen(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise HubError(f"--http {address!r} must look like 127.0.0.1:8080")
    return host or "127.0.0.1", int(port)


async def _nats_loop(store: HubStore, url: str, stop: asyncio.Event) -> None:
    """Connect (retrying forever) and ingest; the HTTP API keeps serving meanwhile."""
    while not stop.is_set():
        try:
            nc = await nats.connect(
                url,
                name="kucun-hub",
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                ping_interval=10,
                error_cb=_log_nats_error,
            )
        except Exception as exc:
            log.warning("NATS at %s not reachable (%s); retrying", url, exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 2.0)
            continue
        try:
            js = nc.jetstream()
            await ensure_streams(js)
            log.info("connected to NATS at %s; ingesting", url)
            await run_ingest(store, js, stop)
        except Exception:
            log.exception("ingest stopped; reconnecting")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()


async def _log_nats_error(exc: Exception) -> None:
    log.warning("NATS: %s", exc)


async def serve(db: str, nats_url: str, http: str) -> None:
    store = HubStore.open(db)
    host, port = parse_listen(http)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(make_app(store), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("hub API on http://%s:%d", host, port)
    print(f"hub listening on http://{host}:{port}", flush=True)
    ingest = asyncio.create_task(_nats_loop(store, nats_url, stop))
    await stop.wait()
    await ingest
    await runner.cleanup()
    store.conn.close()
