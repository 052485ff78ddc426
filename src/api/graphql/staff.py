"""Who is asking and the tokens that ask: `me`, staff tokens (owners manage them) and client
portal tokens."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.context import Info
from api.graphql.errors import NotFoundError, ValidationError, attempt
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate, IsOwner
from domain.access import principals as access

# strawberry.enum registers the GraphQL name on the domain enum itself (and returns it): the
# domain enum is the GraphQL type, named here once; the alias keeps it a valid annotation.
strawberry.enum(access.Role, name="Role")
Role: TypeAlias = access.Role
WRITE = [CanMutate]
_VN = (ValidationError, NotFoundError)


@strawberry.type
class StaffToken:
    id: strawberry.ID
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    email: str | None

    @classmethod
    def of(cls, token: access.StaffToken) -> StaffToken:
        return cls(
            id=strawberry.ID(token.id),
            name=token.name,
            email=token.email,
            role=token.role,
            prefix=token.prefix,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
        )


@strawberry.type
class PortalToken:
    id: strawberry.ID
    client_id: strawberry.ID
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: access.PortalToken) -> PortalToken:
        return cls(
            id=strawberry.ID(token.id),
            client_id=strawberry.ID(token.client_id),
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
        )


@strawberry.enum
class PrincipalKind(Enum):
    STAFF = "staff"
    PORTAL = "portal"


@strawberry.type
class Me:
    """Who this token is: staff (with a role) or a client portal (with its client)."""

    kind: PrincipalKind
    name: str
    role: Role | None
    client_id: strawberry.ID | None

    @classmethod
    def of(cls, principal: access.Principal) -> Me:
        client_id = principal.client_id
        return cls(
            kind=PrincipalKind.STAFF if client_id is None else PrincipalKind.PORTAL,
            name=principal.name,
            role=principal.role,
            client_id=None if client_id is None else strawberry.ID(client_id),
        )


@strawberry.input
class CreateStaffTokenInput:
    name: str
    role: Role
    email: str | None = None


@strawberry.type
class CreateStaffTokenSuccess:
    secret: str = strawberry.field(description="Shown once; only its digest is kept.")
    staff_token: StaffToken


@strawberry.type
class CreatePortalTokenSuccess:
    secret: str = strawberry.field(description="Shown once; only its digest is kept.")
    portal_token: PortalToken


@strawberry.type
class RevokeStaffTokenSuccess:
    staff_token: StaffToken


@strawberry.type
class RevokePortalTokenSuccess:
    portal_token: PortalToken


CreateStaffTokenResult = Annotated[
    CreateStaffTokenSuccess | ValidationError, strawberry.union("CreateStaffTokenResult")
]


CreatePortalTokenResult = Annotated[
    CreatePortalTokenSuccess | ValidationError | NotFoundError,
    strawberry.union("CreatePortalTokenResult"),
]


RevokeStaffTokenResult = Annotated[
    RevokeStaffTokenSuccess | NotFoundError, strawberry.union("RevokeStaffTokenResult")
]


RevokePortalTokenResult = Annotated[
    RevokePortalTokenSuccess | NotFoundError, strawberry.union("RevokePortalTokenResult")
]


@field(description="Who this token is.")
def me(info: Info) -> Me:
    return Me.of(info.context.principal)


@field(permissions=[IsOwner])
async def staff_tokens(info: Info) -> list[StaffToken]:
    return [StaffToken.of(t) for t in await info.context.management.staff_tokens()]


@mutation(permissions=[IsOwner])
async def create_staff_token(info: Info, input: CreateStaffTokenInput) -> CreateStaffTokenResult:
    async def run() -> CreateStaffTokenSuccess:
        issued = await info.context.management.create_staff_token(
            input.name, access.Role(input.role), input.email
        )
        return CreateStaffTokenSuccess(
            secret=issued.secret, staff_token=StaffToken.of(issued.token)
        )

    return await attempt(run, (ValidationError,))


@mutation(permissions=WRITE)
async def create_portal_token(
    info: Info, client_id: strawberry.ID, name: str = "portal"
) -> CreatePortalTokenResult:
    async def run() -> CreatePortalTokenSuccess:
        issued = await info.context.management.create_portal_token(str(client_id), name)
        return CreatePortalTokenSuccess(
            secret=issued.secret, portal_token=PortalToken.of(issued.token)
        )

    return await attempt(run, _VN)


@mutation(permissions=[IsOwner])
async def revoke_staff_token(info: Info, id: strawberry.ID) -> RevokeStaffTokenResult:
    async def run() -> RevokeStaffTokenSuccess:
        token = await info.context.management.revoke_staff_token(str(id))
        return RevokeStaffTokenSuccess(staff_token=StaffToken.of(token))

    return await attempt(run, (NotFoundError,))


@mutation(permissions=WRITE)
async def revoke_portal_token(info: Info, id: strawberry.ID) -> RevokePortalTokenResult:
    async def run() -> RevokePortalTokenSuccess:
        token = await info.context.management.revoke_portal_token(str(id))
        return RevokePortalTokenSuccess(portal_token=PortalToken.of(token))

    return await attempt(run, (NotFoundError,))
