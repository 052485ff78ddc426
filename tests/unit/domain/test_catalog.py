"""The catalog: models, effective-dated prices, and the exact provider cost of a call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.money import decimal_places
from domain.catalog.models import Model, PriceHistory, PriceVersion, resolve_model_id
from domain.errors import InvalidAmount, NoPriceInForce, ValidationError
from domain.metering.tokens import TokenUsage
from tests.unit.domain.strategies import PROPERTY, optional_prices, prices, token_usages

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def price(**overrides: object) -> PriceVersion:
    fields: dict[str, object] = {
        "model_id": "openai/gpt-4o-mini",
        "effective_from": T0,
        "input": Decimal("0.15"),
        "output": Decimal("0.60"),
    }
    fields.update(overrides)
    return PriceVersion(**fields)  # type: ignore[arg-type]


def by_hand(tokens: int, price_per_million: str) -> Decimal:
    """tokens x price / 1,000,000 in a context far wider than any input."""
    with localcontext() as ctx:
        ctx.prec = 100
        return Decimal(tokens) * Decimal(price_per_million) / Decimal(1_000_000)


class TestCostGoldenCases:
    def test_openai_prompt_tokens_include_cached_tokens(self) -> None:
        # prompt_tokens=1000 of which cached_tokens=400; completion_tokens=500.
        version = price(input="0.15", cached_input="0.075", output="0.60")
        usage = TokenUsage(input_tokens=1000, cached_input_tokens=400, output_tokens=500)

        cost = version.cost(usage)

        # 600 x 0.15 + 400 x 0.075 + 500 x 0.60 = 90 + 30 + 300 = 420 per million
        assert cost.amount == Decimal("0.00042")
        assert cost.currency == "USD"

    def test_anthropic_classes_are_each_billed_once(self) -> None:
        # input_tokens=100, cache_read_input_tokens=2000, cache_creation_input_tokens=500.
        version = price(
            model_id="anthropic/claude-sonnet-4-5",
            input="3",
            output="15",
            cached_input="0.30",
            cache_write="3.75",
        )
        usage = TokenUsage(
            input_tokens=100 + 2000 + 500,
            cached_input_tokens=2000,
            cache_write_tokens=500,
            output_tokens=300,
        )

        # 100 x 3 + 2000 x 0.30 + 500 x 3.75 + 300 x 15 = 300 + 600 + 1875 + 4500 = 7275
        assert version.cost(usage).amount == Decimal("0.007275")

    def test_reasoning_price_replaces_output_price_for_the_reasoning_part(self) -> None:
        version = price(input="1.10", output="4.40", reasoning="2.20")
        usage = TokenUsage(input_tokens=0, output_tokens=1000, reasoning_tokens=700)

        # 300 x 4.40 + 700 x 2.20 = 1320 + 1540 = 2860 (never 1000 x 4.40 + 700 x 2.20)
        assert version.cost(usage).amount == Decimal("0.00286")

    def test_reasoning_without_its_own_price_is_billed_as_output(self) -> None:
        version = price(input="1.10", output="4.40", reasoning=None)
        usage = TokenUsage(input_tokens=0, output_tokens=1000, reasoning_tokens=700)

        # 1000 x 4.40 = 4400: reasoning is part of output, billed once
        assert version.cost(usage).amount == Decimal("0.0044")

    def test_cache_classes_default_to_the_input_price(self) -> None:
        version = price(input="2", output="8", cached_input=None, cache_write=None)
        usage = TokenUsage(input_tokens=1000, cached_input_tokens=300, cache_write_tokens=200)

        assert version.cost(usage).amount == Decimal("0.002")
        assert version.cost(usage) == price(input="2", output="8").cost(
            TokenUsage(input_tokens=1000)
        )

    def test_zero_usage_costs_zero(self) -> None:
        assert price().cost(TokenUsage()).amount == 0

    def test_cost_is_exact_to_the_last_digit(self) -> None:
        version = price(
            input="0.123457",
            output="987.654321",
            cached_input="0.000001",
            cache_write="1.999999",
            reasoning="333.333333",
        )
        usage = TokenUsage(
            input_tokens=987_654_321 + 123_456_789 + 555_555_555,
            cached_input_tokens=123_456_789,
            cache_write_tokens=555_555_555,
            output_tokens=777_777_777 + 111_111_111,
            reasoning_tokens=111_111_111,
        )

        expected = (
            by_hand(987_654_321, "0.123457")
            + by_hand(123_456_789, "0.000001")
            + by_hand(555_555_555, "1.999999")
            + by_hand(777_777_777, "987.654321")
            + by_hand(111_111_111, "333.333333")
        )
        assert version.cost(usage).amount == expected
        assert version.cost(usage).amount == Decimal("806445.662712196311")

    def test_smallest_cost_is_not_rounded_away(self) -> None:
        version = price(input="0.000001", output="0")
        assert version.cost(TokenUsage(input_tokens=1)).amount == Decimal("1E-12")

    def test_cost_is_in_the_price_currency(self) -> None:
        assert price(currency="EUR").cost(TokenUsage(input_tokens=1)).currency == "EUR"


class TestPriceValidation:
    @pytest.mark.parametrize(
        "field", ["input", "output", "cached_input", "cache_write", "reasoning"]
    )
    def test_more_than_six_decimals_refused(self, field: str) -> None:
        with pytest.raises(InvalidAmount, match="more than 6 decimals"):
            price(**{field: Decimal("0.0000001")})

    @pytest.mark.parametrize(
        "field", ["input", "output", "cached_input", "cache_write", "reasoning"]
    )
    def test_negative_refused(self, field: str) -> None:
        with pytest.raises(InvalidAmount):
            price(**{field: Decimal("-1")})

    @pytest.mark.parametrize(
        "field", ["input", "output", "cached_input", "cache_write", "reasoning"]
    )
    def test_float_refused(self, field: str) -> None:
        with pytest.raises(InvalidAmount):
            price(**{field: 0.5})

    def test_prices_are_coerced_to_decimal(self) -> None:
        version = price(input="0.15", output=2, cached_input="0.075000")
        assert version.input == Decimal("0.15")
        assert version.output == Decimal(2)
        assert isinstance(version.output, Decimal)
        assert version.cached_input == Decimal("0.075")

    def test_naive_effective_from_refused(self) -> None:
        with pytest.raises(ValidationError):
            price(effective_from=datetime(2026, 1, 1))

    def test_bad_currency_refused(self) -> None:
        with pytest.raises(InvalidAmount):
            price(currency="usd")


price_versions = st.builds(
    lambda i, o, c, w, r: price(input=i, output=o, cached_input=c, cache_write=w, reasoning=r),
    prices,
    prices,
    optional_prices,
    optional_prices,
    optional_prices,
)

# One more token of each class, in the product's convention (cached/write/reasoning are parts).
ONE_MORE = {
    "uncached input": TokenUsage(input_tokens=1),
    "cached input": TokenUsage(input_tokens=1, cached_input_tokens=1),
    "cache write": TokenUsage(input_tokens=1, cache_write_tokens=1),
    "plain output": TokenUsage(output_tokens=1),
    "reasoning": TokenUsage(output_tokens=1, reasoning_tokens=1),
}


def times(usage: TokenUsage, n: int) -> TokenUsage:
    return TokenUsage(**{name: getattr(usage, name) * n for name in TokenUsage.__slots__})


class TestCostProperties:
    @PROPERTY
    @given(price_versions, token_usages(), token_usages())
    def test_cost_is_linear(self, version: PriceVersion, a: TokenUsage, b: TokenUsage) -> None:
        assert version.cost(a + b) == version.cost(a) + version.cost(b)

    @PROPERTY
    @given(
        price_versions,
        token_usages(),
        st.sampled_from(sorted(ONE_MORE)),
        st.integers(min_value=1, max_value=10**6),
    )
    def test_cost_is_monotone_in_each_token_class(
        self, version: PriceVersion, usage: TokenUsage, token_class: str, extra: int
    ) -> None:
        one = ONE_MORE[token_class]
        more = usage + times(one, extra)
        even_more = more + times(one, extra)
        assert version.cost(usage) <= version.cost(more) <= version.cost(even_more)

    @PROPERTY
    @given(price_versions, token_usages())
    def test_cost_has_at_most_twelve_decimals(
        self, version: PriceVersion, usage: TokenUsage
    ) -> None:
        amount = version.cost(usage).amount
        assert decimal_places(amount) <= 12
        assert amount == amount.quantize(Decimal("1E-12"))

    @PROPERTY
    @given(price_versions, token_usages())
    def test_cost_matches_the_formula_by_hand(
        self, version: PriceVersion, usage: TokenUsage
    ) -> None:
        cached = version.cached_input if version.cached_input is not None else version.input
        write = version.cache_write if version.cache_write is not None else version.input
        reasoning = version.reasoning if version.reasoning is not None else version.output
        expected = (
            by_hand(usage.uncached_input_tokens, str(version.input))
            + by_hand(usage.cached_input_tokens, str(cached))
            + by_hand(usage.cache_write_tokens, str(write))
            + by_hand(usage.output_tokens - usage.reasoning_tokens, str(version.output))
            + by_hand(usage.reasoning_tokens, str(reasoning))
        )
        assert version.cost(usage).amount == expected


class TestPriceHistory:
    def history(self) -> PriceHistory:
        return PriceHistory(
            "openai/gpt-4o-mini",
            [
                price(effective_from=T0 + timedelta(days=60), input="3", id="v3"),
                price(effective_from=T0, input="1", id="v1"),
                price(effective_from=T0 + timedelta(days=30), input="2", id="v2"),
            ],
        )

    def test_versions_are_sorted(self) -> None:
        assert [v.id for v in self.history().versions] == ["v1", "v2", "v3"]

    def test_before_the_first_version_there_is_no_price(self) -> None:
        with pytest.raises(NoPriceInForce):
            self.history().in_force_at(T0 - timedelta(microseconds=1))

    def test_empty_history_has_no_price(self) -> None:
        with pytest.raises(NoPriceInForce):
            PriceHistory("openai/gpt-4o-mini").in_force_at(T0)

    @pytest.mark.parametrize(
        ("instant", "expected"),
        [
            (T0, "v1"),
            (T0 + timedelta(days=30) - timedelta(microseconds=1), "v1"),
            (T0 + timedelta(days=30), "v2"),
            (T0 + timedelta(days=45), "v2"),
            (T0 + timedelta(days=60), "v3"),
            (T0 + timedelta(days=3650), "v3"),
        ],
    )
    def test_version_in_force_at_an_instant(self, instant: datetime, expected: str) -> None:
        assert self.history().in_force_at(instant).id == expected

    def test_instants_in_other_zones_compare_as_instants(self) -> None:
        # 2026-01-31 00:30 in Paris is 2026-01-30 23:30 UTC: before v2 (2026-01-31 00:00 UTC).
        instant = datetime(2026, 1, 31, 0, 30, tzinfo=ZoneInfo("Europe/Paris"))
        assert self.history().in_force_at(instant).id == "v1"

    def test_naive_instant_refused(self) -> None:
        with pytest.raises(ValidationError):
            self.history().in_force_at(datetime(2026, 2, 1))

    def test_versions_in_a_dst_fold_are_ordered_as_instants(self) -> None:
        paris = ZoneInfo("Europe/Paris")
        # 2026-10-25: 02:00-03:00 happens twice in Paris.
        first = price(effective_from=datetime(2026, 10, 25, 2, 45, fold=0, tzinfo=paris), id="a")
        second = price(effective_from=datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=paris), id="b")
        assert first.effective_from.astimezone(UTC) < second.effective_from.astimezone(UTC)

        history = PriceHistory("openai/gpt-4o-mini", [first, second])

        assert history.in_force_at(datetime(2026, 10, 25, 1, 40, tzinfo=UTC)).id == "b"

    @PROPERTY
    @given(
        st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=6, unique=True),
        st.integers(min_value=0, max_value=10**6 + 10),
    )
    def test_in_force_is_the_latest_version_not_after_the_instant(
        self, starts: list[int], at: int
    ) -> None:
        versions = [price(effective_from=T0 + timedelta(seconds=s), id=str(s)) for s in starts]
        history = PriceHistory("openai/gpt-4o-mini", list(reversed(versions)))
        instant = T0 + timedelta(seconds=at)
        started = [s for s in starts if s <= at]
        if not started:
            with pytest.raises(NoPriceInForce):
                history.in_force_at(instant)
        else:
            assert history.in_force_at(instant).id == str(max(started))


class TestModel:
    def test_valid_model(self) -> None:
        model = Model("openai/gpt-4o-mini", "openai", "gpt-4o-mini")
        assert model.max_output_tokens > 0

    @pytest.mark.parametrize(
        ("model_id", "provider"),
        [("gpt-4o-mini", "openai"), ("openai/", "openai"), ("/gpt", ""), ("openai/x", "anthropic")],
    )
    def test_id_must_be_provider_slash_model(self, model_id: str, provider: str) -> None:
        with pytest.raises(ValidationError):
            Model(model_id, provider, "x")

    @pytest.mark.parametrize(("max_output", "window"), [(0, 1000), (100, 0), (-1, 1000)])
    def test_limits_must_be_positive(self, max_output: int, window: int) -> None:
        with pytest.raises(ValidationError):
            Model("openai/x", "openai", "x", max_output_tokens=max_output, context_window=window)


class TestResolveModelId:
    models = (
        Model("openai/gpt-4o-mini", "openai", "gpt-4o-mini"),
        Model("anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
        Model("openai/shared", "openai", "shared"),
        Model("local/shared", "local", "shared"),
    )

    def test_full_id(self) -> None:
        assert resolve_model_id("openai/gpt-4o-mini", self.models) == "openai/gpt-4o-mini"

    def test_unambiguous_bare_name_is_an_alias(self) -> None:
        assert resolve_model_id("claude-sonnet-4-5", self.models) == "anthropic/claude-sonnet-4-5"

    def test_ambiguous_bare_name_is_unknown(self) -> None:
        assert resolve_model_id("shared", self.models) is None

    def test_unknown(self) -> None:
        assert resolve_model_id("gpt-5", self.models) is None
        assert resolve_model_id("google/gpt-4o-mini", self.models) is None
