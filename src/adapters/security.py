"""Key digests: HMAC-SHA256 with the server secret, so a database leak alone reveals no key."""

from __future__ import annotations

import hashlib
import hmac

from domain.access.ports import KeyHasher


class HmacKeyHasher(KeyHasher):
    def __init__(self, server_secret: str) -> None:
        if len(server_secret) < 32:
            raise ValueError("the server secret must be at least 32 characters")
        self._secret = server_secret.encode()

    def digest(self, secret: str) -> str:
        return hmac.new(self._secret, secret.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "HmacKeyHasher(<secret hidden>)"
