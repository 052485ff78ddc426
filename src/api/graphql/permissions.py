"""Field permissions. The principal is resolved per request (context.py); these refuse a field
with a visible error. The use cases (domain.usecases.management) check again."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from api.graphql.context import Info


class CanReadCosts(BasePermission):
    """Provider cost, profit, margin and provider prices: staff only, never a portal token."""

    message = "not allowed: provider cost and profit are not visible to this token"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.can_read_costs


class CanMutate(BasePermission):
    message = "not allowed: this token may not change anything (owner or admin only)"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.can_mutate


class IsOwner(BasePermission):
    message = "not allowed: only an owner manages staff tokens"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.can_manage_staff


class IsStaff(BasePermission):
    """Staff of any role (viewers read); never a portal token."""

    message = "not allowed: staff only"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.client_id is None
