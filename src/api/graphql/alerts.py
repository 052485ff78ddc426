"""Alerts: staff see every client's, a portal token its own client's only (scoped in
Management); owners and admins acknowledge them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.context import Info
from api.graphql.errors import NotFoundError, attempt, visible
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate
from domain.alerting import alerts as domain_alerts

# strawberry.enum registers the GraphQL name on the domain enum itself (and returns it): the
# domain enum is the GraphQL type, named here once; the alias keeps it a valid annotation.
strawberry.enum(domain_alerts.AlertKind, name="AlertKind")
AlertKind: TypeAlias = domain_alerts.AlertKind
DEFAULT_ALERTS = 50


@strawberry.type
class AlertDetail:
    """One figure behind an alert (amounts are decimal strings)."""

    name: str
    value: str


@strawberry.type
class Alert:
    id: strawberry.ID
    kind: AlertKind
    client_id: strawberry.ID | None = strawberry.field(
        description="null: the agency's own alert (a reconciliation drift), for staff only."
    )
    key_id: strawberry.ID | None
    message: str
    details: list[AlertDetail]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    dispatched_at: datetime | None = strawberry.field(
        description="When it was handed to the webhooks configured then (null: not yet)."
    )

    @classmethod
    def of(cls, alert: domain_alerts.Alert) -> Alert:
        return cls(
            id=strawberry.ID(alert.id),
            kind=alert.kind,
            client_id=None if alert.client_id is None else strawberry.ID(alert.client_id),
            key_id=None if alert.key_id is None else strawberry.ID(alert.key_id),
            message=alert.message,
            details=[AlertDetail(name=k, value=v) for k, v in sorted(alert.details.items())],
            created_at=alert.created_at,
            acknowledged_at=alert.acknowledged_at,
            acknowledged_by=alert.acknowledged_by,
            dispatched_at=alert.dispatched_at,
        )


async def alerts_of(
    info: Info, client_id: str | None, unacknowledged_only: bool, first: int
) -> list[Alert]:
    found = await visible(info.context.management.alerts(client_id, unacknowledged_only, first))
    return [Alert.of(a) for a in found]


@strawberry.type
class AcknowledgeAlertSuccess:
    alert: Alert


AcknowledgeAlertResult = Annotated[
    AcknowledgeAlertSuccess | NotFoundError, strawberry.union("AcknowledgeAlertResult")
]


@field(description="Alerts, newest first (a portal token: its client's only).")
async def alerts(
    info: Info,
    client_id: strawberry.ID | None = None,
    unacknowledged_only: bool = False,
    first: int = DEFAULT_ALERTS,
) -> list[Alert]:
    scope = None if client_id is None else str(client_id)
    return await alerts_of(info, scope, unacknowledged_only, first)


@mutation(permissions=[CanMutate])
async def acknowledge_alert(info: Info, id: strawberry.ID) -> AcknowledgeAlertResult:
    async def run() -> AcknowledgeAlertSuccess:
        alert = await info.context.management.acknowledge_alert(str(id))
        return AcknowledgeAlertSuccess(alert=Alert.of(alert))

    return await attempt(run, (NotFoundError,))
