"""What the BYOK use cases need: the store of credentials and settings, the cipher that
keeps secrets encrypted at rest, and the check of a credential against its provider."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from domain.byok.credentials import (
    ByokSettings,
    ByokUsage,
    ClientByok,
    CredentialInput,
    StoredCredential,
    UpstreamCredential,
)
from domain.providers import ProviderRegistry


class CredentialCipher(Protocol):
    """Authenticated encryption of secrets (AES-GCM), bound to `context` (the credential's id
    and client, so a ciphertext cannot be moved to another row)."""

    @property
    def key_id(self) -> str:
        """The id of the current key (stored with each ciphertext)."""
        ...

    def encrypt(self, plaintext: str, context: str) -> bytes: ...

    def decrypt(self, ciphertext: bytes, key_id: str, context: str) -> str:
        """Raises CredentialUnreadable when the key id is unknown or the data fails to verify."""
        ...


class CredentialCheck(Protocol):
    async def verify(self, credential: CredentialInput) -> None:
        """One cheap authenticated request (list models); raises CredentialRejected."""
        ...


class ByokStore(Protocol):
    """Credentials and settings; every write bumps the configuration revision (the hot path
    caches them per revision)."""

    async def credentials(self, client_id: str | None = None) -> Sequence[StoredCredential]:
        """Active and removed credentials (of one client, or all), oldest first."""
        ...

    async def add_credential(self, credential: StoredCredential) -> None:
        """Store it; an active credential of the same client, provider and models is
        replaced (marked removed, its ciphertext wiped)."""
        ...

    async def revoke_credential(self, client_id: str, credential_id: str, at: datetime) -> bool:
        """Mark removed and wipe the ciphertext; False when no such active credential."""
        ...

    async def settings(self, client_id: str | None = None) -> Sequence[ByokSettings]: ...

    async def put_settings(self, settings: ByokSettings) -> None: ...

    async def touch(self, used: dict[str, datetime]) -> None:
        """Record when credentials were last used (best effort, no revision bump)."""
        ...

    async def usage(self, client_id: str, start: datetime, end: datetime) -> Sequence[ByokUsage]:
        """The client's BYOK usage records in [start, end), per model and currency."""
        ...

    async def rekey(self, reencrypt: Callable[[StoredCredential], bytes], key_id: str) -> int:
        """Re-encrypt every active credential in one transaction; the count."""
        ...


class ByokLookup(Protocol):
    """The hot path's view of every client's BYOK configuration, decrypted once per
    configuration revision (runtime/byok_cache.py): no SQL while the revision holds."""

    async def for_client(self, client_id: str, snapshot: object = None) -> ClientByok | None:
        """None: the client has no BYOK configuration (its calls are agency-paid).
        `snapshot`: the configuration snapshot the call was authorized against; while it is
        the same object (the same revision), nothing is read, not even the revision."""
        ...

    def note_used(self, credential_id: str) -> None:
        """A call used the credential (its `last used` time, written in the background)."""
        ...


class CredentialedProviders(Protocol):
    """The provider registry, as seen by calls made with a client's own credential: the same
    adapters and pooled sessions, with that credential's headers (and base URL)."""

    def with_credential(self, credential: UpstreamCredential) -> ProviderRegistry: ...
