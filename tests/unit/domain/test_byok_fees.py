"""The BYOK fee (domain/byok/fees.py, billing.py): exact for every kind and input, zero cost
for the agency, the list cost at the catalog's price, and the worst case a hold takes never
below what an attempt within the request's bounds is charged or counted."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.money import Money, round_to_minor
from domain.byok.billing import byok_amounts, byok_worst_case
from domain.byok.credentials import BudgetBasis, ByokSettings
from domain.byok.fees import ByokFee, FeeKind
from domain.catalog.models import PriceVersion
from domain.errors import InvalidAmount
from domain.metering.tokens import TokenUsage

PRICE = PriceVersion(
    "openai/m",
    datetime(2025, 1, 1, tzinfo=UTC),
    input=Decimal("0.15"),
    output=Decimal("0.60"),
    cached_input=Decimal("0.075"),
    id="p",
)
amounts = st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False)
tokens = st.integers(min_value=0, max_value=2_000_000)
kinds = st.sampled_from(list(FeeKind))


@given(kind=kinds, amount=amounts, list_cost=amounts, count=tokens)
def test_every_fee_kind_is_exact(
    kind: FeeKind, amount: Decimal, list_cost: Decimal, count: int
) -> None:
    fee = ByokFee(kind, amount)
    charged = fee.charge(Money(list_cost), count).amount
    expected = {
        FeeKind.PERCENT_OF_LIST: list_cost * amount / 100,
        FeeKind.PER_REQUEST: amount,
        FeeKind.PER_MILLION_TOKENS: amount * count / Decimal(1_000_000),
        FeeKind.INCLUDED: Decimal(0),
    }[kind]
    assert charged == expected
    assert charged >= 0


@given(
    kind=kinds,
    amount=amounts,
    calls=st.lists(st.tuples(tokens, tokens), min_size=1, max_size=30),
)
def test_a_periods_fees_round_once_to_the_cent(
    kind: FeeKind, amount: Decimal, calls: list[tuple[int, int]]
) -> None:
    """An invoice line is the exact sum of the calls' fees, rounded once (product.md)."""
    settings = ByokSettings("c", ByokFee(kind, amount))
    usages = [TokenUsage(input_tokens=i, output_tokens=o) for i, o in calls]
    records = [byok_amounts(settings, PRICE, u, True) for u in usages]
    total = sum((r.charge.amount for r in records), Decimal(0))
    listed = sum((r.list_cost.amount for r in records), Decimal(0))
    assert all(r.cost == Money(Decimal(0)) for r in records)
    assert listed == sum((PRICE.cost(u).amount for u in usages), Decimal(0))
    all_tokens = sum(u.total_tokens for u in usages)
    expected = {
        FeeKind.PERCENT_OF_LIST: listed * amount / 100,
        FeeKind.PER_REQUEST: amount * len(calls),
        FeeKind.PER_MILLION_TOKENS: amount * all_tokens / Decimal(1_000_000),
        FeeKind.INCLUDED: Decimal(0),
    }[kind]
    assert round_to_minor(total, "USD") == round_to_minor(expected, "USD")


@given(kind=kinds, amount=amounts, prompt=tokens, output=tokens, basis=st.sampled_from(BudgetBasis))
def test_the_worst_case_covers_any_attempt_within_the_bounds(
    kind: FeeKind, amount: Decimal, prompt: int, output: int, basis: BudgetBasis
) -> None:
    settings = ByokSettings("c", ByokFee(kind, amount), basis)
    worst = byok_worst_case(settings, PRICE, prompt, output)
    for cached in (0, prompt):
        usage = TokenUsage(input_tokens=prompt, output_tokens=output, cached_input_tokens=cached)
        assert byok_amounts(settings, PRICE, usage, True).measure(basis) <= worst


def test_a_failed_attempt_without_usage_pays_no_per_request_fee() -> None:
    settings = ByokSettings("c", ByokFee(FeeKind.PER_REQUEST, Decimal("0.01")))
    assert byok_amounts(settings, PRICE, TokenUsage(), False).charge == Money(Decimal(0))
    assert byok_amounts(settings, PRICE, TokenUsage(), True).charge == Money(Decimal("0.01"))


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        (FeeKind.PERCENT_OF_LIST, "-1"),
        (FeeKind.PERCENT_OF_LIST, "1001"),
        (FeeKind.PERCENT_OF_LIST, "0.00001"),
        (FeeKind.PER_REQUEST, "0.0000001"),
    ],
)
def test_out_of_range_fees_are_refused(kind: FeeKind, amount: str) -> None:
    with pytest.raises(InvalidAmount):
        ByokFee(kind, Decimal(amount))
