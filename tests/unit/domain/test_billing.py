"""Period drafts: each plan bills what product.md says, whatever the usage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.billing.plans import FixedFee, FixedPrice, PercentageMargin, PlanTimeline, PlanVersion
from domain.invoicing.drafts import draft_period
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource

PERIOD = month_period("2026-03", ZoneInfo("Europe/Paris"))
BEFORE = datetime(2026, 1, 1, tzinfo=UTC)

costs = st.lists(
    st.decimals(min_value=0, max_value=100, places=12, allow_nan=False, allow_infinity=False),
    max_size=20,
)
percents = st.decimals(min_value=0, max_value=500, places=4, allow_nan=False, allow_infinity=False)
cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))


def record(cost: Decimal, charge: Decimal, offset: int) -> UsageRecord:
    return UsageRecord(
        id=f"u{offset}",
        request_id=f"r{offset}",
        attempt=0,
        client_id="c",
        api_key_id="k",
        model_id="demo/chat",
        provider="demo",
        usage=TokenUsage(input_tokens=1, output_tokens=1),
        cost=Money(cost),
        charge=Money(charge),
        price_version_id="p",
        plan_version_id="v",
        started_at=PERIOD.start + timedelta(hours=offset),
        latency_ms=1,
        status=CallStatus.SUCCEEDED,
        source=UsageSource.REPORTED,
    )


def timeline(plan: PercentageMargin | FixedFee | FixedPrice) -> PlanTimeline:
    return PlanTimeline([PlanVersion("v", "c", plan, BEFORE, BEFORE)])


def records_for(
    plan: PercentageMargin | FixedFee | FixedPrice, values: list[Decimal]
) -> list[UsageRecord]:
    return [record(c, plan.charge(Money(c)).amount, i) for i, c in enumerate(values)]


@settings(max_examples=100, deadline=None)
@given(costs, percents)
def test_margin_revenue_is_cost_times_one_plus_margin(
    values: list[Decimal], percent: Decimal
) -> None:
    plan = PercentageMargin(percent)

    draft = draft_period(PERIOD, timeline(plan), records_for(plan, values), "USD")

    total_cost = sum(values, Decimal(0))
    assert draft.revenue == Money(total_cost * (1 + percent / 100))
    assert draft.fixed == ()


@settings(max_examples=100, deadline=None)
@given(costs, cents)
def test_fixed_fee_revenue_is_cost_plus_the_fee(values: list[Decimal], fee: Decimal) -> None:
    plan = FixedFee(Money(fee))

    draft = draft_period(PERIOD, timeline(plan), records_for(plan, values), "USD")

    assert draft.revenue == Money(sum(values, Decimal(0)) + fee)


@settings(max_examples=100, deadline=None)
@given(costs, cents)
def test_fixed_price_revenue_ignores_usage(values: list[Decimal], price: Decimal) -> None:
    plan = FixedPrice(Money(price))

    draft = draft_period(PERIOD, timeline(plan), records_for(plan, values), "USD")

    assert draft.revenue == Money(price)
    assert draft.profit == Money(price - sum(values, Decimal(0)))


def test_usage_outside_the_period_is_left_out_and_profit_can_be_negative() -> None:
    plan = FixedPrice(Money(Decimal("10")))
    inside = record(Decimal("25"), Decimal(0), 1)
    outside = record(Decimal("99"), Decimal(0), 24 * 40)

    draft = draft_period(PERIOD, timeline(plan), [inside, outside], "USD")

    assert draft.requests == 1
    assert draft.usage_cost == Money(Decimal("25"))
    assert draft.profit == Money(Decimal("-15"))
