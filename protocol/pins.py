"""PINs as the ledger keeps them: a salted scrypt hash, never the PIN itself.

Pure (hashlib only): the caller supplies the salt (`os.urandom(16)`), so a till and the hub
hash alike, and a user created at head office can log in at every till.
"""

from __future__ import annotations

import hashlib
import hmac

_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MiB and a few tens of ms per check


def valid_pin(pin: str) -> bool:
    """4 to 12 ASCII digits: what a till's keypad can type."""
    return pin.isdigit() and pin.isascii() and 4 <= len(pin) <= 12


def hash_pin(pin: str, salt: bytes) -> str:
    """`scrypt$n$r$p$<salt hex>$<hash hex>`: everything needed to check the PIN again."""
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
