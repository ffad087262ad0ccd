"""Replica tables of the hub API's lists area, as their own migration component
("ledger-lists"), so that its scripts never interleave with another area's.

Append only: a released script is never edited (ledger/schema.py says why).
"""

from __future__ import annotations

MIGRATIONS: list[str] = []
