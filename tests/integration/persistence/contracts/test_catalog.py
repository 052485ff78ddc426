"""CatalogRepository contract, on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.catalog.models import ModelKind
from domain.errors import Conflict, NotFound, ValidationError
from domain.ids import new_id
from domain.ports import UnitOfWorkFactory
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0

PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def test_save_model_inserts_then_replaces_the_settings(store: UnitOfWorkFactory) -> None:
    first = builders.model("openai/gpt-4o-mini", max_output_tokens=100)
    changed = replace(first, max_output_tokens=200, fallbacks=("openai/gpt-4o",))
    async with store() as uow:
        await uow.catalog.save_model(first)
        await uow.commit()
    async with store() as uow:
        assert await uow.catalog.get_model(first.id) == first
        await uow.catalog.save_model(changed)
        await uow.commit()
    async with store() as uow:
        assert await uow.catalog.get_model(first.id) == changed
        assert list(await uow.catalog.models()) == [changed]
        assert await uow.catalog.get_model("nobody/none") is None


async def test_models_are_listed_by_id(store: UnitOfWorkFactory) -> None:
    ids = ["openai/gpt-4o", "anthropic/claude-sonnet-4-5", "openai/text-embedding-3-small"]
    async with store() as uow:
        for model_id in ids:
            kind = ModelKind.EMBEDDING if "embedding" in model_id else ModelKind.CHAT
            await uow.catalog.save_model(builders.model(model_id, kind=kind))
        assert [m.id for m in await uow.catalog.models()] == sorted(ids)


@PROPERTY
@given(days=st.lists(st.integers(-400, 400), min_size=1, max_size=6, unique=True))
async def test_prices_come_back_in_effective_order_whatever_the_order_added(
    store: UnitOfWorkFactory, days: list[int]
) -> None:
    model = builders.model()
    versions = [
        builders.price(model.id, effective_from=T0 + timedelta(days=d), input=Decimal(d % 7))
        for d in days
    ]
    async with store() as uow:  # never committed: each example starts from an empty store
        await uow.catalog.save_model(model)
        for version in versions:
            await uow.catalog.add_price(version)
        history = await uow.catalog.prices(model.id)
    assert history.model_id == model.id
    assert history.versions == sorted(versions, key=lambda v: v.effective_from)


async def test_a_second_price_at_the_same_instant_is_a_conflict(store: UnitOfWorkFactory) -> None:
    model = builders.model()
    first = builders.price(model.id)
    async with store() as uow:
        await uow.catalog.save_model(model)
        await uow.catalog.add_price(first)
        with pytest.raises(Conflict):
            await uow.catalog.add_price(builders.price(model.id, input=Decimal(9)))
        assert (await uow.catalog.prices(model.id)).versions == [first]


async def test_a_model_without_prices_has_an_empty_history(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        assert (await uow.catalog.prices("nobody/none")).versions == []


async def test_a_price_of_an_unknown_model_is_not_found(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.catalog.add_price(builders.price("nobody/" + new_id()))


async def test_a_price_without_an_id_is_refused(store: UnitOfWorkFactory) -> None:
    model = builders.model()
    async with store() as uow:
        await uow.catalog.save_model(model)
        with pytest.raises(ValidationError):
            await uow.catalog.add_price(builders.price(model.id, id=""))
        assert (await uow.catalog.prices(model.id)).versions == []
