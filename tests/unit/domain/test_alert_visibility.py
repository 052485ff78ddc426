"""A client's view of an alert: cost-basis figures never shown, each kind keeps its meaning."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from domain.alerting.alerts import Alert, AlertKind
from domain.alerting.visibility import client_view

AT = datetime(2026, 11, 30, 5, tzinfo=UTC)


def alert(kind: AlertKind, basis: str) -> Alert:
    return Alert(
        id="a1",
        kind=kind,
        client_id="c1",
        key_id=None,
        dedupe_key="d",
        message="the budget of Acme reached 80% of 100.00 USD in 2026-11",
        created_at=AT,
        details={
            "limit": "100",
            "spent": "80.5",
            "percent": "80",
            "period": "2026-11",
            "basis": basis,
        },
    )


def test_a_charge_basis_alert_is_shown_as_it_is() -> None:
    shown = alert(AlertKind.BUDGET_THRESHOLD, "charge")
    assert client_view(shown) == shown


def test_a_cost_basis_threshold_keeps_its_period_only_not_even_a_percentage() -> None:
    """A percentage of a budget on the agency's cost, with the charges a client sees, would
    give the limit and the cost away."""
    shown = client_view(alert(AlertKind.BUDGET_THRESHOLD, "cost"))
    assert shown.message == "Usage crossed one of the budget's alert thresholds for 2026-11."
    assert dict(shown.details) == {"period": "2026-11"}


def test_a_client_never_sees_who_acknowledged_an_alert() -> None:
    for basis in ("charge", "cost"):
        handled = replace(
            alert(AlertKind.BUDGET_THRESHOLD, basis), acknowledged_at=AT, acknowledged_by="Ada"
        )
        shown = client_view(handled)
        assert shown.acknowledged_by is None
        assert shown.acknowledged_at == AT


def test_a_cost_basis_refusal_says_calls_were_refused_without_figures() -> None:
    shown = client_view(alert(AlertKind.HARD_LIMIT_REFUSED, "cost"))
    assert shown.message == "Calls were refused: the budget for 2026-11 is used up."
    assert dict(shown.details) == {"period": "2026-11"}


def test_a_cost_basis_spike_says_usage_rose_without_figures() -> None:
    shown = client_view(alert(AlertKind.SPEND_SPIKE, "cost"))
    assert shown.message == "Usage well above its recent level."
    assert dict(shown.details) == {}
