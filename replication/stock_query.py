"""Other stores' stock: a core NATS request/reply between a node and the hub.

A node asks on `kucun.stock.query.<node>` with the SKU in the body; the hub answers with
every location's on-hand of it as its read model holds it, and when. Nothing is stored on
the wire: an answer is a snapshot, the node keeps the last one (ledger/node_tables.py).
The codec is strict: a body that does not decode is refused, never half-read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import msgspec
import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from protocol.subjects import STOCK_QUERY_SUBSCRIPTION, stock_query_subject


class StockQuery(msgspec.Struct, frozen=True):
    sku: str


class StockAnswer(msgspec.Struct, frozen=True):
    """Every location's on-hand of `sku` (all lots), at the hub's clock `as_of_ms`."""

    sku: str
    as_of_ms: int
    levels: list[tuple[str, int]]


_query_decoder = msgspec.msgpack.Decoder(StockQuery)
_answer_decoder = msgspec.msgpack.Decoder(StockAnswer)
_encoder = msgspec.msgpack.Encoder(order="deterministic")

#: the longest SKU a query may carry: anything longer is no SKU of ours
MAX_SKU = 64


def encode_query(sku: str) -> bytes:
    return _encoder.encode(StockQuery(sku))


def decode_query(raw: bytes) -> StockQuery | None:
    """The query in `raw`; None for anything that is not one (the hub ignores it)."""
    try:
        query = _query_decoder.decode(raw)
    except msgspec.DecodeError:
        return None
    return query if 0 < len(query.sku) <= MAX_SKU else None


def encode_answer(answer: StockAnswer) -> bytes:
    return _encoder.encode(answer)


def decode_answer(raw: bytes) -> StockAnswer | None:
    try:
        return _answer_decoder.decode(raw)
    except msgspec.DecodeError:
        return None


class StockUnavailable(Exception):
    """The hub did not answer (offline, no hub listening, too slow, or a garbled reply)."""


async def _quiet(_exc: Exception) -> None:
    return None


async def ask_stock(
    url: str, node: str, sku: str, timeout: float = 1.5, auth: dict | None = None
) -> StockAnswer:
    """Connect, ask once, disconnect: every step bounded by `timeout`, so a lookup offline
    gives up quickly. Raises StockUnavailable for every way of not getting an answer."""
    try:
        nc = await nats.connect(
            url,
            connect_timeout=timeout,
            allow_reconnect=False,
            max_reconnect_attempts=1,  # nats-py retries the first connect forever at 0
            reconnect_time_wait=0.2,
            error_cb=_quiet,  # not reaching the hub is expected offline: no traceback in logs
            name=f"kucun-lookup-{node}",
            **(auth or {}),
        )
    except Exception as exc:  # nats-py raises many kinds; all mean "not now"
        raise StockUnavailable(exc.__class__.__name__) from None
    try:
        reply = await nc.request(stock_query_subject(node), encode_query(sku), timeout=timeout)
    except Exception as exc:
        raise StockUnavailable(exc.__class__.__name__) from None
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
    answer = decode_answer(reply.data)
    if answer is None or answer.sku != sku:
        raise StockUnavailable("garbled answer")
    return answer


async def serve_stock_queries(nc: NatsClient, answer: Callable[[str], StockAnswer]) -> Subscription:
    """Answer every node's stock queries on `nc` with `answer(sku)` until unsubscribed.
    Queries that do not decode get no reply (the asker times out)."""

    async def on_query(msg: Msg) -> None:
        query = decode_query(msg.data)
        if query is None or not msg.reply:
            return
        await msg.respond(encode_answer(answer(query.sku)))

    return await nc.subscribe(STOCK_QUERY_SUBSCRIPTION, cb=on_query)
