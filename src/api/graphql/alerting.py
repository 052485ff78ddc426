"""Alerts and webhooks in the management API: types, the queries and mutations (mixed into
Query and Mutation), and the staff-only permission for webhooks.

Alerts: staff see every client's, a portal token its own client's only (scoped in
Management). Webhooks: owners and admins manage them, viewers read them, portal tokens
have no access. The signing secret is returned once, by `createWebhook`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.permission import BasePermission

from api.graphql.context import Info
from api.graphql.errors import NotFoundError, ValidationError, attempt, visible
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate
from domain import alerts, webhooks
from domain.usecases.webhooks import NewWebhook

AlertKind = strawberry.enum(alerts.AlertKind, name="AlertKind")
DeliveryStatus = strawberry.enum(webhooks.DeliveryStatus, name="DeliveryStatus")
DEFAULT_ALERTS = 50
DEFAULT_DELIVERIES = 20


class IsStaff(BasePermission):
    message = "not allowed: webhooks are for staff tokens only"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.client_id is None


@strawberry.type
class AlertDetail:
    """One figure behind an alert (amounts are decimal strings)."""

    name: str
    value: str


@strawberry.type
class Alert:
    id: strawberry.ID
    kind: AlertKind  # type: ignore[valid-type]
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
    def of(cls, alert: alerts.Alert) -> Alert:
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
class WebhookDelivery:
    """One alert's delivery to one webhook."""

    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="The alert id, stable across retries.")
    status: DeliveryStatus  # type: ignore[valid-type]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due (null once delivered, failed or cancelled)."
    )
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, delivery: webhooks.Delivery) -> WebhookDelivery:
        pending = delivery.status is webhooks.DeliveryStatus.PENDING
        return cls(
            id=strawberry.ID(delivery.id),
            event_id=strawberry.ID(delivery.alert_id),
            status=delivery.status,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at if pending else None,
            delivered_at=delivery.delivered_at,
            created_at=delivery.created_at,
        )


@strawberry.type
class Webhook:
    id: strawberry.ID
    url: str
    client_id: strawberry.ID | None = strawberry.field(
        description="null: the agency's webhook, for every client's alerts."
    )
    events: list[AlertKind]  # type: ignore[valid-type]
    created_at: datetime
    disabled_at: datetime | None

    @field(description="The newest deliveries first.")
    async def deliveries(
        self, info: Info, first: int = DEFAULT_DELIVERIES
    ) -> list[WebhookDelivery]:
        found = await visible(info.context.management.deliveries([str(self.id)], first))
        return [WebhookDelivery.of(d) for d in found]

    @classmethod
    def of(cls, webhook: webhooks.Webhook) -> Webhook:
        return cls(
            id=strawberry.ID(webhook.id),
            url=webhook.url,
            client_id=None if webhook.client_id is None else strawberry.ID(webhook.client_id),
            events=list(webhook.events),
            created_at=webhook.created_at,
            disabled_at=webhook.disabled_at,
        )


@strawberry.input
class CreateWebhookInput:
    url: str = strawberry.field(
        description="http(s), no private addresses; or mailto: when SMTP is configured."
    )
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="null: every client's alerts (the agency's webhook)."
    )
    events: list[AlertKind] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="The alert kinds to receive; empty: every kind."
    )


@strawberry.type
class CreateWebhookSuccess:
    secret: str = strawberry.field(
        description="The signing secret, shown once (X-Bizgraph-Signature is its HMAC-SHA256)."
    )
    webhook: Webhook


@strawberry.type
class DeleteWebhookSuccess:
    webhook: Webhook


@strawberry.type
class AcknowledgeAlertSuccess:
    alert: Alert


CreateWebhookResult = Annotated[
    CreateWebhookSuccess | ValidationError | NotFoundError, strawberry.union("CreateWebhookResult")
]
DeleteWebhookResult = Annotated[
    DeleteWebhookSuccess | NotFoundError, strawberry.union("DeleteWebhookResult")
]
AcknowledgeAlertResult = Annotated[
    AcknowledgeAlertSuccess | NotFoundError, strawberry.union("AcknowledgeAlertResult")
]


@strawberry.type
class AlertQueries:
    @field(description="Alerts, newest first (a portal token: its client's only).")
    async def alerts(
        self,
        info: Info,
        client_id: strawberry.ID | None = None,
        unacknowledged_only: bool = False,
        first: int = DEFAULT_ALERTS,
    ) -> list[Alert]:
        scope = None if client_id is None else str(client_id)
        return await alerts_of(info, scope, unacknowledged_only, first)

    @field(
        description="Webhooks in use (of one client, or all); staff only.", permissions=[IsStaff]
    )
    async def webhooks(self, info: Info, client_id: strawberry.ID | None = None) -> list[Webhook]:
        scope = None if client_id is None else str(client_id)
        return [Webhook.of(w) for w in await visible(info.context.management.webhooks(scope))]


@strawberry.type
class AlertMutations:
    @mutation(permissions=[CanMutate])
    async def acknowledge_alert(self, info: Info, id: strawberry.ID) -> AcknowledgeAlertResult:
        async def run() -> AcknowledgeAlertSuccess:
            alert = await info.context.management.acknowledge_alert(str(id))
            return AcknowledgeAlertSuccess(alert=Alert.of(alert))

        return await attempt(run, (NotFoundError,))  # type: ignore[return-value]

    @mutation(
        permissions=[CanMutate],
        description="A webhook and its signing secret (returned once, never again).",
    )
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookResult:
        async def run() -> CreateWebhookSuccess:
            new = NewWebhook(
                url=input.url,
                client_id=None if input.client_id is None else str(input.client_id),
                events=[alerts.AlertKind(k) for k in input.events],
            )
            issued = await info.context.management.create_webhook(new)
            return CreateWebhookSuccess(secret=issued.secret, webhook=Webhook.of(issued.webhook))

        return await attempt(run, (ValidationError, NotFoundError))  # type: ignore[return-value]

    @mutation(
        permissions=[CanMutate],
        description="Disable a webhook: no new deliveries, pending ones cancelled, history kept.",
    )
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> DeleteWebhookResult:
        async def run() -> DeleteWebhookSuccess:
            webhook = await info.context.management.delete_webhook(str(id))
            return DeleteWebhookSuccess(webhook=Webhook.of(webhook))

        return await attempt(run, (NotFoundError,))  # type: ignore[return-value]
