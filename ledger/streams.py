"""JetStream consumer settings both sides must agree on."""

from __future__ import annotations

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from protocol import subjects


def node_consumer_config(node: str, location: str) -> ConsumerConfig:
    """A node's durable consumer on the hub stream: what the hub sends all, and its store.
    Created by the hub for registered nodes, or by the node itself where NATS has no auth."""
    return ConsumerConfig(
        durable_name=subjects.node_consumer(node),
        filter_subjects=subjects.node_filter_subjects(location),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=60,
    )
