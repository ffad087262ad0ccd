"""The hub's wiring of `replication.ingest`: its store, its step after each projection
(routing completed transfers) and its registered nodes' consumers.

The loop itself, and what it promises, is in replication/ingest.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from hub.identities import nodes
from hub.routing import route_transfers
from hub.store import HubStore
from ledger.log import IngestResult
from replication import ingest, setup
from replication.transport import Message, Transport


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
) -> None:
    await ingest.run_ingest(
        store.events,
        store.tables,
        transport,
        stop,
        after_projection=route_transfers,
        on_ingested=on_ingested,
    )


def registered_nodes(store: HubStore) -> list[tuple[str, str]]:
    return [(identity.node, identity.location) for identity in nodes(store)]


async def watch_node_consumers(store: HubStore, transport: Transport, stop: asyncio.Event) -> None:
    await setup.watch_node_consumers(transport, lambda: registered_nodes(store), stop)
