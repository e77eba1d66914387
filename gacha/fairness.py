"""Provably fair commit-reveal randomness: server seed commitment and HMAC-SHA256 rolls."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

ROLL_BITS = 52
ROLL_SCALE = 1 << ROLL_BITS
MAX_CLIENT_SEED_LENGTH = 128


def new_server_seed() -> str:
    """A fresh secret server seed: 32 random bytes as 64 lowercase hex characters."""
    return secrets.token_hex(32)


def seed_hash(server_seed: str) -> str:
    """SHA-256 hex digest of the server seed, published as the commitment before any draw."""
    _check_server_seed(server_seed)
    return hashlib.sha256(server_seed.encode("utf-8")).hexdigest()


def seed_matches_hash(server_seed: str, published_hash: str) -> bool:
    """Whether a revealed server seed matches the hash that was published before the draws."""
    if not isinstance(published_hash, str) or not published_hash.isascii():
        return False
    return hmac.compare_digest(seed_hash(server_seed), published_hash.lower())


def roll(server_seed: str, client_seed: str, nonce: int, sub_index: int = 0) -> float:
    """Uniform in [0, 1); this is the public contract anyone can recompute after the reveal.

        message = f"{client_seed}:{nonce}"               if sub_index == 0
                  f"{client_seed}:{nonce}:{sub_index}"   if sub_index >= 1
        digest  = HMAC-SHA256(key=server_seed.encode("utf-8"), msg=message.encode("utf-8")).hexdigest()
        roll    = int(digest[:13], 16) / 2**52           # first 52 bits of the HMAC

    ``nonce`` and ``sub_index`` are base-10 without padding; the key is the server seed string's
    UTF-8 bytes (not hex-decoded). ``seed_hash(server_seed)`` = sha256 of the same bytes is
    published before any draw. Client seeds may not contain ":" so every message maps to exactly
    one (client_seed, nonce, sub_index); sub-indices 1, 2, ... give further independent uniforms
    for the same pull.
    """
    return roll_int(server_seed, client_seed, nonce, sub_index) / ROLL_SCALE


def roll_int(server_seed: str, client_seed: str, nonce: int, sub_index: int = 0) -> int:
    """The roll as its 52-bit integer numerator, for exact arithmetic such as ``floor(roll * n)``."""
    _check_client_seed(client_seed)
    if isinstance(nonce, bool) or not isinstance(nonce, int) or nonce < 0:
        raise ValueError(f"nonce must be an int >= 0, got {nonce!r}")
    if isinstance(sub_index, bool) or not isinstance(sub_index, int) or sub_index < 0:
        raise ValueError(f"sub_index must be an int >= 0, got {sub_index!r}")
    message = f"{client_seed}:{nonce}" if sub_index == 0 else f"{client_seed}:{nonce}:{sub_index}"
    mac = _keyed_hmac(server_seed).copy()
    mac.update(message.encode("utf-8"))
    return int.from_bytes(mac.digest()[:7], "big") >> 4


def pick_index(roll_value: int, count: int) -> int:
    """``floor(roll * count)`` computed exactly from the 52-bit roll numerator."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    return (roll_value * count) >> ROLL_BITS


@lru_cache(maxsize=256)
def _keyed_hmac(server_seed: str) -> hmac.HMAC:
    # Keying once per seed and copying is ~35% faster than hmac.new per roll; copies never mutate it.
    _check_server_seed(server_seed)
    return hmac.new(server_seed.encode("utf-8"), digestmod=hashlib.sha256)


def _check_server_seed(server_seed: str) -> None:
    if not isinstance(server_seed, str) or not server_seed:
        raise ValueError("server_seed must be a non-empty string")


def _check_client_seed(client_seed: str) -> None:
    if not isinstance(client_seed, str) or not client_seed:
        raise ValueError("client_seed must be a non-empty string")
    if len(client_seed) > MAX_CLIENT_SEED_LENGTH:
        raise ValueError(f"client_seed must be at most {MAX_CLIENT_SEED_LENGTH} characters")
    if ":" in client_seed:
        raise ValueError("client_seed must not contain ':' (it separates the HMAC message fields)")
    if not client_seed.isprintable():
        raise ValueError("client_seed must be printable")

