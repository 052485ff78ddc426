"""What a client may see of an alert: the agency's provider cost is never shown to a client,
so an alert measured in it (a fixed-price client's spend, or a budget on the cost basis)
reaches portals and client webhooks with a message of its own kind and no figure at all: no
amount and no percentage (with the charges a client sees, a percentage of a cost budget would
give its limit, and so the cost, away). Staff names never reach a client: who acknowledged an alert
is left out (when stays)."""

from __future__ import annotations

from dataclasses import replace

from domain.alerting.alerts import Alert, AlertKind

COST_BASIS = "cost"


def client_view(alert: Alert) -> Alert:
    alert = replace(alert, acknowledged_by=None)
    if alert.details.get("basis") != COST_BASIS:
        return alert
    period = alert.details.get("period", "this period")
    match alert.kind:
        case AlertKind.BUDGET_THRESHOLD:
            message = f"Usage crossed one of the budget's alert thresholds for {period}."
            return replace(alert, message=message, details={"period": period})
        case AlertKind.HARD_LIMIT_REFUSED:
            message = f"Calls were refused: the budget for {period} is used up."
            return replace(alert, message=message, details={"period": period})
        case AlertKind.SPEND_SPIKE:
            return replace(alert, message="Usage well above its recent level.", details={})
        case AlertKind.RECONCILIATION_DRIFT:  # the agency's own (no client): never a client's
            return replace(alert, message="A provider's bill differs from the records.", details={})
        case AlertKind.INVOICE_OVERDUE | AlertKind.SUSPENSION_WARNING | AlertKind.CLIENT_SUSPENDED:
            return alert  # about the client's own invoice: never measured in provider cost
        case AlertKind.INVOICE_REFUSED:  # the agency's own (no client): never a client's
            return replace(alert, message="An invoice could not be issued.", details={})
        case AlertKind.BUDGET_UNCOUNTED:  # the agency's own (no client): never a client's
            return replace(alert, message="A budget could not count some calls.", details={})
        case (
            AlertKind.PAYMENT_FAILED
            | AlertKind.PAYMENT_REFUNDED
            | AlertKind.PAYMENT_DISPUTED
            | AlertKind.PAYMENT_UNMATCHED
            | AlertKind.WALLET_REFUSED
            | AlertKind.WALLET_LOW_BALANCE
            | AlertKind.WALLET_SHORTFALL
            | AlertKind.AUTO_TOP_UP_FAILED
        ):  # payment and wallet alerts: the client's own money, on no cost basis
            return alert
