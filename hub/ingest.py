"""The hub's wiring of `replication.ingest`: its store, its step after each projection
(routing completed transfers) and its registered nodes' consumers.

The loop itself, and what it promises, is in replication/ingest.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from hub.identities import nodes
from hub.routing import route_transfers
from hub.store import HubStore
from ledger.log import IngestResult
from protocol.events import valid_replica_id
from replication import ingest, setup
from replication.transport import Message, Transport

log = logging.getLogger("kucun.hub")


def project(store: HubStore, per_origin: int | None = ingest.PROJECT_CHUNK) -> int:
    """Fold a chunk of what ingest stored, and route the transfers it completes."""
    return ingest.project(store.events, store.tables, per_origin, route_transfers)


def ingest_messages(store: HubStore, msgs: Sequence[Message]) -> IngestResult:
    return ingest.ingest_messages(store.events, store.tables, msgs)


async def run_ingest(
    store: HubStore,
    transport: Transport,
    stop: asyncio.Event,
    on_ingested: Callable[[], None] | None = None,
    offload: ingest.Offload = ingest.inline,
    on_stored: Callable[[IngestResult], None] | None = None,
) -> None:
    """Ingest into `store`; `offload` runs its SQLite work (`hub serve`: on a thread that
    alone uses this store's connection)."""
    await ingest.run_ingest(
        store.events,
        store.tables,
        transport,
        stop,
        after_projection=route_transfers,
        on_ingested=on_ingested,
        offload=offload,
        on_stored=on_stored,
    )


def registered_nodes(store: HubStore) -> list[tuple[str, str]]:
    """Registered nodes whose ids can name consumers: one registered before ids were
    matched whole ("S09\n") would fail every round and restart all NATS work."""
    found = [(identity.node, identity.location) for identity in nodes(store)]
    usable = [(n, loc) for n, loc in found if valid_replica_id(n) and valid_replica_id(loc)]
    for node, location in sorted(set(found) - set(usable) - _reported):
        log.error("registered node %r at %r has no valid id; no consumer is made", node, location)
        _reported.add((node, location))
    return usable


#: the unusable registrations already logged (the watch asks every 2 s)
_reported: set[tuple[str, str]] = set()


async def watch_node_consumers(store: HubStore, transport: Transport, stop: asyncio.Event) -> None:
    await setup.watch_node_consumers(transport, lambda: registered_nodes(store), stop)
