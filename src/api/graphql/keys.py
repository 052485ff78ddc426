"""API keys: the key type (with its own budget), `issueApiKey`, `revokeApiKey` and
`setKeyRateLimits`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.graphql.budgets import Budget, budget_of
from api.graphql.context import Info
from api.graphql.errors import NotFoundError, ValidationError, attempt
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate
from domain.access import keys
from domain.usecases.keys import NewKey

WRITE = [CanMutate]
_VN = (ValidationError, NotFoundError)


@strawberry.type
class ApiKey:
    id: strawberry.ID
    client_id: strawberry.ID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    allowed_models: list[str]
    rpm_limit: int | None
    tpm_limit: int | None

    @classmethod
    def of(cls, key: keys.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(key.id),
            client_id=strawberry.ID(key.client_id),
            name=key.name,
            prefix=key.prefix,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            allowed_models=list(key.allowed_models),
            rpm_limit=key.rpm_limit,
            tpm_limit=key.tpm_limit,
            domain_key=key,
        )

    domain_key: strawberry.Private[keys.ApiKey]

    @field(description="This key's own budget (null when it has none).")
    async def budget(self, info: Info) -> Budget | None:
        key = self.domain_key
        status = await info.context.loaders.budgets.load((key.client_id, key.id))
        return await budget_of(info, status)


@strawberry.input
class IssueApiKeyInput:
    name: str = ""
    expires_at: datetime | None = None
    allowed_models: list[str] = strawberry.field(default_factory=list)
    rpm_limit: int | None = None
    tpm_limit: int | None = None


@strawberry.input
class RateLimitsInput:
    rpm_limit: int | None = strawberry.field(default=None, description="Requests per minute.")
    tpm_limit: int | None = strawberry.field(default=None, description="Tokens per minute.")


@strawberry.type
class IssueApiKeySuccess:
    secret: str = strawberry.field(description="Shown once; only its prefix is kept.")
    api_key: ApiKey


@strawberry.type
class RevokeApiKeySuccess:
    api_key: ApiKey


@strawberry.type
class ApiKeySuccess:
    api_key: ApiKey


IssueApiKeyResult = Annotated[
    IssueApiKeySuccess | ValidationError | NotFoundError, strawberry.union("IssueApiKeyResult")
]


RevokeApiKeyResult = Annotated[
    RevokeApiKeySuccess | NotFoundError, strawberry.union("RevokeApiKeyResult")
]


SetKeyRateLimitsResult = Annotated[
    ApiKeySuccess | ValidationError | NotFoundError, strawberry.union("SetKeyRateLimitsResult")
]


@mutation(permissions=WRITE)
async def issue_api_key(
    info: Info, client_id: strawberry.ID, input: IssueApiKeyInput
) -> IssueApiKeyResult:
    async def run() -> IssueApiKeySuccess:
        new = NewKey(
            client_id=str(client_id),
            name=input.name,
            expires_at=input.expires_at,
            allowed_models=tuple(input.allowed_models),
            rpm_limit=input.rpm_limit,
            tpm_limit=input.tpm_limit,
        )
        issued = await info.context.management.issue_key(new)
        return IssueApiKeySuccess(secret=issued.secret, api_key=ApiKey.of(issued.key))

    return await attempt(run, _VN)


@mutation(permissions=WRITE)
async def revoke_api_key(info: Info, id: strawberry.ID) -> RevokeApiKeyResult:
    async def run() -> RevokeApiKeySuccess:
        key = await info.context.management.revoke_key(str(id))
        return RevokeApiKeySuccess(api_key=ApiKey.of(key))

    return await attempt(run, (NotFoundError,))


@mutation(permissions=WRITE, description="Effective on the key's next request.")
async def set_key_rate_limits(
    info: Info, key_id: strawberry.ID, input: RateLimitsInput
) -> SetKeyRateLimitsResult:
    async def run() -> ApiKeySuccess:
        key = await info.context.management.set_key_rate_limits(
            str(key_id), input.rpm_limit, input.tpm_limit
        )
        return ApiKeySuccess(api_key=ApiKey.of(key))

    return await attempt(run, _VN)
