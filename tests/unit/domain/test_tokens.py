"""Token counts: one convention for totals, parts given apart and checked against their whole."""

from __future__ import annotations

import pytest
from hypothesis import given

from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from tests.unit.domain.strategies import PROPERTY, token_usages

FIELDS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


class TestValidation:
    def test_defaults_are_zero(self) -> None:
        usage = TokenUsage()
        assert usage.total_tokens == 0
        assert usage.uncached_input_tokens == 0

    def test_cached_and_write_may_fill_the_input_exactly(self) -> None:
        usage = TokenUsage(input_tokens=10, cached_input_tokens=6, cache_write_tokens=4)
        assert usage.uncached_input_tokens == 0

    def test_cached_plus_write_above_input_refused(self) -> None:
        with pytest.raises(ValidationError, match="part of input"):
            TokenUsage(input_tokens=10, cached_input_tokens=6, cache_write_tokens=5)

    def test_cached_above_input_refused(self) -> None:
        with pytest.raises(ValidationError):
            TokenUsage(input_tokens=10, cached_input_tokens=11)

    def test_write_above_input_refused(self) -> None:
        with pytest.raises(ValidationError):
            TokenUsage(input_tokens=10, cache_write_tokens=11)

    def test_reasoning_may_be_the_whole_output(self) -> None:
        assert TokenUsage(output_tokens=5, reasoning_tokens=5).output_tokens == 5

    def test_reasoning_above_output_refused(self) -> None:
        with pytest.raises(ValidationError, match="part of output"):
            TokenUsage(output_tokens=5, reasoning_tokens=6)

    @pytest.mark.parametrize("field", FIELDS)
    @pytest.mark.parametrize("value", [-1, True, False, 1.0, "1", None])
    def test_counts_must_be_non_negative_ints(self, field: str, value: object) -> None:
        with pytest.raises(ValidationError):
            TokenUsage(**{"input_tokens": 10, "output_tokens": 10, field: value})  # type: ignore[arg-type]


class TestTotals:
    def test_totals_follow_the_product_convention(self) -> None:
        # Anthropic: input_tokens=100, cache_read=2000, cache_creation=500 -> input = 2600.
        usage = TokenUsage(
            input_tokens=2600,
            cached_input_tokens=2000,
            cache_write_tokens=500,
            output_tokens=300,
            reasoning_tokens=120,
        )
        assert usage.uncached_input_tokens == 100
        assert usage.total_tokens == 2900

    @PROPERTY
    @given(token_usages(), token_usages())
    def test_addition_adds_every_class(self, a: TokenUsage, b: TokenUsage) -> None:
        total = a + b
        for name in FIELDS:
            assert getattr(total, name) == getattr(a, name) + getattr(b, name)
        assert total.total_tokens == a.total_tokens + b.total_tokens
        assert total.uncached_input_tokens == a.uncached_input_tokens + b.uncached_input_tokens

    @PROPERTY
    @given(token_usages())
    def test_parts_add_up(self, usage: TokenUsage) -> None:
        assert (
            usage.uncached_input_tokens + usage.cached_input_tokens + usage.cache_write_tokens
            == usage.input_tokens
        )
        assert usage.uncached_input_tokens >= 0
