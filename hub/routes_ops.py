"""The hub API routes for operations: Prometheus metrics and readiness.

Rows of the one route table (assembled in hub/routes.py); see hub/route.py for a row.
`/healthz` (hub/routes.py) is liveness: the process and its database answer. `/readyz`
is readiness: also connected to NATS with the streams set up, so ingest and publishing
run. A load balancer sends traffic on readiness; a supervisor restarts on liveness.
"""

from __future__ import annotations

import sqlite3

from hub.metrics import CONTENT_TYPE, METRICS, STATE
from hub.route import Call, Route, Unavailable
from hub.schemas import Strict


class MetricsText(Strict):
    """Prometheus' text exposition format; the route sends `text` as text/plain."""

    text: str


class Ready(Strict):
    """Ready: the database answers, NATS is connected and the streams are set up."""

    ready: bool
    database: bool
    nats: bool
    streams: bool
    unfolded: int


def get_metrics(call: Call[None]) -> MetricsText:
    METRICS.read_database(call.hub.store)
    METRICS.nats_connected.set(1 if STATE.nats else 0)
    METRICS.stuck_logs.set(len(STATE.stuck))
    return MetricsText(text=METRICS.render().decode())


def get_readyz(call: Call[None]) -> Ready:
    try:
        health = call.hub.health()
    except sqlite3.Error as exc:
        raise Unavailable(f"not ready: the database does not answer ({exc})") from None
    missing = [
        why
        for ok, why in (
            (STATE.nats, f"not connected to NATS ({STATE.nats_problem or 'connecting'})"),
            (STATE.streams, "the JetStream streams are not set up yet"),
        )
        if not ok
    ]
    if missing:
        raise Unavailable("not ready: " + "; ".join(missing))
    return Ready(ready=True, database=True, nats=True, streams=True, unfolded=health.unfolded)


ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/metrics",
        handler=get_metrics,
        summary="Prometheus metrics (text/plain; version=0.0.4), on the hub's own registry",
        response=MetricsText,
        errors=(),
        roles=None,
        content_type=CONTENT_TYPE,
    ),
    Route(
        method="GET",
        path="/readyz",
        handler=get_readyz,
        summary="readiness: 200 when the database answers, NATS is connected and the "
        "streams are set up; 503 saying what is missing",
        response=Ready,
        errors=(503,),
        roles=None,
    ),
)
