"""NATS subject, stream and consumer names: the wire contract between nodes and the hub."""

from __future__ import annotations

#: Node -> hub: each origin publishes its own log on kucun.ev.<origin>.
EVENTS_STREAM = "KUCUN_EVENTS"
EVENTS_SUBJECTS = "kucun.ev.>"
EVENTS_PREFIX = "kucun.ev."

#: Hub -> nodes: master data, purchase orders, inbound transfers, hub-origin events.
HUB_STREAM = "KUCUN_HUB"
HUB_SUBJECTS = "kucun.hub.>"
HUB_EVENTS_SUBJECT = "kucun.hub.ev"

#: The hub's durable consumer on the events stream.
HUB_INGEST_CONSUMER = "hub-ingest"

#: Keep the dedup window long: a store that retries after hours must still be deduplicated.
DUPLICATE_WINDOW_S = 6 * 3600

#: A batch on the wire stays well under NATS's default 1 MiB max_payload.
MAX_BATCH_BYTES = 512 * 1024


def events_subject(origin: str) -> str:
    return f"{EVENTS_PREFIX}{origin}"


def origin_of_subject(subject: str) -> str | None:
    if not subject.startswith(EVENTS_PREFIX):
        return None
    origin = subject[len(EVENTS_PREFIX) :]
    return origin if origin and "." not in origin else None


def batch_msg_id(origin: str, first_seq: int, last_seq: int) -> str:
    return f"{origin}:{first_seq}-{last_seq}"


def node_consumer(node: str) -> str:
    """Each node's durable consumer on the hub stream, so it resumes where it stopped."""
    return f"node-{node}"
