"""Clients' own provider keys (docs/byok.md): store a credential (checked with its provider
first, encrypted, never shown back), remove it, set the client's BYOK settings, rotate the
encryption key, and build the hot path's decrypted view once per configuration revision.

`ByokDesk` is what one principal may do: owners and admins change, other staff read masked
credentials and settings; a portal token sees neither (its client's BYOK usage is in its usage
figures, apart)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from domain.access.principals import NotAllowed, Principal
from domain.alerting.webhooks import validate_url
from domain.billing.periods import Period
from domain.byok.credentials import (
    ByokSettings,
    ByokUsage,
    ClientByok,
    CredentialInput,
    MaskedCredential,
    StoredCredential,
    UpstreamCredential,
    by_client,
)
from domain.byok.errors import CredentialUnreadable
from domain.byok.ports import ByokStore, CredentialCheck, CredentialCipher
from domain.errors import NotFound, ValidationError
from domain.ids import new_id
from domain.ports import Clock

log = logging.getLogger("bizgraph.byok")


def context_of(credential_id: str, client_id: str) -> str:
    """The associated data a credential's ciphertext is bound to."""
    return f"byok:{client_id}:{credential_id}"


class ByokUseCases:
    def __init__(
        self,
        store: ByokStore,
        cipher: CredentialCipher,
        check: CredentialCheck,
        clock: Clock,
        *,
        allow_private: bool = False,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._check = check
        self._clock = clock
        self._allow_private = allow_private

    async def credentials(self, client_id: str) -> list[MaskedCredential]:
        return [MaskedCredential.of(c) for c in await self._store.credentials(client_id)]

    async def set_credential(self, new: CredentialInput) -> MaskedCredential:
        """Check the credential with one authenticated request to its provider (nothing is
        stored if that fails: CredentialRejected), then store it encrypted, replacing the
        client's active credential for the same provider and models."""
        if new.base_url is not None:
            try:
                base_url = validate_url(new.base_url, allow_private=self._allow_private)
            except ValidationError as exc:
                # The webhooks' rule, worded for webhooks: say what it applied to.
                raise ValidationError(f"base URL: {exc.message}") from exc
            if base_url.startswith("http://") and not self._allow_private:
                raise ValidationError("a base URL must use https://")
            new = replace(new, base_url=base_url)
        await self._check.verify(new)
        credential_id = new_id()
        stored = StoredCredential(
            id=credential_id,
            client_id=new.client_id,
            provider=new.provider,
            ciphertext=self._cipher.encrypt(new.api_key, context_of(credential_id, new.client_id)),
            key_id=self._cipher.key_id,
            last4=new.last4,
            base_url=new.base_url,
            organization=new.organization,
            project=new.project,
            models=new.models,
            created_at=self._clock.now(),
        )
        await self._store.add_credential(stored)
        return MaskedCredential.of(stored)

    async def remove_credential(self, client_id: str, credential_id: str) -> MaskedCredential:
        if not await self._store.revoke_credential(client_id, credential_id, self._clock.now()):
            raise NotFound(f"no active credential {credential_id} of client {client_id}")
        found = [c for c in await self._store.credentials(client_id) if c.id == credential_id]
        return MaskedCredential.of(found[0])

    async def settings(self, client_id: str) -> ByokSettings:
        stored = await self._store.settings(client_id)
        return stored[0] if stored else ByokSettings(client_id)

    async def set_settings(self, settings: ByokSettings) -> ByokSettings:
        await self._store.put_settings(settings)
        return settings

    async def usage(self, client_id: str, start: datetime, end: datetime) -> list[ByokUsage]:
        return list(await self._store.usage(client_id, start, end))

    async def rotate(self) -> int:
        """Re-encrypt every active credential under the current key (the cipher must also
        hold the old one), in one transaction; the count."""

        def reencrypt(credential: StoredCredential) -> bytes:
            context = context_of(credential.id, credential.client_id)
            plain = self._cipher.decrypt(credential.ciphertext, credential.key_id, context)
            return self._cipher.encrypt(plain, context)

        return await self._store.rekey(reencrypt, self._cipher.key_id)

    async def configuration(self) -> dict[str, ClientByok]:
        """Every client's BYOK configuration, decrypted (the hot path's cache, per revision).
        A credential that does not decrypt (the secret key changed without a rotation) is
        logged by id and treated as removed."""
        pairs: dict[str, list[tuple[StoredCredential, UpstreamCredential | None]]] = {}
        for stored in await self._store.credentials():
            pairs.setdefault(stored.client_id, []).append((stored, self._decrypted(stored)))
        settings = {s.client_id: s for s in await self._store.settings()}
        return by_client(settings, pairs)

    def _decrypted(self, stored: StoredCredential) -> UpstreamCredential | None:
        if not stored.active:
            return None
        try:
            key = self._cipher.decrypt(
                stored.ciphertext, stored.key_id, context_of(stored.id, stored.client_id)
            )
        except CredentialUnreadable as exc:
            log.error("BYOK credential %s cannot be decrypted: %s", stored.id, exc)
            return None
        return UpstreamCredential(
            stored.id, stored.provider, key, stored.base_url, stored.organization, stored.project
        )

    async def note_used(self, used: dict[str, datetime]) -> None:
        """Write when credentials were last used (best effort)."""
        await self._store.touch(used)

    def now(self) -> datetime:
        return self._clock.now()


class ByokDesk:
    """BYOK as one principal may use it (Management.byok)."""

    def __init__(
        self,
        principal: Principal,
        byok: ByokUseCases | None,
        period: Callable[[str | None], Period],
    ) -> None:
        self._principal = principal
        self._byok = byok
        self._period = period  # a month label to the agency's month

    def _use_cases(self) -> ByokUseCases:
        if self._byok is None:
            raise NotAllowed("BYOK is not configured on this gateway")
        return self._byok

    def _require_staff(self) -> ByokUseCases:
        if self._principal.client_id is not None:
            raise NotAllowed("a portal token cannot see provider credentials")
        return self._use_cases()

    def _require_write(self) -> ByokUseCases:
        if not self._principal.can_mutate:
            raise NotAllowed("this token may not change provider credentials (owner or admin only)")
        return self._require_staff()

    async def usage(self, client_id: str, label: str | None) -> Sequence[ByokUsage]:
        """A client's BYOK usage per model (a portal token: its own client's only; the list
        cost is what its own provider bills it, so it is shown under every plan)."""
        if not self._principal.may_see_client(client_id):
            return []
        period = self._period(label)
        return await self._use_cases().usage(client_id, period.start, period.end)

    async def credentials(self, client_id: str) -> Sequence[MaskedCredential]:
        return await self._require_staff().credentials(client_id)

    async def settings(self, client_id: str) -> ByokSettings:
        return await self._require_staff().settings(client_id)

    async def set_credential(self, new: CredentialInput) -> MaskedCredential:
        return await self._require_write().set_credential(new)

    async def remove_credential(self, client_id: str, credential_id: str) -> MaskedCredential:
        return await self._require_write().remove_credential(client_id, credential_id)

    async def set_settings(self, settings: ByokSettings) -> ByokSettings:
        return await self._require_write().set_settings(settings)
