"""The hub API routes for:
online orders: taken, routed to a store as a pick request, status, webhooks.

Rows of the one route table (assembled in hub/routes.py); see hub/route.py for a row.
"""

from __future__ import annotations

from hub.route import Route

ROUTES: tuple[Route, ...] = ()
