"""Which key an attempt of a call uses (docs/byok.md): the client's own credential for the
model when it has one; after its removal the agency's key or a refusal, as the client's
settings say; and a fallback from a BYOK model to an agency-paid one only when allowed."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.byok.credentials import ClientByok, OnRevoke, UpstreamCredential
from domain.byok.errors import ByokCredentialRevoked
from domain.byok.ports import ByokLookup
from domain.catalog.models import Model
from domain.usecases.grants import CallGrant


@dataclass(frozen=True, slots=True)
class KeyChoice:
    credential: UpstreamCredential | None  # None: the agency's key
    allowed: bool = True  # False: this target is skipped (a fallback the settings forbid)


AGENCY = KeyChoice(None)
SKIP = KeyChoice(None, allowed=False)


def refuse_revoked(byok: ClientByok | None, model: Model) -> None:
    """Raise when the model's credential was removed and the client refuses agency-paid
    calls for it."""
    if byok is None:
        return
    if byok.settings.on_revoke is OnRevoke.REFUSE and byok.revoked_for(model.id, model.provider):
        raise ByokCredentialRevoked(
            f"this client's own {model.provider} credential for {model.id} was removed, and "
            "its settings refuse calls on the agency's key; ask the agency to set it again"
        )


def key_for(byok: ClientByok | None, primary: Model, target: Model, number: int) -> KeyChoice:
    """The key attempt `number` (0: the model asked for, then its fallbacks) sends upstream."""
    if byok is None:
        return AGENCY
    credential = byok.credential_for(target.id, target.provider)
    if credential is not None:
        return KeyChoice(credential)
    settings = byok.settings
    if settings.on_revoke is OnRevoke.REFUSE and byok.revoked_for(target.id, target.provider):
        return SKIP  # authorize refused the model itself; a fallback is just skipped
    from_byok = byok.credential_for(primary.id, primary.provider) is not None
    if number and from_byok and not settings.fallback_to_agency:
        return SKIP  # from a BYOK model to an agency-paid one: only when allowed
    return AGENCY


async def recovered_key(byok: ByokLookup | None, grant: CallGrant) -> tuple[CallGrant, str | None]:
    """For journal recovery: the grant with the client's BYOK configuration now, and the id
    of the client's credential that serves the call's model (None: agency-paid). The journal
    does not record which key the attempt used; recovery runs within minutes."""
    if byok is None:
        return grant, None
    grant = replace(grant, byok=await byok.for_client(grant.client.id))
    model = grant.target.model
    credential = key_for(grant.byok, model, model, 0).credential
    return grant, credential.id if credential is not None else None
