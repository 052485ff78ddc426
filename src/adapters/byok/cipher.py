"""AES-GCM encryption of clients' provider credentials at rest (the `cryptography` package).

The 256-bit key is derived with HKDF-SHA256 from BIZGRAPH_SECRET_KEY, so no second secret has
to be kept; its id (a fingerprint of the derived key, not of the secret) is stored with each
ciphertext so a rotation knows what to re-encrypt and a wrong key fails loudly instead of
decrypting garbage. A ciphertext is a fresh 96-bit nonce followed by the sealed data; the
credential's row context (its id and client) is the associated data, so a ciphertext copied to
another row does not decrypt.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.byok.errors import CredentialUnreadable
from domain.byok.ports import CredentialCipher

_INFO = b"bizgraph byok credentials v1"
_SALT = b"bizgraph-byok-hkdf-salt-v1"
_NONCE = 12


def derive_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
        secret.encode("utf-8")
    )


def key_id_of(key: bytes) -> str:
    return "k" + hashlib.sha256(b"bizgraph byok key id" + key).hexdigest()[:15]


class AesGcmCipher(CredentialCipher):
    """Encrypts under the key derived from `secret`; decrypts under it or any of `older`
    (the secrets a rotation moves away from)."""

    def __init__(self, secret: str, older: Iterable[str] = ()) -> None:
        current = derive_key(secret)
        self._current_id = key_id_of(current)
        self._keys = {self._current_id: AESGCM(current)}
        for old in older:
            key = derive_key(old)
            self._keys.setdefault(key_id_of(key), AESGCM(key))

    @property
    def key_id(self) -> str:
        return self._current_id

    def encrypt(self, plaintext: str, context: str) -> bytes:
        nonce = os.urandom(_NONCE)
        sealed = self._keys[self._current_id].encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        return nonce + sealed

    def decrypt(self, ciphertext: bytes, key_id: str, context: str) -> str:
        aead = self._keys.get(key_id)
        if aead is None:
            raise CredentialUnreadable(f"no key {key_id} here (was the secret key changed?)")
        try:
            plain = aead.decrypt(ciphertext[:_NONCE], ciphertext[_NONCE:], context.encode())
        except (InvalidTag, ValueError) as exc:
            raise CredentialUnreadable("a stored credential failed to verify") from exc
        return plain.decode("utf-8")
