"""Hypothesis strategies shared by the domain tests."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st

from domain.metering.tokens import TokenUsage

PROPERTY = settings(max_examples=100, deadline=None)


def decimals(max_units: int, places: int) -> st.SearchStrategy[Decimal]:
    """Non-negative decimals with exactly `places` decimals (trailing zeros included)."""
    return st.integers(min_value=0, max_value=max_units).map(lambda n: Decimal(n).scaleb(-places))


# Prices per million tokens: at most 6 decimals (product.md "Money"), up to 1000.
prices = decimals(10**9, 6)
optional_prices = st.none() | prices
# Margin percents: at most 4 decimals, up to 1000%.
percents = decimals(10**7, 4)
# Provider costs with at most 12 decimals, up to 10,000.
costs = decimals(10**16, 12)


@st.composite
def token_usages(draw: st.DrawFn, max_tokens: int = 10**9) -> TokenUsage:
    counts = st.integers(min_value=0, max_value=max_tokens)
    cached, write, uncached = draw(counts), draw(counts), draw(counts)
    reasoning, plain_output = draw(counts), draw(counts)
    return TokenUsage(
        input_tokens=cached + write + uncached,
        output_tokens=reasoning + plain_output,
        cached_input_tokens=cached,
        cache_write_tokens=write,
        reasoning_tokens=reasoning,
    )
