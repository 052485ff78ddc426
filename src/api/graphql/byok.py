"""Clients' own provider keys in the management API (docs/byok.md): the `providerCredentials`,
`byokSettings` and `byokUsage` queries and the `setProviderCredential`,
`removeProviderCredential` and `setByokSettings` mutations, mixed into Query and Mutation.

A credential is never returned: only its last four characters, scope and when it was last
used. Owners and admins change; other staff read (masked); a portal token sees neither the
credentials nor the settings, only its own client's BYOK usage (what its provider billed it at
list price, and the fee)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from api.graphql.context import Info
from api.graphql.errors import NotFoundError, ValidationError, attempt, visible
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate, IsStaff
from api.graphql.shared import Money
from domain.byok import credentials as domain
from domain.byok.fees import ByokFee, FeeKind


@strawberry.enum(description="How calls made with a client's own key are charged.")
class ByokFeeKind(Enum):
    PERCENT_OF_LIST = FeeKind.PERCENT_OF_LIST.value
    PER_REQUEST = FeeKind.PER_REQUEST.value
    PER_MILLION_TOKENS = FeeKind.PER_MILLION_TOKENS.value
    INCLUDED = FeeKind.INCLUDED.value


@strawberry.enum(description="What a client's budgets count of its BYOK calls.")
class ByokBudgetBasis(Enum):
    FEE = "fee"
    LIST_COST = "list_cost"


@strawberry.enum(description="Calls after the client's credential is removed.")
class ByokOnRevoke(Enum):
    AGENCY = "agency"
    REFUSE = "refuse"


@strawberry.type(description="A client's own provider credential, masked: never the key.")
class ProviderCredential:
    id: strawberry.ID
    client_id: strawberry.ID
    provider: str
    last4: str = strawberry.field(description="The key's last four characters.")
    base_url: str | None
    organization: str | None
    project: str | None
    models: list[str] = strawberry.field(description="Empty: every model of the provider.")
    created_at: datetime
    last_used_at: datetime | None
    removed_at: datetime | None

    @classmethod
    def of(cls, c: domain.MaskedCredential) -> ProviderCredential:
        return cls(
            id=strawberry.ID(c.id),
            client_id=strawberry.ID(c.client_id),
            provider=c.provider,
            last4=c.last4,
            base_url=c.base_url,
            organization=c.organization,
            project=c.project,
            models=list(c.models),
            created_at=c.created_at,
            last_used_at=c.last_used_at,
            removed_at=c.revoked_at,
        )


@strawberry.type
class ByokSettings:
    client_id: strawberry.ID
    fee_kind: ByokFeeKind
    fee_amount: Decimal = strawberry.field(
        description="Percent of list cost, or per request / per million tokens in the "
        "model's price currency; 0 when included."
    )
    budget_basis: ByokBudgetBasis
    fallback_to_agency: bool = strawberry.field(
        description="Whether a BYOK call may fall back to an agency-paid model."
    )
    on_revoke: ByokOnRevoke

    @classmethod
    def of(cls, s: domain.ByokSettings) -> ByokSettings:
        return cls(
            client_id=strawberry.ID(s.client_id),
            fee_kind=ByokFeeKind(s.fee.kind.value),
            fee_amount=s.fee.amount,
            budget_basis=ByokBudgetBasis(s.budget_basis.value),
            fallback_to_agency=s.fallback_to_agency,
            on_revoke=ByokOnRevoke(s.on_revoke.value),
        )


@strawberry.type(description="A client's calls with its own key to one model in a month.")
class ByokUsage:
    model: str
    requests: int
    input_tokens: int
    output_tokens: int
    list_cost: Money = strawberry.field(
        description="Paid to the provider directly by the client, at the catalog's list price."
    )
    fee: Money = strawberry.field(description="The agency's BYOK fee (its charge).")

    @classmethod
    def of(cls, u: domain.ByokUsage) -> ByokUsage:
        return cls(
            model=u.model_id,
            requests=u.requests,
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            list_cost=Money.of(u.list_cost),
            fee=Money.of(u.fee),
        )


@strawberry.input
class SetProviderCredentialInput:
    client_id: strawberry.ID
    provider: str = strawberry.field(
        description="openai (or OpenAI-compatible), anthropic, google."
    )
    api_key: str = strawberry.field(description="Checked with the provider, stored encrypted.")
    base_url: str | None = None
    organization: str | None = None
    project: str | None = None
    models: list[str] | None = strawberry.field(
        default=None, description="Only these models (provider/model); null: all of them."
    )


@strawberry.input
class SetByokSettingsInput:
    client_id: strawberry.ID
    fee_kind: ByokFeeKind
    fee_amount: Decimal = Decimal(0)
    budget_basis: ByokBudgetBasis = ByokBudgetBasis.FEE
    fallback_to_agency: bool = False
    on_revoke: ByokOnRevoke = ByokOnRevoke.AGENCY


@strawberry.type
class SetProviderCredentialSuccess:
    credential: ProviderCredential


@strawberry.type
class RemoveProviderCredentialSuccess:
    credential: ProviderCredential


@strawberry.type
class SetByokSettingsSuccess:
    settings: ByokSettings


SetProviderCredentialResult = Annotated[
    SetProviderCredentialSuccess | ValidationError | NotFoundError,
    strawberry.union("SetProviderCredentialResult"),
]
RemoveProviderCredentialResult = Annotated[
    RemoveProviderCredentialSuccess | NotFoundError,
    strawberry.union("RemoveProviderCredentialResult"),
]
SetByokSettingsResult = Annotated[
    SetByokSettingsSuccess | ValidationError | NotFoundError,
    strawberry.union("SetByokSettingsResult"),
]


@field(permissions=[IsStaff], description="A client's own provider credentials, masked.")
async def provider_credentials(info: Info, client_id: strawberry.ID) -> list[ProviderCredential]:
    found = await visible(info.context.management.byok.credentials(str(client_id)))
    return [ProviderCredential.of(c) for c in found]


@field(permissions=[IsStaff], description="A client's BYOK fee and rules (defaults if unset).")
async def byok_settings(info: Info, client_id: strawberry.ID) -> ByokSettings:
    return ByokSettings.of(await visible(info.context.management.byok.settings(str(client_id))))


@field(
    description='A client\'s calls with its own provider keys in a month "YYYY-MM" (default: '
    "the current one), per model: list cost (paid to the provider directly) and the fee."
)
async def byok_usage(
    info: Info, client_id: strawberry.ID, period: str | None = None
) -> list[ByokUsage]:
    rows = await visible(info.context.management.byok.usage(str(client_id), period))
    return [ByokUsage.of(row) for row in rows]


@mutation(
    permissions=[CanMutate],
    description="Check a client's own provider key with the provider (one list-models "
    "request; a refusal is a ValidationError and nothing is stored), then store it "
    "encrypted, replacing the client's key for the same provider and models.",
)
async def set_provider_credential(
    info: Info, input: SetProviderCredentialInput
) -> SetProviderCredentialResult:
    async def run() -> SetProviderCredentialSuccess:
        models = input.models or []
        new = domain.CredentialInput(
            client_id=str(input.client_id),
            provider=input.provider,
            api_key=input.api_key,
            base_url=input.base_url,
            organization=input.organization,
            project=input.project,
            models=tuple(models),
        )
        stored = await info.context.management.byok.set_credential(new)
        return SetProviderCredentialSuccess(credential=ProviderCredential.of(stored))

    return await attempt(run, (ValidationError, NotFoundError))


@mutation(
    permissions=[CanMutate],
    description="Remove a client's credential (its ciphertext is wiped): calls then use the "
    "agency's key or are refused, as the client's BYOK settings say.",
)
async def remove_provider_credential(
    info: Info, client_id: strawberry.ID, credential_id: strawberry.ID
) -> RemoveProviderCredentialResult:
    async def run() -> RemoveProviderCredentialSuccess:
        byok = info.context.management.byok
        removed = await byok.remove_credential(str(client_id), str(credential_id))
        return RemoveProviderCredentialSuccess(credential=ProviderCredential.of(removed))

    return await attempt(run, (NotFoundError,))


@mutation(permissions=[CanMutate], description="Set a client's BYOK fee and rules.")
async def set_byok_settings(info: Info, input: SetByokSettingsInput) -> SetByokSettingsResult:
    async def run() -> SetByokSettingsSuccess:
        chosen = domain.ByokSettings(
            client_id=str(input.client_id),
            fee=ByokFee(FeeKind(input.fee_kind.value), input.fee_amount),
            budget_basis=domain.BudgetBasis(input.budget_basis.value),
            fallback_to_agency=input.fallback_to_agency,
            on_revoke=domain.OnRevoke(input.on_revoke.value),
        )
        stored = await info.context.management.byok.set_settings(chosen)
        return SetByokSettingsSuccess(settings=ByokSettings.of(stored))

    return await attempt(run, (ValidationError, NotFoundError))
