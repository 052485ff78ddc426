"""The alerts a payment processor's events raise (docs/payments.md): once per event, with the
event's references in the details so an operator can find it in Stripe's dashboard."""

from __future__ import annotations

from datetime import datetime

from domain.alerting.alerts import Alert, AlertKind
from domain.ids import new_id
from domain.payments.processor import ProcessorEvent


def event_alert(
    kind: AlertKind, client_id: str | None, event: ProcessorEvent, message: str, at: datetime
) -> Alert:
    details = {"stripe_event": event.id}
    for name, value in (
        ("payment", event.payment_ref),
        ("charge", event.charge_ref),
        ("invoice_id", event.invoice_id),
        ("amount", str(event.amount.amount) if event.amount else None),
        ("currency", event.amount.currency if event.amount else None),
    ):
        if value:
            details[name] = value
    return Alert(
        new_id(),
        kind,
        client_id,
        None,
        f"{kind.value}:{event.id}",
        message[:1000],
        at,
        details,
    )
