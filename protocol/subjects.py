"""NATS subject, stream and consumer names: the wire contract between nodes and the hub."""

from __future__ import annotations

from protocol.events import HUB_ORIGIN, is_hub_origin, valid_replica_id

#: Node -> hub and to the other nodes of its location: each node publishes its own log on
#: kucun.ev.<location>.<node>, so one filter (kucun.ev.<location>.*) gives a till its
#: siblings' logs. Messages from before the location was in the subject are on
#: kucun.ev.<node>; the hub still reads them.
EVENTS_STREAM = "KUCUN_EVENTS"
EVENTS_SUBJECTS = "kucun.ev.>"
EVENTS_PREFIX = "kucun.ev."

#: Hub -> nodes: master data to all on kucun.hub.all (origin "hub"); purchase orders,
#: inbound transfers and corrections for one location on kucun.hub.to.<location>
#: (origin "hub-<location>").
HUB_STREAM = "KUCUN_HUB"
HUB_SUBJECTS = "kucun.hub.>"
HUB_ALL_SUBJECT = "kucun.hub.all"
HUB_TO_PREFIX = "kucun.hub.to."

#: The hub's per-origin watermark (highest contiguous seq ingested), read back by nodes.
WATERMARK_BUCKET = "kucun-watermarks"
WATERMARK_STREAM = f"KV_{WATERMARK_BUCKET}"

#: Node -> hub, core NATS request/reply (no stream): "what does every location hold of this
#: SKU?" on kucun.stock.query.<node>, the SKU in the body (SKUs may hold dots); the hub
#: answers every node from its read model on one wildcard subscription.
STOCK_QUERY_PREFIX = "kucun.stock.query."
STOCK_QUERY_SUBSCRIPTION = f"{STOCK_QUERY_PREFIX}*"

#: Node -> hub, core NATS (no stream: only the latest matters): each node's sync state at
#: the end of each round (protocol/node_status.py) on kucun.status.<location>.<node>.
STATUS_PREFIX = "kucun.status."
STATUS_SUBSCRIPTION = f"{STATUS_PREFIX}>"

#: The hub's durable consumer on the events stream.
HUB_INGEST_CONSUMER = "hub-ingest"

#: Keep the dedup window long: a store that retries after hours must still be deduplicated.
DUPLICATE_WINDOW_S = 6 * 3600

#: A batch on the wire stays well under NATS's default 1 MiB max_payload.
MAX_BATCH_BYTES = 512 * 1024


def events_subject(node: str, location: str | None = None) -> str:
    """Where `node` publishes its log. The location defaults to the node id, as `node
    init` and `hub add-node` default it: a store with one till."""
    return f"{EVENTS_PREFIX}{location or node}.{node}"


def location_events_filter(location: str) -> str:
    """Every node's log at `location` (one token per node id: ids hold no dots)."""
    return f"{EVENTS_PREFIX}{location}.*"


def hub_to_subject(location: str) -> str:
    return f"{HUB_TO_PREFIX}{location}"


def publish_target(origin: str, location: str | None = None) -> tuple[str, str]:
    """(stream, subject) a log is published on: nodes to the events stream under their
    location (default: the node id), the hub's own logs to the hub stream."""
    if origin == HUB_ORIGIN:
        return HUB_STREAM, HUB_ALL_SUBJECT
    if is_hub_origin(origin):
        return HUB_STREAM, hub_to_subject(origin[len(HUB_ORIGIN) + 1 :])
    return EVENTS_STREAM, events_subject(origin, location)


def node_filter_subjects(location: str) -> list[str]:
    """What a node's consumer on the hub stream receives."""
    return [HUB_ALL_SUBJECT, hub_to_subject(location)]


def watermark_subject(origin: str) -> str:
    return f"$KV.{WATERMARK_BUCKET}.{origin}"


def origin_of_subject(subject: str) -> str | None:
    """The node whose log an events subject carries: the last token of
    kucun.ev.<location>.<node>, or of the older kucun.ev.<node>; None for anything else."""
    if not subject.startswith(EVENTS_PREFIX):
        return None
    tokens = subject[len(EVENTS_PREFIX) :].split(".")
    if len(tokens) > 2 or not all(tokens):
        return None
    return tokens[-1]


