"""The hub answers a store's lookup: how much of one SKU every location holds.

Answered from the hub's read model (as folded so far), at the hub's clock; the node keeps
the answer with its time, so offline it can still say "as of". `hub/server.py` starts it
beside ingest with `await serve_stock(nc, store)`.
"""

from __future__ import annotations

from nats.aio.client import Client as NatsClient
from nats.aio.subscription import Subscription

from hub.store import HubStore
from replication.clock import wall_ms
from replication.stock_query import StockAnswer, serve_stock_queries


def stock_answer(store: HubStore, sku: str) -> StockAnswer:
    """Every real location's on-hand of `sku`, all lots summed, by location."""
    levels: dict[str, int] = {}
    for row in store.events.read.stock(sku=sku):
        levels[row.location] = levels.get(row.location, 0) + row.qty
    return StockAnswer(sku, wall_ms(), sorted(levels.items()))


async def serve_stock(nc: NatsClient, store: HubStore) -> Subscription:
    """Answer stock queries on `nc` until the subscription is dropped or `nc` closes."""
    return await serve_stock_queries(nc, lambda sku: stock_answer(store, sku))
