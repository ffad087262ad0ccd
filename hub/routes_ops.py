"""The hub API routes for operations: Prometheus metrics and readiness.

Rows of the one route table (assembled in hub/routes.py); see hub/route.py for a row.
"""

from __future__ import annotations

from hub.route import Route

ROUTES: tuple[Route, ...] = ()
