"""Reconciliation in the domain: rows per day, provider and model, drift, what the provider
saw that never went through Bizgraph, model names with snapshot suffixes, the drift alert."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.alerting.alerts import AlertKind
from domain.billing.money import exact_sum
from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from domain.reconciliation import (
    ProviderFigures,
    RecordedFigures,
    days_between,
    drift_alert,
    parse_day,
    reconcile,
    same_model,
)
from tests.unit.domain.strategies import PROPERTY, costs, token_usages

DAY = date(2026, 12, 1)
NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-haiku-4-5")


def recorded(
    model: str = "gpt-4o-mini",
    cost: str = "1.25",
    requests: int = 10,
    hour: datetime = NOON,
    tokens: TokenUsage | None = None,
    estimated: int = 0,
) -> RecordedFigures:
    return RecordedFigures(
        hour=hour,
        provider="openai",
        model=model,
        requests=requests,
        tokens=tokens or TokenUsage(input_tokens=1000, output_tokens=200),
        cost=Decimal(cost),
        estimated_requests=estimated,
        estimated_cost=Decimal(cost) if estimated else Decimal(0),
    )


def reported(
    model: str = "gpt-4o-mini-2024-07-18",
    cost: str | None = "1.25",
    requests: int | None = None,
    tokens: TokenUsage | None = None,
    hour: datetime | None = None,
) -> ProviderFigures:
    amount = None if cost is None else Decimal(cost)
    return ProviderFigures(
        day=DAY,
        provider="openai",
        model=model,
        cost=amount,
        requests=requests,
        tokens=tokens,
        hour=hour,
    )


def test_a_day_that_agrees_to_the_cent() -> None:
    usage = reported(
        cost=None, requests=10, tokens=TokenUsage(input_tokens=1000, output_tokens=200)
    )
    [row] = reconcile([recorded()], [usage, reported(cost="1.25")])

    assert row.model == "gpt-4o-mini"  # the snapshot name met the alias Bizgraph sent
    assert row.cost_drift == 0
    assert row.relative_drift == 0
    assert row.requests_drift == 0
    assert row.reported.tokens == row.recorded.tokens
    assert not row.exceeds(Decimal(1))
    assert not row.unrecorded


def test_a_day_the_provider_billed_more() -> None:
    [row] = reconcile([recorded(cost="2.00")], [reported(cost="2.10")])

    assert row.cost_drift == Decimal("0.10")
    assert row.relative_drift == Decimal("5.00")
    assert row.exceeds(Decimal(1))
    assert not row.exceeds(Decimal(5))  # 5% is not above 5%
    assert not row.exceeds(Decimal(1), minimum=Decimal("0.10"))  # nor 0.10 above 0.10


def test_spend_that_never_went_through_bizgraph() -> None:
    rows = reconcile([recorded()], [reported(), reported(model="gpt-4.1", cost="3.00")])

    outside = next(r for r in rows if r.model == "gpt-4.1")
    assert outside.unrecorded
    assert outside.recorded.requests == 0
    assert outside.relative_drift is None
    assert outside.exceeds(Decimal(50))  # nothing recorded: any spend above the minimum


def test_an_unreported_figure_is_unknown_not_zero() -> None:
    [row] = reconcile([recorded()], [reported(cost=None, tokens=TokenUsage(input_tokens=1000))])

    assert row.reported.requests is None
    assert row.reported.cost is None
    assert row.cost_drift is None
    assert row.requests_drift is None
    assert not row.exceeds(Decimal(0))


def test_crash_estimated_calls_meet_the_providers_hour() -> None:
    hour = NOON.replace(hour=3)
    mine = [recorded(), recorded(hour=hour, requests=2, cost="0.02", estimated=1)]
    hourly = reported(cost=None, requests=1, hour=hour, tokens=TokenUsage(input_tokens=50))

    [row] = reconcile(mine, [reported(cost="1.27"), hourly])

    [estimate] = row.estimated
    assert estimate.hour == hour
    assert estimate.estimated_requests == 1
    assert estimate.recorded.requests == 2
    assert estimate.reported is not None
    assert estimate.reported.requests == 1
    assert row.reported.cost == Decimal("1.27")  # the hourly row is not counted twice


@pytest.mark.parametrize(
    ("upstream", "name", "same"),
    [
        ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", True),
        ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929", True),
        ("gpt-4o", "gpt-4o-mini", False),
        ("gpt-4o", "gpt-4o-mini-2024-07-18", False),
        ("gpt-4", "gpt-4-0613", True),
        ("gemini-2.5-flash", "gemini-2.5-flash-lite", False),
    ],
)
def test_snapshot_names(upstream: str, name: str, same: bool) -> None:
    assert same_model(upstream, name) is same


def test_the_longest_alias_wins() -> None:
    rows = reconcile(
        [recorded(model="gpt-4o", cost="1"), recorded(model="gpt-4o-mini", cost="2")],
        [
            reported(model="gpt-4o-mini-2024-07-18", cost="2"),
            reported(model="gpt-4o-2024-08-06", cost="1"),
        ],
    )
    assert [(r.model, r.cost_drift) for r in rows] == [("gpt-4o", 0), ("gpt-4o-mini", 0)]


def test_the_drift_alert_is_the_agencys_once_per_day_and_model() -> None:
    [row] = reconcile([recorded(cost="2.00")], [reported(cost="2.10")])
    alert = drift_alert(row, Decimal(1), NOON)
    again = drift_alert(row, Decimal(1), NOON + timedelta(hours=1))

    assert alert.kind is AlertKind.RECONCILIATION_DRIFT
    assert alert.client_id is None
    assert alert.dedupe_key == again.dedupe_key
    assert alert.details["drift"] == "0.10"
    assert alert.details["drift_percent"] == "5.00"


def test_days_and_their_bounds() -> None:
    assert days_between(DAY, DAY + timedelta(days=2)) == [DAY, DAY + timedelta(days=1)]
    with pytest.raises(ValidationError):
        days_between(DAY, DAY)
    with pytest.raises(ValidationError):
        days_between(DAY, DAY + timedelta(days=400))
    assert parse_day("2026-12-01") == DAY
    for bad in ("2026-13-01", "yesterday", "2026-12-1", ""):
        with pytest.raises(ValidationError):
            parse_day(bad)


Side = tuple[str, int, Decimal, TokenUsage]
sides = st.lists(
    st.tuples(st.sampled_from(MODELS), st.integers(0, 3), costs, token_usages(10**6)), max_size=8
)


@PROPERTY
@given(mine=sides, theirs=sides)
def test_every_figure_lands_in_exactly_one_row(mine: list[Side], theirs: list[Side]) -> None:
    ours = [
        recorded(model=m, cost=str(c), hour=NOON + timedelta(days=d), tokens=t, requests=1)
        for m, d, c, t in mine
    ]
    given_rows = [
        ProviderFigures(
            day=DAY + timedelta(days=d),
            provider="openai",
            model=f"{m}-2024-07-18",
            cost=c,
            requests=1,
            tokens=t,
        )
        for m, d, c, t in theirs
    ]
    rows = reconcile(ours, given_rows)

    assert exact_sum(*(r.recorded.cost or 0 for r in rows)) == exact_sum(*(r.cost for r in ours))
    assert exact_sum(*(r.reported.cost or 0 for r in rows)) == exact_sum(
        *(r.cost or 0 for r in given_rows)
    )
    assert sum(r.recorded.requests or 0 for r in rows) == len(ours)
    assert sum(r.reported.requests or 0 for r in rows) == len(given_rows)
    assert len({(r.day, r.model) for r in rows}) == len(rows)
    for row in rows:
        drift, relative = row.cost_drift, row.relative_drift
        if row.reported.cost is None:  # no provider row for this day and model
            assert drift is None
            continue
        assert drift == row.reported.cost - (row.recorded.cost or 0)
        if relative is not None and relative != 0:
            assert (relative > 0) == (drift > 0)
        assert row.unrecorded == (not row.recorded.requests)


@PROPERTY
@given(
    st.lists(st.tuples(st.sampled_from(MODELS), costs, token_usages(10**6)), min_size=1, max_size=6)
)
def test_identical_sides_never_drift(entries: list[tuple[str, Decimal, TokenUsage]]) -> None:
    ours = [recorded(model=m, cost=str(c), tokens=t, requests=1) for m, c, t in entries]
    theirs = [
        ProviderFigures(day=DAY, provider="openai", model=m, cost=c, requests=1, tokens=t)
        for m, c, t in entries
    ]
    for row in reconcile(ours, theirs):
        assert row.cost_drift == 0
        assert row.requests_drift == 0
        assert row.reported.tokens == row.recorded.tokens
        assert not row.exceeds(Decimal(0))
        assert not row.unrecorded
