"""The hub's Prometheus metrics, on a registry of its own (not the process-wide default).

What changes with every event or request (events ingested, request latency) is counted
where it happens; what the database knows (folding lag, per-node lag, dead letters,
tokens) is read when Prometheus scrapes, on a reader thread, so a scrape costs a few
aggregate reads and nothing between scrapes. Names are listed in docs/operations.md.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from hub.store import HubStore
from ledger import hub_counts
from ledger.sync_tables import NodeReports
from protocol.events import is_hub_origin
from replication.clock import wall_ms

#: what Prometheus' text format is served as
CONTENT_TYPE = CONTENT_TYPE_LATEST  # "text/plain; version=0.0.4; charset=utf-8"

#: request latency buckets (s): the API's target is p99 well under 0.1 s
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One hub process's metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events_ingested = Counter(
            "kucun_hub_ingest_events",
            "Node events stored and verified by ingest (rate: events/s)",
            registry=r,
        )
        self.unfolded = Gauge(
            "kucun_hub_unfolded_events",
            "Events stored but not yet folded into stock, cost and documents",
            registry=r,
        )
        self.node_lag = Gauge(
            "kucun_hub_node_lag_seconds",
            "Seconds since ingest last stored a delivery from this node",
            ["node"],
            registry=r,
        )
        self.node_seq = Gauge(
            "kucun_hub_node_ingested_seq",
            "The highest contiguous seq of this node's log the hub has stored and verified",
            ["node"],
            registry=r,
        )
        self.node_folded = Gauge(
            "kucun_hub_node_folded_seq",
            "The seq of this node's log that the hub's reports show",
            ["node"],
            registry=r,
        )
        self.node_backlog = Gauge(
            "kucun_hub_node_backlog_events",
            "Events a node last reported as not yet confirmed by the hub",
            ["node"],
            registry=r,
        )
        self.dead_letters = Gauge(
            "kucun_hub_dead_letters",
            "Messages ingest could not use and kept aside (GET /api/v1/rejected)",
            registry=r,
        )
        self.tokens = Gauge("kucun_hub_api_tokens", "API tokens that can be used", registry=r)
        self.nats_connected = Gauge(
            "kucun_hub_nats_connected", "1 while the hub is connected to NATS", registry=r
        )
        self.stuck_logs = Gauge(
            "kucun_hub_stuck_logs",
            "Hub logs that cannot be published (the others keep flowing)",
            registry=r,
        )
        self.requests = Histogram(
            "kucun_hub_http_request_duration_seconds",
            "API request latency by route template, method and status",
            ["route", "method", "status"],
            buckets=BUCKETS,
            registry=r,
        )

    def note_ingested(self, events: int) -> None:
        if events > 0:
            self.events_ingested.inc(events)

    def read_database(self, store: HubStore) -> None:
        """Set the gauges the database knows, from any thread's store."""
        events = store.events
        heads = events.log.heads()
        folded = events.projector.folded()
        self.unfolded.set(events.projector.unfolded())
        now = wall_ms()
        last = store.tables.last_ingest_ms()
        for node in sorted(set(heads) | set(last)):
            if is_hub_origin(node):
                continue
            self.node_seq.labels(node).set(heads.get(node, 0))
            self.node_folded.labels(node).set(folded.get(node, 0))
            if node in last:
                self.node_lag.labels(node).set(max(0.0, (now - last[node]) / 1000))
        for node, report in NodeReports(store.conn).all().items():  # what nodes report
            self.node_backlog.labels(node).set(report.status.backlog)
        self.dead_letters.set(hub_counts.dead_letters(store.conn))
        self.tokens.set(store.tables.active_tokens())

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        """Times every request by its route template (not its path: one series per route,
        however many SKUs are asked for); a path no route has is counted as `unmatched`."""

        @web.middleware
        async def timing(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            started = time.perf_counter()
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                resource = request.match_info.route.resource
                template = resource.canonical if resource is not None else "unmatched"
                self.requests.labels(template, request.method, str(status)).observe(
                    time.perf_counter() - started
                )

        return timing


@dataclass
class State:
    """What `hub serve` knows of its connection, for `/readyz` and `/metrics`."""

    nats: bool = False
    streams: bool = False
    #: why NATS is not connected, when known (refused, unreachable)
    nats_problem: str = ""
    #: hub logs that cannot be published: origin -> why (HubOutbox.stuck)
    stuck: dict[str, str] = field(default_factory=dict)


#: the process's connection state: `hub serve` sets it, `/readyz` reads it
STATE = State()

#: the hub process's metrics: `hub serve` feeds them, `GET /metrics` shows them
METRICS = Metrics()
