"""NATS identities: the hub's own NKEY and one per registered node.

Only public keys go into the NATS server's config; a node's seed is printed once, when the
node is added, and kept by that node. The hub keeps its own seed to connect with.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import nkeys

from hub.store import HubError, HubStore
from ledger.sqlite import transaction
from protocol.events import valid_replica_id


@dataclass(frozen=True)
class NodeIdentity:
    node: str
    location: str
    public_key: str


def new_user_seed() -> tuple[str, str]:
    """(seed, public key) of a fresh NATS user NKEY."""
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    return seed.decode(), _public_key(seed)


def hub_seed(store: HubStore) -> str:
    """The hub's own seed, created on first use."""
    existing = store.tables.hub_seed()
    if existing:
        return existing
    seed, public = new_user_seed()
    with transaction(store.conn):  # `nats serve --hub-db` and `hub serve` may race here
        store.tables.add_hub_identity(public, seed)
    stored = store.tables.hub_seed()
    assert stored is not None
    return stored


def hub_public_key(store: HubStore) -> str:
    return _public_key(hub_seed(store).encode())


def _public_key(seed: bytes) -> str:
    public: bytes = nkeys.from_seed(bytearray(seed)).public_key  # type: ignore[assignment]
    return public.decode()


def add_node(store: HubStore, node: str, location: str | None = None) -> str:
    """Register a node; return its seed (not stored here: only the node keeps it)."""
    location = location or node
    for label, value in (("node id", node), ("location", location)):
        if not valid_replica_id(value):
            raise HubError(f"{label} {value!r} is not valid: use letters, digits, '-' or '_'")
    if store.tables.has_identity(node):
        raise HubError(
            f"node {node} is already registered; its credentials cannot be shown "
            "again. Register the till under a new node id."
        )
    seed, public = new_user_seed()
    with transaction(store.conn):
        store.tables.add_node_identity(node, location, public)
    return seed


def nodes(store: HubStore) -> list[NodeIdentity]:
    return [NodeIdentity(*row) for row in store.tables.node_identities()]
