"""The one shape of every bearer secret (API keys, staff tokens, portal tokens): a distinct
prefix and 256 random bits, shown once, stored as a keyed digest (the KeyHasher port) and shown
afterwards only by its display prefix."""

from __future__ import annotations

import secrets

# 32 random bytes: 256 bits, far beyond guessing; the digest needs no slow hash.
SECRET_BYTES = 32
DISPLAY_CHARS = 6


def generate_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(SECRET_BYTES)


def display_prefix(secret: str, prefix: str) -> str:
    return secret[: len(prefix) + DISPLAY_CHARS]


def looks_like_secret(value: str, prefix: str) -> bool:
    return value.startswith(prefix) and 20 <= len(value) <= 200 and value.isascii()
