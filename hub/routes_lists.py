"""The hub API routes for:
paged lists: stores with sync state, stock, movements, documents, alerts, users, dead letters.

Rows of the one route table (assembled in hub/routes.py); see hub/route.py for a row.
"""

from __future__ import annotations

from hub.route import Route

ROUTES: tuple[Route, ...] = ()
