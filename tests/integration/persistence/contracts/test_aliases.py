"""The model-alias part of the CatalogRepository contract, on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.catalog.aliases import ModelAlias
from domain.errors import NotFound
from domain.ports import UnitOfWorkFactory
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0
from tests.integration.persistence.contracts import seed

PROPERTY = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
MODELS = ("openai/gpt-4o-mini", "anthropic/claude-x")
NAMES = st.sampled_from(["gpt-4o", "gpt-4o-mini", "support-bot", "Bot.2", "a_b", "a-b"])


async def test_an_alias_is_saved_replaced_and_removed(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        for model_id in MODELS:
            await uow.catalog.save_model(builders.model(model_id))
        owner = await seed.client(uow)
        agency = ModelAlias("gpt-4o", MODELS[0], None, T0, T0)
        own = ModelAlias("gpt-4o", MODELS[1], owner.id, T0, T0)
        await uow.catalog.save_alias(agency)
        await uow.catalog.save_alias(own)
        await uow.commit()
    moved = ModelAlias("gpt-4o", MODELS[1], None, T0, T0 + timedelta(hours=1))
    async with store() as uow:
        assert list(await uow.catalog.aliases()) == [agency, own]  # the agency's sort first
        await uow.catalog.save_alias(moved)
        await uow.commit()
    async with store() as uow:
        assert list(await uow.catalog.aliases()) == [moved, own]
        assert await uow.catalog.remove_alias(owner.id, "gpt-4o")
        assert not await uow.catalog.remove_alias(owner.id, "gpt-4o")
        assert not await uow.catalog.remove_alias(None, "nobody")
        await uow.commit()
    async with store() as uow:
        assert list(await uow.catalog.aliases()) == [moved]


async def test_an_alias_of_an_unknown_model_is_not_found(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.catalog.save_alias(ModelAlias("x", "nobody/none", None, T0, T0))


@PROPERTY
@given(
    steps=st.lists(
        st.tuples(st.booleans(), st.booleans(), NAMES, st.sampled_from(MODELS)), max_size=12
    )
)
async def test_aliases_are_listed_by_owner_then_name_after_any_changes(
    store: UnitOfWorkFactory, steps: list[tuple[bool, bool, str, str]]
) -> None:
    """Each step sets (or removes) the agency's or the client's alias of a name; the list is
    what a dictionary keyed by (owner, name) would hold, ordered by owner then name."""
    async with store() as uow:  # never committed: each example starts from an empty store
        for model_id in MODELS:
            await uow.catalog.save_model(builders.model(model_id))
        owner = await seed.client(uow)
        expected: dict[tuple[str, str], ModelAlias] = {}
        for remove, agency_wide, name, model_id in steps:
            client_id = None if agency_wide else owner.id
            key = ("" if client_id is None else client_id, name)
            if remove:
                assert await uow.catalog.remove_alias(client_id, name) == (key in expected)
                expected.pop(key, None)
            else:
                alias = ModelAlias(name, model_id, client_id, T0, T0)
                await uow.catalog.save_alias(alias)
                expected[key] = alias
        listed = list(await uow.catalog.aliases())
    assert listed == [expected[k] for k in sorted(expected)]
