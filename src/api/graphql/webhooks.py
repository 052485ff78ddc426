"""Webhooks: owners and admins manage them, viewers read them, portal tokens have no access.
The signing secret is returned once, by `createWebhook`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry

from api.graphql.alerts import AlertKind
from api.graphql.context import Info
from api.graphql.errors import NotFoundError, ValidationError, attempt, visible
from api.graphql.fields import field, mutation
from api.graphql.permissions import CanMutate, IsStaff
from domain.alerting import alerts as domain_alerts
from domain.alerting import webhooks as domain_webhooks
from domain.usecases.webhooks import NewWebhook

# strawberry.enum registers the GraphQL name on the domain enum itself (and returns it): the
# domain enum is the GraphQL type, named here once; the alias keeps it a valid annotation.
strawberry.enum(domain_webhooks.DeliveryStatus, name="DeliveryStatus")
DeliveryStatus: TypeAlias = domain_webhooks.DeliveryStatus
DEFAULT_DELIVERIES = 20


@strawberry.type
class WebhookDelivery:
    """One alert's delivery to one webhook."""

    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="The alert id, stable across retries.")
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due (null once delivered, failed or cancelled)."
    )
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, delivery: domain_webhooks.Delivery) -> WebhookDelivery:
        pending = delivery.status is domain_webhooks.DeliveryStatus.PENDING
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
    events: list[AlertKind]
    created_at: datetime
    disabled_at: datetime | None

    @field(description="The newest deliveries first.")
    async def deliveries(
        self, info: Info, first: int = DEFAULT_DELIVERIES
    ) -> list[WebhookDelivery]:
        found = await visible(info.context.management.deliveries([str(self.id)], first))
        return [WebhookDelivery.of(d) for d in found]

    @classmethod
    def of(cls, webhook: domain_webhooks.Webhook) -> Webhook:
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
    events: list[AlertKind] = strawberry.field(
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


CreateWebhookResult = Annotated[
    CreateWebhookSuccess | ValidationError | NotFoundError, strawberry.union("CreateWebhookResult")
]


DeleteWebhookResult = Annotated[
    DeleteWebhookSuccess | NotFoundError, strawberry.union("DeleteWebhookResult")
]


@field(description="Webhooks in use (of one client, or all); staff only.", permissions=[IsStaff])
async def webhooks(info: Info, client_id: strawberry.ID | None = None) -> list[Webhook]:
    scope = None if client_id is None else str(client_id)
    return [Webhook.of(w) for w in await visible(info.context.management.webhooks(scope))]


@mutation(
    permissions=[CanMutate],
    description="A webhook and its signing secret (returned once, never again).",
)
async def create_webhook(info: Info, input: CreateWebhookInput) -> CreateWebhookResult:
    async def run() -> CreateWebhookSuccess:
        new = NewWebhook(
            url=input.url,
            client_id=None if input.client_id is None else str(input.client_id),
            events=[domain_alerts.AlertKind(k) for k in input.events],
        )
        issued = await info.context.management.create_webhook(new)
        return CreateWebhookSuccess(secret=issued.secret, webhook=Webhook.of(issued.webhook))

    return await attempt(run, (ValidationError, NotFoundError))


@mutation(
    permissions=[CanMutate],
    description="Disable a webhook: no new deliveries, pending ones cancelled, history kept.",
)
async def delete_webhook(info: Info, id: strawberry.ID) -> DeleteWebhookResult:
    async def run() -> DeleteWebhookSuccess:
        webhook = await info.context.management.delete_webhook(str(id))
        return DeleteWebhookSuccess(webhook=Webhook.of(webhook))

    return await attempt(run, (NotFoundError,))
