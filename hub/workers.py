"""SQLite off the event loop: the API's reads on a few reader threads, its writes on one
writer thread, each thread with its own connection and HubService.

WAL lets readers read while a writer (API or ingest) writes, so a big ingest no longer
stalls a stock lookup; one writer thread keeps the API's writes in order (a document id
is read and used in one unit of work either way: `HubService.post`). `make_app(...,
execute=workers.execute)` hands every handler's work here (hub/api.py).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from hub.route import Answer, Route
from hub.service import HubService
from hub.store import HubStore

T = TypeVar("T")


class Workers:
    """Reader and writer threads over the hub database at `path`."""

    def __init__(
        self,
        path: str,
        on_written: Callable[[], None] | None = None,
        readers: int = 4,
    ) -> None:
        # opened here, one after the other: each open runs the (no-op) migrations, which
        # must not race each other for the write lock
        self._stores = [HubStore.open(path) for _ in range(readers + 1)]
        self._writer = HubService(self._stores[0], on_written)
        self._readers: queue.SimpleQueue[HubService] = queue.SimpleQueue()
        for store in self._stores[1:]:
            self._readers.put(HubService(store, on_written))
        self._read_pool = ThreadPoolExecutor(readers, thread_name_prefix="hub-read")
        self._write_pool = ThreadPoolExecutor(1, thread_name_prefix="hub-write")

    async def execute(self, work: Callable[[HubService], Answer], route: Route) -> Answer:
        """A GET on a reader thread, anything else on the writer thread."""
        if route.method == "GET":
            return await self.read(work)
        return await self.write(work)

    async def read(self, work: Callable[[HubService], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._read_pool, self._with_reader, work
        )

    async def write(self, work: Callable[[HubService], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._write_pool, work, self._writer
        )

    def _with_reader(self, work: Callable[[HubService], T]) -> T:
        service = self._readers.get()
        try:
            return work(service)
        finally:
            self._readers.put(service)

    def close(self, timeout: float = 5.0) -> bool:
        """Wait up to `timeout` s for the work under way (one handler per thread), then
        close every connection; False (connections left open) if a thread is still busy."""
        deadline = time.monotonic() + timeout
        done = shutdown_within(self._read_pool, timeout)
        done = shutdown_within(self._write_pool, max(0.1, deadline - time.monotonic())) and done
        if done:
            for store in self._stores:
                store.conn.close()
        return done


def shutdown_within(pool: ThreadPoolExecutor, timeout: float) -> bool:
    """Cancel what has not started and wait up to `timeout` s for what has; True if the
    pool's threads have ended (a thread cannot be killed: one stuck in SQLite is left to
    the process's exit, which rolls its unit of work back)."""
    pool.shutdown(wait=False, cancel_futures=True)
    done = threading.Event()

    def join() -> None:
        pool.shutdown(wait=True)
        done.set()

    threading.Thread(target=join, daemon=True).start()
    return done.wait(timeout)


def thread_safe(
    loop: asyncio.AbstractEventLoop, callback: Callable[[], None]
) -> Callable[[], None]:
    """`callback` run on `loop` whichever thread calls: a write's `on_written` comes from
    the writer thread, and the outbox's event belongs to the loop."""

    def call() -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(callback)

    return call
