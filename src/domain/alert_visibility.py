"""What a client may see of an alert: the agency's provider cost is never shown to a client,
so an alert measured in it (a fixed-price client's spend) reaches portals and client webhooks
without its figures."""

from __future__ import annotations

from dataclasses import replace

from domain.alerts import Alert

COST_BASIS = "cost"
WITHOUT_FIGURES = "Usage well above its recent level."


def client_view(alert: Alert) -> Alert:
    if alert.details.get("basis") != COST_BASIS:
        return alert
    return replace(alert, message=WITHOUT_FIGURES, details={})
