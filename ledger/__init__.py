"""The replica store: one SQLite file holding event logs and the state derived from them.

Node and hub are both replicas of the same event sets, so they share this one
implementation of "store events idempotently, verify each origin's chain, fold them into
stock and master data"; only what surrounds it (sync, API, UI) differs.
"""
