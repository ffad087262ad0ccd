"""Online orders' webhooks: each time an order's derived status changes, POST it to the
URL the caller gave, retrying with backoff until it is taken or the tries run out.

The loop owns its SQLite connection (`HubStore.open`), on one thread of its own, so it
neither shares the API's connections nor blocks the event loop. What was delivered, what
is being tried and every attempt are in ledger/order_tables.py: a restart goes on where
it stopped. Delivery is at least once: a receiver that answered 2xx but whose answer was
lost gets the same status again (the body carries the order's id and status to dedupe).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import aiohttp
import msgspec

from hub import orders
from hub import schemas_orders as so
from hub.service import HubService
from hub.store import HubStore
from ledger.order_tables import Delivery, OrderTables
from ledger.sqlite import transaction
from replication.clock import wall_ms

log = logging.getLogger(__name__)

T = TypeVar("T")

#: seconds between looks at the orders
INTERVAL_S = 1.0
#: the first retry waits 1 s, then 2, 4, … up to this
MAX_BACKOFF_MS = 300_000
#: tries of one status before giving up on it (a later status is tried afresh)
MAX_TRIES = 12
#: nor longer than a day after the first try
GIVE_UP_MS = 86_400_000
#: orders are watched this long after they were taken (a status changing later, a return
#: a month on, is not an order's news)
WATCH_MS = 30 * 86_400_000
#: one call's whole time
TIMEOUT_S = 10.0
SIGNATURE_HEADER = "X-Kucun-Signature"


def backoff_ms(tries: int) -> int:
    """The wait after `tries` failed tries: 1 s, 2 s, 4 s … capped."""
    return min(1000 * 2 ** max(tries - 1, 0), MAX_BACKOFF_MS)


def signature(secret: str, body: bytes) -> str:
    """ "sha256=" + hex HMAC-SHA256 of the body: what the receiver recomputes to check."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Due:
    """One call to make: the order's document, its URL, the status and the body."""

    doc: str
    url: str
    status: str
    body: bytes
    secret: str | None


def due(hub: HubService, now: int) -> list[Due]:
    """The calls to make now: orders whose status differs from the last delivered one,
    not waiting out a backoff and not given up."""
    tables = OrderTables(hub.store.conn)
    out = []
    for taken, secret in tables.with_webhook(now - WATCH_MS):
        if taken.webhook_url is None:
            continue
        shown = orders.view(hub, taken)
        d = tables.delivery(taken.doc)
        if shown.status == d.delivered:
            if d.pending is not None:  # went back to what was delivered: nothing to say
                with transaction(hub.store.conn):
                    tables.save_delivery(d._replace(pending=None, tries=0, first_ms=None))
            continue
        if shown.status != d.pending:  # a new status: tried afresh
            d = Delivery(taken.doc, d.delivered, shown.status, 0, now, now)
            with transaction(hub.store.conn):
                tables.save_delivery(d)
        if d.next_ms > now or d.tries >= MAX_TRIES or now - (d.first_ms or now) > GIVE_UP_MS:
            continue
        body = so.WebhookBody(
            order_id=shown.order,
            doc=shown.doc,
            status=shown.status,
            store=shown.store,
            fulfilment=shown.fulfilment,
            lines=shown.lines,
            alerts=shown.alerts,
            sales=shown.sales,
        )
        out.append(
            Due(taken.doc, taken.webhook_url, shown.status, msgspec.json.encode(body), secret)
        )
    return out


def record(
    hub: HubService, call: Due, now: int, http_status: int | None, error: str | None
) -> None:
    """Note one attempt; a 2xx delivers the status, anything else backs off."""
    tables = OrderTables(hub.store.conn)
    with transaction(hub.store.conn):
        tables.record_attempt(call.doc, call.status, now, http_status, error)
        d = tables.delivery(call.doc)
        if d.pending != call.status:  # changed meanwhile: the next round tries the new one
            return
        if error is None and http_status is not None and 200 <= http_status < 300:
            tables.save_delivery(d._replace(delivered=call.status, pending=None, tries=0))
        else:
            tries = d.tries + 1
            tables.save_delivery(d._replace(tries=tries, next_ms=now + backoff_ms(tries)))


async def send(session: aiohttp.ClientSession, call: Due) -> tuple[int | None, str | None]:
    """POST one body; (HTTP status, None) or (None, why it failed). Never raises."""
    headers = {"Content-Type": "application/json", "User-Agent": "kucun-hub"}
    if call.secret:
        headers[SIGNATURE_HEADER] = signature(call.secret, call.body)
    try:
        async with session.post(call.url, data=call.body, headers=headers) as response:
            await response.read()
            return response.status, None if 200 <= response.status < 300 else response.reason
    except (aiohttp.ClientError, TimeoutError, ValueError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


async def deliver_forever(
    db_path: str,
    stop: asyncio.Event,
    *,
    interval: float = INTERVAL_S,
    clock: Callable[[], int] = wall_ms,
) -> None:
    """Every `interval` seconds until `stop`, deliver what is due; never raises out of
    the loop (a failure is logged and the next round tries again)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhooks")
    loop = asyncio.get_running_loop()
    hub: HubService | None = None

    async def on_thread(work: Callable[[], T]) -> T:
        return await loop.run_in_executor(pool, work)

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http:
            while not stop.is_set():
                try:
                    if hub is None:
                        hub = await on_thread(partial(_open, db_path))
                    await _round(hub, http, on_thread, clock, stop)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("webhook round failed; trying again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)
    finally:
        if hub is not None:
            pool.submit(hub.store.conn.close)
        pool.shutdown(wait=False)


def _open(db_path: str) -> HubService:
    return HubService(HubStore.open(db_path))


async def _round(
    hub: HubService,
    http: aiohttp.ClientSession,
    on_thread: Callable[[Callable[[], Any]], Awaitable[Any]],
    clock: Callable[[], int],
    stop: asyncio.Event,
) -> None:
    calls: list[Due] = await on_thread(lambda: due(hub, clock()))
    for call in calls:
        if stop.is_set():
            return
        status, error = await send(http, call)
        await on_thread(partial(record, hub, call, clock(), status, error))
        if error is not None:
            log.info("webhook of %s (%s) failed: %s", call.doc, call.status, error)
