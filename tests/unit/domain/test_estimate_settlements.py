"""The rules of settling an estimated call, for all inputs: repricing the estimate itself moves
nothing; the outcome follows the sign of the rounded difference and the operator's choice; the
provider's hour minus Bizgraph's other calls is the call's own usage; a settled call counts at
its actual figures in reconciliation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.billing.money import Money, round_to_minor
from domain.billing.plans import PercentageMargin, PlanVersion
from domain.catalog.models import PriceVersion
from domain.metering.estimate_settlements import (
    SettlementOutcome,
    client_amount,
    outcome_for,
    reprice,
    suggested_actual,
)
from domain.metering.tokens import TokenUsage
from domain.reconciliation import RecordedFigures

T0 = datetime(2026, 11, 3, 14, tzinfo=UTC)


@st.composite
def usages(draw: st.DrawFn) -> TokenUsage:
    inputs = draw(st.integers(0, 2_000_000))
    cached = draw(st.integers(0, inputs))
    writes = draw(st.integers(0, inputs - cached))
    output = draw(st.integers(0, 200_000))
    reasoning = draw(st.integers(0, output))
    return TokenUsage(
        input_tokens=inputs,
        output_tokens=output,
        cached_input_tokens=cached,
        cache_write_tokens=writes,
        reasoning_tokens=reasoning,
    )


prices = st.decimals(min_value=0, max_value=100, places=6, allow_nan=False)
percents = st.decimals(min_value=0, max_value=500, places=4, allow_nan=False)


@given(usages(), prices, prices, percents)
def test_repricing_the_estimate_itself_moves_nothing(
    usage: TokenUsage, input_price: Decimal, output_price: Decimal, percent: Decimal
) -> None:
    price = PriceVersion("openai/m", T0, input=input_price, output=output_price, id="p")
    plan = PlanVersion("v", "c", PercentageMargin(percent), T0, T0)
    recorded_cost = price.cost(usage)
    recorded_charge = plan.plan.charge(recorded_cost)

    repriced = reprice(price, plan, usage)

    assert repriced.cost == recorded_cost
    assert repriced.charge == recorded_charge
    assert client_amount(repriced.charge - recorded_charge) == Money.zero("USD")


@given(
    st.decimals(min_value=-1000, max_value=1000, places=18, allow_nan=False),
    st.sampled_from(["USD", "JPY", "KWD"]),
    st.booleans(),
    st.booleans(),
)
def test_the_outcome_follows_the_rounded_difference(
    delta: Decimal, currency: str, prepaid: bool, bill: bool
) -> None:
    amount = client_amount(Money(delta, currency))
    outcome = outcome_for(amount, prepaid, bill)

    assert amount.amount == round_to_minor(delta, currency)
    if amount.amount == 0:
        assert outcome is SettlementOutcome.UNCHANGED
    elif amount.amount < 0:  # the client paid too much: always given back
        expected = SettlementOutcome.WALLET_CREDITED if prepaid else SettlementOutcome.CREDITED
        assert outcome is expected
    elif not bill:
        assert outcome is SettlementOutcome.ABSORBED
    else:
        assert outcome is (SettlementOutcome.WALLET_DRAWN if prepaid else SettlementOutcome.BILLED)


@given(usages(), usages(), usages())
def test_the_hour_minus_the_other_calls_is_the_calls_own_usage(
    others: TokenUsage, estimate: TokenUsage, actual: TokenUsage
) -> None:
    recorded = others + estimate  # what Bizgraph recorded that hour
    reported = others + actual  # what the provider saw that hour

    assert suggested_actual(reported, recorded, estimate, 1) == actual
    assert suggested_actual(reported, recorded, estimate, 2) is None  # cannot be told apart
    assert suggested_actual(None, recorded, estimate, 1) is None


def test_a_report_below_the_other_calls_suggests_nothing() -> None:
    others = TokenUsage(input_tokens=500, output_tokens=50)
    estimate = TokenUsage(input_tokens=100, output_tokens=10)
    late = TokenUsage(input_tokens=300, output_tokens=60)

    assert suggested_actual(late, others + estimate, estimate, 1) is None


@given(usages(), usages(), usages(), prices, prices)
def test_a_settled_call_counts_at_its_actual_figures(
    others: TokenUsage,
    estimate: TokenUsage,
    actual: TokenUsage,
    other_cost: Decimal,
    estimate_cost: Decimal,
) -> None:
    figures = RecordedFigures(
        hour=T0,
        provider="openai",
        model="m",
        requests=2,
        tokens=others + estimate,
        cost=other_cost + estimate_cost,
        estimated_requests=1,
        estimated_tokens=estimate,
        estimated_cost=estimate_cost,
    )
    actual_cost = estimate_cost + Decimal("0.5")

    settled = figures.settled(estimate, estimate_cost, actual, actual_cost - estimate_cost)

    assert settled.tokens == others + actual
    assert settled.cost == other_cost + actual_cost
    assert settled.requests == 2
    assert (settled.estimated_requests, settled.settled_requests) == (0, 1)
    assert settled.estimated_tokens == TokenUsage()
    assert settled.estimated_cost == 0
