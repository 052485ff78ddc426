"""Budget maths: the hold is an upper bound of what a call can cost, thresholds are crossed
once, the basis follows the plan unless chosen, and no usage the call can report costs more
than its hold (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.money import Money
from domain.billing.plans import FixedFee, FixedPrice, PercentageMargin, PlanVersion
from domain.budgets.limits import Budget, BudgetBasis, BudgetMode, hold_amount
from domain.catalog.models import Model, PriceVersion, max_cost
from domain.errors import ValidationError
from domain.metering.request_bounds import Dialect, RequestBound
from domain.metering.tokens import TokenUsage

NOW = datetime(2026, 3, 15, tzinfo=UTC)
MODEL = Model("openai/m", "openai", "m", max_output_tokens=1000, context_window=8000)
PRICE = PriceVersion(
    "openai/m",
    NOW,
    input=Decimal("1"),
    output=Decimal("4"),
    cached_input=Decimal("0.5"),
    cache_write=Decimal("1.25"),
    reasoning=Decimal("5"),
)


def text(chars: int, max_tokens: int | None = None) -> RequestBound:
    """A chat request of `chars` bytes of JSON asking for `max_tokens`."""
    return RequestBound(Dialect.OPENAI_CHAT, chars, max_tokens)


def budget(limit: str = "10", **more: object) -> Budget:
    values: dict[str, object] = {
        "client_id": "c",
        "key_id": None,
        "limit": Money(Decimal(limit)),
        "mode": BudgetMode.HARD,
        "updated_at": NOW,
    }
    return Budget(**(values | more))  # type: ignore[arg-type]


def plan(kind: object) -> PlanVersion:
    return PlanVersion("p", "c", kind, NOW, NOW)  # type: ignore[arg-type]


def test_the_basis_follows_the_plan_unless_chosen() -> None:
    assert budget().basis_under(plan(PercentageMargin(Decimal(10)))) is BudgetBasis.CHARGE
    assert budget().basis_under(plan(FixedFee(Money(Decimal(5))))) is BudgetBasis.CHARGE
    assert budget().basis_under(plan(FixedPrice(Money(Decimal(5))))) is BudgetBasis.COST
    chosen = budget(basis=BudgetBasis.COST)
    assert chosen.basis_under(plan(PercentageMargin(Decimal(10)))) is BudgetBasis.COST


def test_thresholds_are_crossed_once_each() -> None:
    mine = budget("10", thresholds=(100, 50, 80))
    assert mine.thresholds == (50, 80, 100)
    assert mine.crossed(Decimal("4.99"), Decimal("8")) == [50, 80]
    assert mine.crossed(Decimal("8"), Decimal("9.99")) == []
    assert mine.crossed(Decimal("9.99"), Decimal("12")) == [100]


@pytest.mark.parametrize(
    "bad",
    [{"limit": "0"}, {"thresholds": (0,)}, {"thresholds": (50, 50)}],
)
def test_invalid_budgets_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        budget(**bad)  # type: ignore[arg-type]


def test_the_hold_prices_every_token_at_its_dearest_class() -> None:
    # 100 chars -> at most 164 input tokens at 1.25 (cache write), 200 output at 5 (reasoning)
    cost = max_cost(PRICE, text(100).prompt_tokens(MODEL), 200)
    assert cost == Money((Decimal(164) * Decimal("1.25") + 200 * 5) / 1_000_000)
    margin = plan(PercentageMargin(Decimal(20)))
    assert hold_amount(budget(), margin, [(MODEL, PRICE)], text(100, 200)) == cost.amount * Decimal(
        "1.2"
    )
    capped = hold_amount(budget(), None, [(MODEL, PRICE)], text(100, 50_000))  # model max 1000
    assert capped == max_cost(PRICE, 164, 1000).amount


def test_the_hold_covers_the_dearest_fallback() -> None:
    dear = PriceVersion("openai/d", NOW, input=Decimal(10), output=Decimal(40))
    other = Model("openai/d", "openai", "d", max_output_tokens=1000)
    both = hold_amount(budget(), None, [(MODEL, PRICE), (other, dear)], text(10, 10))
    assert both == max_cost(dear, 74, 10).amount


@given(
    prompt=st.integers(0, 5000),
    max_out=st.integers(0, 1000),
    used_in=st.integers(0, 5000),
    cached=st.integers(0, 5000),
    writes=st.integers(0, 5000),
    out=st.integers(0, 1000),
    reasoning=st.integers(0, 1000),
)
def test_no_usage_within_the_bounds_costs_more_than_the_hold(
    prompt: int, max_out: int, used_in: int, cached: int, writes: int, out: int, reasoning: int
) -> None:
    """Any usage a provider can report for the call (input within the prompt bound, output
    within max_tokens, split into classes any way) costs at most the hold."""
    bound = text(prompt).prompt_tokens(MODEL)
    total_in = min(used_in, bound)
    cached, writes = min(cached, total_in), min(writes, total_in - min(cached, total_in))
    total_out = min(out, max_out)
    usage = TokenUsage(
        input_tokens=total_in,
        cached_input_tokens=cached,
        cache_write_tokens=writes,
        output_tokens=total_out,
        reasoning_tokens=min(reasoning, total_out),
    )
    assert PRICE.cost(usage).amount <= hold_amount(
        budget(), None, [(MODEL, PRICE)], text(prompt, max_out or None)
    )
