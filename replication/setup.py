"""Streams, consumers and the watermark bucket: what both sides must agree on, created
where missing (every call here is idempotent).

The hub creates everything; a node creates only its own consumers, and only where NATS has
no auth (with credentials it may read its consumers but not create them: a consumer's
filter is what limits the node to its own store).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from protocol import subjects
from replication.transport import ConsumerSpec, Setup, StreamSpec

log = logging.getLogger("kucun.replication.setup")

#: How long a message fetched by a hub that then died waits before redelivery.
ACK_WAIT_S = 30
#: How long a node's fetched hub message waits before redelivery.
NODE_ACK_WAIT_S = 60

EVENTS_STREAM = StreamSpec(
    subjects.EVENTS_STREAM, (subjects.EVENTS_SUBJECTS,), subjects.DUPLICATE_WINDOW_S
)
HUB_STREAM = StreamSpec(subjects.HUB_STREAM, (subjects.HUB_SUBJECTS,), subjects.DUPLICATE_WINDOW_S)

#: The hub's durable consumer on every node's log; no cap on unacknowledged messages.
HUB_INGEST = ConsumerSpec(
    stream=subjects.EVENTS_STREAM,
    durable=subjects.HUB_INGEST_CONSUMER,
    filter_subjects=(subjects.EVENTS_SUBJECTS,),
    ack_wait_s=ACK_WAIT_S,
    max_ack_pending=-1,
)

#: (node, location) of each registered node
Registered = Callable[[], Iterable[tuple[str, str]]]


def node_consumer(node: str, location: str) -> ConsumerSpec:
    """A node's durable consumer on the hub stream: what the hub sends all, and its store."""
    return ConsumerSpec(
        stream=subjects.HUB_STREAM,
        durable=subjects.node_consumer(node),
        filter_subjects=tuple(subjects.node_filter_subjects(location)),
        ack_wait_s=NODE_ACK_WAIT_S,
    )


def sibling_consumer(node: str, location: str) -> ConsumerSpec:
    """A node's durable consumer on the events stream: every log of its location, so the
    tills of one store fold each other's movements. It delivers the node's own log too,
    which the node skips."""
    return ConsumerSpec(
        stream=subjects.EVENTS_STREAM,
        durable=subjects.sibling_consumer(node),
        filter_subjects=(subjects.location_events_filter(location),),
        ack_wait_s=NODE_ACK_WAIT_S,
    )


def node_consumers(node: str, location: str) -> tuple[ConsumerSpec, ConsumerSpec]:
    """Both consumers a node reads through: the hub's logs, its siblings' logs."""
    return node_consumer(node, location), sibling_consumer(node, location)


async def ensure_streams(setup: Setup) -> None:
    """Create the event and hub streams and the watermark bucket if missing."""
    for spec in (EVENTS_STREAM, HUB_STREAM):
        await setup.ensure_stream(spec)
    await setup.ensure_bucket(subjects.WATERMARK_BUCKET)


async def ensure_node_consumers(
    setup: Setup, registered: Registered, skip: set[str] | frozenset[str] = frozenset()
) -> set[str]:
    """Create each registered node's durable consumers (hub logs, sibling logs). Nodes in
    `skip` are known to have theirs; returns the nodes that now have both."""
    done: set[str] = set()
    for node, location in registered():
        if node not in skip:
            for spec in node_consumers(node, location):
                if await setup.ensure_consumer(spec):
                    log.info("created consumer %s for node %s", spec.durable, node)
        done.add(node)
    return done


async def watch_node_consumers(
    setup: Setup, registered: Registered, stop: asyncio.Event, interval: float = 2.0
) -> None:
    """Keep creating consumers for nodes registered while the hub runs (`kucun hub
    add-node` is another process): a new node can sync seconds after NATS is reloaded,
    with no hub restart."""
    known = await ensure_node_consumers(setup, registered)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            try:
                known = await ensure_node_consumers(setup, registered, known)
            except Exception as exc:  # a NATS hiccup: try again next round, keep ingesting
                log.warning("could not create node consumers: %s", exc)