def batch_msg_id(origin: str, first_seq: int, last_seq: int, location: str | None = None) -> str:
    """A batch's Nats-Msg-Id: `<origin>:<first>-<last>`, a node's prefixed with its
    location (default: its id) like its subject. The duplicate window is per stream: a
    node re-sending its log on kucun.ev.<location>.<node> after an upgrade must not have
    it taken for the same batches it sent on kucun.ev.<node> (a duplicate ack there would
    make it reconcile with an empty subject and resend the same batch for ever)."""
    if is_hub_origin(origin):
        return f"{origin}:{first_seq}-{last_seq}"
    return f"{location or origin}.{origin}:{first_seq}-{last_seq}"


def parse_batch_msg_id(msg_id: str) -> tuple[str, int, int] | None:
    """(origin, first, last) of either form of `batch_msg_id`, and of the older
    `<origin>:<first>-<last>` of nodes; None for anything else."""
    named, sep, span = msg_id.rpartition(":")
    first, dash, last = span.partition("-")
    if not (sep and dash and first.isdigit() and last.isdigit()):
        return None
    return named.rpartition(".")[2], int(first), int(last)


def stock_query_subject(node: str) -> str:
    """Where `node` asks the hub for every location's stock of one SKU."""
    return f"{STOCK_QUERY_PREFIX}{node}"


def status_subject(node: str, location: str | None = None) -> str:
    """Where `node` reports its sync state (location defaults to the node id)."""
    return f"{STATUS_PREFIX}{location or node}.{node}"


def status_of_subject(subject: str) -> tuple[str, str] | None:
    """(location, node) of a status subject; None for anything else."""
    if not subject.startswith(STATUS_PREFIX):
        return None
    tokens = subject[len(STATUS_PREFIX) :].split(".")
    if len(tokens) != 2 or not all(valid_replica_id(t) for t in tokens):
        return None
    return tokens[0], tokens[1]


def node_consumer(node: str) -> str:
    """Each node's durable consumer on the hub stream, so it resumes where it stopped."""
    return f"node-{node}"


def sibling_consumer(node: str) -> str:
    """Each node's durable consumer on the events stream, filtered to its location: the
    other tills of its store (and its own log, which it skips)."""
    return f"sib-{node}"


def node_inbox_prefix(node: str) -> str:
    """Each node gets replies on its own inbox prefix, so it may subscribe to nothing else."""
    return f"_INBOX_{node}"


def node_permissions(node: str, location: str) -> dict[str, dict[str, list[str]]]:
    """The NATS permissions of one node's credentials: publish its own log, reconcile with
    its own last message, read its own watermark, the hub's logs through its own consumer
    and its location's logs through its own sibling consumer (whose filter the hub set, so
    the node cannot widen it); nothing of other nodes or stores."""
    own = events_subject(node, location)
    consumer, siblings = node_consumer(node), sibling_consumer(node)
    return {
        "publish": {
            "allow": [
                own,
                f"$JS.API.DIRECT.GET.{EVENTS_STREAM}.{own}",
                f"$JS.API.DIRECT.GET.{WATERMARK_STREAM}.{watermark_subject(node)}",
                f"$JS.API.CONSUMER.INFO.{HUB_STREAM}.{consumer}",
                f"$JS.API.CONSUMER.MSG.NEXT.{HUB_STREAM}.{consumer}",
                f"$JS.ACK.{HUB_STREAM}.{consumer}.>",
                f"$JS.API.CONSUMER.INFO.{EVENTS_STREAM}.{siblings}",
                f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.{siblings}",
                f"$JS.ACK.{EVENTS_STREAM}.{siblings}.>",
                f"kucun.notice.{node}.>",  # why it refuses to sync (replication/publisher.py)
                stock_query_subject(node),  # other stores' stock for the lookup (a request)
                status_subject(node, location),  # its sync state (protocol/node_status.py)
            ]
        },
        "subscribe": {"allow": [f"{node_inbox_prefix(node)}.>"]},
    }
