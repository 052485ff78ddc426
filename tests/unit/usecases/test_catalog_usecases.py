"""CatalogUseCases against the in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.catalog.models import Model, PriceVersion
from domain.errors import Conflict, NoPriceInForce, NotFound, UnknownModel, ValidationError
from domain.metering.tokens import TokenUsage
from domain.usecases.catalog import CatalogUseCases
from tests.fakes import FakeUnitOfWorkFactory

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MINI = Model("openai/gpt-4o-mini", "openai", "gpt-4o-mini")


def a_price(effective_from: datetime = T0, input: str = "0.15", **kw: object) -> PriceVersion:
    return PriceVersion(MINI.id, effective_from, Decimal(input), Decimal("0.60"), **kw)  # type: ignore[arg-type]


class TestModels:
    async def test_save_and_list(self) -> None:
        catalog = CatalogUseCases(FakeUnitOfWorkFactory())
        claude = Model("anthropic/claude-x", "anthropic", "claude-x")

        assert await catalog.save_model(MINI) == MINI
        await catalog.save_model(claude)

        assert list(await catalog.models()) == [claude, MINI]

    async def test_saving_again_replaces_the_settings(self) -> None:
        catalog = CatalogUseCases(FakeUnitOfWorkFactory())
        await catalog.save_model(MINI)
        bigger = Model(MINI.id, "openai", "gpt-4o-mini", max_output_tokens=16_384)

        await catalog.save_model(bigger)

        assert list(await catalog.models()) == [bigger]


class TestPrices:
    async def test_unknown_model(self) -> None:
        factory = FakeUnitOfWorkFactory()
        catalog = CatalogUseCases(factory)

        with pytest.raises(UnknownModel) as caught:
            await catalog.add_price(a_price())

        assert isinstance(caught.value, NotFound)
        assert caught.value.code == "model_not_found"
        assert factory.store.prices == {}

    async def test_a_price_gets_an_id(self) -> None:
        catalog = CatalogUseCases(FakeUnitOfWorkFactory())
        await catalog.save_model(MINI)

        first = await catalog.add_price(a_price())
        second = await catalog.add_price(a_price(T0 + timedelta(days=1)))

        assert first.id
        assert second.id
        assert first.id != second.id
        assert (await catalog.prices(MINI.id)).versions == [first, second]

    async def test_a_given_id_is_kept(self) -> None:
        catalog = CatalogUseCases(FakeUnitOfWorkFactory())
        await catalog.save_model(MINI)
        assert (await catalog.add_price(a_price(id="price-1"))).id == "price-1"

    async def test_calls_are_costed_at_the_version_in_force(self) -> None:
        catalog = CatalogUseCases(FakeUnitOfWorkFactory())
        await catalog.save_model(MINI)
        june = datetime(2026, 6, 1, tzinfo=UTC)
        await catalog.add_price(a_price(june, input="0.10"))
        await catalog.add_price(a_price(T0, input="0.15"))
        usage = TokenUsage(input_tokens=1_000_000)

        history = await catalog.prices(MINI.id)

        assert history.in_force_at(june - timedelta(microseconds=1)).cost(usage).amount == Decimal(
            "0.15"
        )
        assert history.in_force_at(june).cost(usage).amount == Decimal("0.10")
        with pytest.raises(NoPriceInForce):
            history.in_force_at(T0 - timedelta(seconds=1))

    async def test_second_price_at_the_same_instant_is_a_conflict(self) -> None:
        catalog = CatalogUseCases(FakeUnitOfWorkFactory())
        await catalog.save_model(MINI)
        await catalog.add_price(a_price())

        with pytest.raises(Conflict):
            await catalog.add_price(a_price(input="0.20"))

        assert len((await catalog.prices(MINI.id)).versions) == 1


async def test_fallbacks_must_exist_and_differ_from_the_model() -> None:
    catalog = CatalogUseCases(FakeUnitOfWorkFactory())
    for model_id in ("openai/a", "openai/b", "anthropic/c"):
        provider = model_id.split("/")[0]
        await catalog.save_model(Model(model_id, provider, model_id.split("/")[1]))

    updated = await catalog.set_fallbacks("openai/a", ["anthropic/c", "openai/b", "anthropic/c"])

    assert updated.fallbacks == ("anthropic/c", "openai/b")
    with pytest.raises(ValidationError):
        await catalog.set_fallbacks("openai/a", ["openai/a"])
    with pytest.raises(ValidationError):
        await catalog.set_fallbacks("openai/a", ["openai/zzz"])
    with pytest.raises(UnknownModel):
        await catalog.set_fallbacks("openai/zzz", [])
    assert (await catalog.set_fallbacks("openai/a", [])).fallbacks == ()
