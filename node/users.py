"""Users and PINs: who may confirm what a till would otherwise refuse.

A user is master data (`Upsert(entity="user")`), replicated like products, so a manager
added at the hub or at any till can confirm at every till. The PIN is never stored: only
a salted scrypt hash in one string field, `pin_hash`, which the hub may also send.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from node.errors import NodeError
from node.service import Node, wall_ms
from protocol.events import Event, Upsert

ROLES = ("admin", "manager", "cashier", "clerk", "finance")
#: who may approve an extra receipt, a difference, a reversal or an acceptance
APPROVER_ROLES = ("manager", "admin")

_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MiB and a few tens of ms per check


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$<salt hex>$<hash hex>`: everything needed to check the PIN again."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, encoded: str) -> bool:
    """True when `pin` hashes to `encoded` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def check_pin_format(pin: str) -> None:
    if not (pin.isdigit() and pin.isascii() and 4 <= len(pin) <= 12):
        raise NodeError("a PIN is 4 to 12 digits, e.g. --pin 4821")


def add_user(node: Node, user: str, name: str | None, role: str, pin: str | None) -> Event:
    """Create or change a user; the PIN goes into the ledger only as its salted hash."""
    if not user.strip() or user != user.strip():
        raise NodeError("give the user id without spaces, e.g. wang")
    if role not in ROLES:
        raise NodeError(f"role {role!r} is not known; use one of: {', '.join(ROLES)}")
    fields: dict[str, str | int | bool | None] = {"role": role}
    if name:
        fields["name"] = name
    if pin is not None:
        check_pin_format(pin)
        fields["pin_hash"] = hash_pin(pin)
    (event,) = node.store.append(
        [Upsert(entity="user", key=user, fields=fields)], node.user, wall_ms()
    )
    return event


def verify_approver(
    node: Node, user: str | None, pin: str | None, roles: tuple[str, ...] = APPROVER_ROLES
) -> str:
    """The user id when `user` with `pin` exists here, is active and has one of `roles`;
    otherwise NodeError saying what is wrong."""
    if not user or pin is None:
        raise NodeError("a manager must confirm this: add --approver USER --pin PIN")
    fields = node.read.master_fields("user", user)
    if not fields:
        raise NodeError(
            f"no user {user!r} at this till: add them with `kucun node user add`, or sync"
        )
    if fields.get("active") is False:
        raise NodeError(f"user {user} is not active: ask another manager to confirm")
    encoded = fields.get("pin_hash")
    if not isinstance(encoded, str):
        raise NodeError(
            f"user {user} has no PIN yet: set one with `kucun node user add {user} --pin …`"
        )
    if not pin_matches(pin, encoded):
        raise NodeError(f"wrong PIN for {user}: enter it again")
    if fields.get("role") not in roles:
        raise NodeError(
            f"{user} is {fields.get('role') or 'without a role'}: only a "
            f"{' or '.join(roles)} can confirm this"
        )
    return user
