"""Models and their effective-dated prices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.catalog.models import ModelKind
from domain.errors import Conflict, NoPriceInForce, NotFound, ValidationError
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0, T0_UTC

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


async def test_model_round_trips_with_kind_and_ordered_fallbacks(uow: UowFactory) -> None:
    embed = builders.model(
        "openai/text-embedding-3-small",
        kind=ModelKind.EMBEDDING,
        max_output_tokens=1,
        context_window=8191,
    )
    chat = builders.model(
        "openai/gpt-4o",
        fallbacks=("openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"),
        max_output_tokens=16_384,
    )
    async with uow() as tx:
        await tx.catalog.save_model(embed)
        await tx.catalog.save_model(chat)
        await tx.commit()

    async with uow() as tx:
        stored = await tx.catalog.get_model("openai/gpt-4o")
        every = await tx.catalog.models()
        missing = await tx.catalog.get_model("openai/nope")

    assert stored == chat
    assert stored is not None
    assert stored.fallbacks == ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5")
    assert list(every) == [chat, embed]
    assert every[1].kind is ModelKind.EMBEDDING
    assert missing is None


async def test_save_model_replaces_settings(uow: UowFactory) -> None:
    model = builders.model()
    async with uow() as tx:
        await tx.catalog.save_model(model)
        await tx.commit()
    changed = replace(model, upstream_name="gpt-4o-mini-2024-07-18", fallbacks=("x/y",))
    async with uow() as tx:
        await tx.catalog.save_model(changed)
        await tx.commit()
    async with uow() as tx:
        assert await tx.catalog.models() == [changed]


async def test_price_history_answers_the_version_in_force(uow: UowFactory) -> None:
    day = timedelta(days=1)
    first = builders.price(
        effective_from=T0,
        input=Decimal("0.000001"),
        output=Decimal("123456.654321"),
        cached_input=Decimal("0.075"),
        cache_write=Decimal("0.1875"),
        reasoning=Decimal("2.5"),
    )
    second = builders.price(effective_from=T0 + 10 * day, input=Decimal("0.2"))
    async with uow() as tx:
        await tx.catalog.save_model(builders.model())
        await tx.catalog.add_price(second)
        await tx.catalog.add_price(first)
        await tx.commit()

    async with uow() as tx:
        history = await tx.catalog.prices("openai/gpt-4o-mini")

    assert history.model_id == "openai/gpt-4o-mini"
    assert history.versions == [first, second]
    assert history.versions[0].effective_from == T0_UTC
    assert str(history.versions[0].input) == "0.000001"
    assert str(history.versions[0].output) == "123456.654321"
    assert history.versions[1].cached_input is None
    assert history.in_force_at(T0) == first
    assert history.in_force_at(T0 + 10 * day - timedelta(microseconds=1)) == first
    assert history.in_force_at(T0 + 10 * day) == second
    with pytest.raises(NoPriceInForce):
        history.in_force_at(T0 - timedelta(microseconds=1))


async def test_second_price_at_the_same_instant_is_conflict(uow: UowFactory) -> None:
    async with uow() as tx:
        await tx.catalog.save_model(builders.model())
        await tx.catalog.add_price(builders.price(effective_from=T0))
        await tx.commit()
    async with uow() as tx:
        with pytest.raises(Conflict):
            await tx.catalog.add_price(builders.price(effective_from=T0, input=Decimal(9)))
        # the same instant written in another zone is the same instant
        with pytest.raises(Conflict):
            await tx.catalog.add_price(builders.price(effective_from=T0.astimezone()))
    async with uow() as tx:
        assert len((await tx.catalog.prices("openai/gpt-4o-mini")).versions) == 1


async def test_price_needs_a_known_model_and_an_id(uow: UowFactory) -> None:
    async with uow() as tx:
        with pytest.raises(ValidationError):
            await tx.catalog.add_price(builders.price(id=""))
        with pytest.raises(NotFound):
            await tx.catalog.add_price(builders.price("openai/unknown"))
