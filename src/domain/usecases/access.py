"""Use cases for the management API's callers: staff and portal tokens, and authentication."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from domain.access.bearer_secrets import display_prefix, generate_secret, looks_like_secret
from domain.access.ports import KeyHasher, PortalTokenRepository, StaffTokenRepository
from domain.access.principals import (
    BOOTSTRAP_OWNER,
    PORTAL_PREFIX,
    STAFF_PREFIX,
    IssuedPortalToken,
    IssuedStaffToken,
    PortalPrincipal,
    PortalToken,
    Principal,
    Role,
    StaffPrincipal,
    StaffToken,
    Unauthenticated,
)
from domain.errors import NotFound
from domain.ids import new_id
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.usecases.revocation import revoke_stored


class AccessUseCases:
    """`bootstrap_token` (BIZGRAPH_ADMIN_TOKEN) is an owner; it is compared in constant time
    and never stored. `reads` (read-only units of work) serves authentication."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        hasher: KeyHasher,
        bootstrap_token: str | None = None,
        reads: UnitOfWorkFactory | None = None,
    ) -> None:
        self._uow = uow
        self._reads = reads or uow
        self._clock = clock
        self._hasher = hasher
        self._bootstrap = bootstrap_token or None

    async def authenticate(self, secret: str) -> Principal:
        """The principal behind a bearer token, or Unauthenticated (never saying why)."""
        if self._bootstrap is not None and hmac.compare_digest(
            secret.encode(), self._bootstrap.encode()
        ):
            return BOOTSTRAP_OWNER
        if looks_like_secret(secret, STAFF_PREFIX):
            digest = self._hasher.digest(secret)
            async with self._reads() as uow:
                staff = await uow.staff_tokens.by_digest(digest)
            if staff is not None and staff.is_active and hmac.compare_digest(staff.digest, digest):
                return StaffPrincipal(name=staff.name, role=staff.role, token_id=staff.id)
        elif looks_like_secret(secret, PORTAL_PREFIX):
            digest = self._hasher.digest(secret)
            async with self._reads() as uow:
                portal = await uow.portal_tokens.by_digest(digest)
                client = None if portal is None else await uow.clients.get(portal.client_id)
            if (
                portal is not None
                and client is not None
                and portal.is_active
                and hmac.compare_digest(portal.digest, digest)
            ):
                return PortalPrincipal(client_id=portal.client_id, token_id=portal.id)
        raise Unauthenticated("invalid or missing token")

    async def create_staff_token(
        self, name: str, role: Role, email: str | None = None
    ) -> IssuedStaffToken:
        secret = generate_secret(STAFF_PREFIX)
        token = StaffToken(
            id=new_id(),
            name=name.strip(),
            role=role,
            prefix=display_prefix(secret, STAFF_PREFIX),
            digest=self._hasher.digest(secret),
            created_at=self._clock.now(),
            email=email.strip() if email else None,
        )
        async with self._uow() as uow:
            await uow.staff_tokens.add(token)
            await uow.commit()
        return IssuedStaffToken(secret=secret, token=token)

    async def staff_tokens(self) -> Sequence[StaffToken]:
        async with self._uow() as uow:
            return await uow.staff_tokens.list()

    async def revoke_staff_token(self, token_id: str) -> StaffToken:
        now = self._clock.now()
        return await revoke_stored(self._uow, _staff_tokens, token_id, "staff token", now)

    async def create_portal_token(self, client_id: str, name: str = "portal") -> IssuedPortalToken:
        secret = generate_secret(PORTAL_PREFIX)
        token = PortalToken(
            id=new_id(),
            client_id=client_id,
            name=name.strip(),
            prefix=display_prefix(secret, PORTAL_PREFIX),
            digest=self._hasher.digest(secret),
            created_at=self._clock.now(),
        )
        async with self._uow() as uow:
            if await uow.clients.get(client_id) is None:
                raise NotFound(f"no client {client_id}")
            await uow.portal_tokens.add(token)
            await uow.commit()
        return IssuedPortalToken(secret=secret, token=token)

    async def portal_tokens(self, client_id: str) -> Sequence[PortalToken]:
        async with self._uow() as uow:
            return await uow.portal_tokens.for_client(client_id)

    async def revoke_portal_token(self, token_id: str) -> PortalToken:
        now = self._clock.now()
        return await revoke_stored(self._uow, _portal_tokens, token_id, "portal token", now)


def _staff_tokens(uow: UnitOfWork) -> StaffTokenRepository:
    return uow.staff_tokens


def _portal_tokens(uow: UnitOfWork) -> PortalTokenRepository:
    return uow.portal_tokens
