"""Model aliases on both backends: stored per client or agency-wide, retargeted in place, removed,
and noted on usage records and journal rows (docs/aliases.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.billing.money import Money
from domain.catalog.aliases import ModelAlias
from domain.errors import NotFound
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageGrouping
from tests.integration.persistence import builders
from tests.integration.persistence.builders import T0

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


async def _seed(uow: UowFactory) -> tuple[str, str]:
    client = builders.client()
    key = builders.key(client.id)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.keys.add(key)
        await tx.catalog.save_model(builders.model("openai/gpt-4o-mini"))
        await tx.catalog.save_model(builders.model("anthropic/claude-haiku-4-5"))
        await tx.commit()
    return client.id, key.id


async def test_aliases_round_trip_per_client_and_agency_wide(uow: UowFactory) -> None:
    client_id, _ = await _seed(uow)
    agency = ModelAlias("gpt-4o", "openai/gpt-4o-mini", None, T0, T0)
    own = ModelAlias("gpt-4o", "anthropic/claude-haiku-4-5", client_id, T0, T0)
    async with uow() as tx:
        await tx.catalog.save_alias(own)
        await tx.catalog.save_alias(agency)
        await tx.commit()
    async with uow() as tx:
        assert list(await tx.catalog.aliases()) == [agency, own]  # agency-wide first

    later = T0 + timedelta(hours=1)
    moved = ModelAlias("gpt-4o", "openai/gpt-4o-mini", client_id, T0, later)
    async with uow() as tx:
        await tx.catalog.save_alias(moved)  # same (client, name): retargeted, not duplicated
        await tx.commit()
    async with uow() as tx:
        assert list(await tx.catalog.aliases()) == [agency, moved]

    async with uow() as tx:
        assert await tx.catalog.remove_alias(None, "gpt-4o") is True
        assert await tx.catalog.remove_alias(None, "gpt-4o") is False
        assert await tx.catalog.remove_alias("another-client", "gpt-4o") is False
        await tx.commit()
    async with uow() as tx:
        assert list(await tx.catalog.aliases()) == [moved]


async def test_an_alias_to_a_model_not_in_the_catalog_is_refused(uow: UowFactory) -> None:
    await _seed(uow)
    async with uow() as tx:
        with pytest.raises(NotFound):
            await tx.catalog.save_alias(ModelAlias("x", "openai/nope", None, T0, T0))


async def test_alias_changes_move_the_configuration_revision(uow: UowFactory) -> None:
    """Cached configurations (runtime/lookups.py) are dropped when an alias changes."""
    await _seed(uow)
    changes: list[bool] = []
    async with uow() as tx:
        tx._on_config_change = lambda: changes.append(True)
        await tx.catalog.save_alias(ModelAlias("a", "openai/gpt-4o-mini", None, T0, T0))
        await tx.commit()
    async with uow() as tx:
        tx._on_config_change = lambda: changes.append(True)
        await tx.catalog.remove_alias(None, "a")
        await tx.commit()
    assert changes == [True, True]


async def test_usage_records_and_journal_rows_keep_the_alias(uow: UowFactory) -> None:
    client_id, key_id = await _seed(uow)
    through = builders.usage(client_id, key_id, alias="gpt-4o", cost=Money(Decimal("0.1"), "USD"))
    second = builders.usage(client_id, key_id, alias="gpt-4o", cost=Money(Decimal("0.2"), "USD"))
    other = builders.usage(
        client_id, key_id, alias="bot", model_id="anthropic/claude-haiku-4-5", provider="anthropic"
    )
    direct = builders.usage(client_id, key_id)
    entry = builders.journal(client_id=client_id, api_key_id=key_id, alias="gpt-4o")
    async with uow() as tx:
        for record in (through, second, other, direct):
            assert await tx.usage.add(record)
        await tx.journal.start(entry)
        await tx.commit()
    async with uow() as tx:
        assert (await tx.usage.for_request(through.request_id))[0].alias == "gpt-4o"
        assert (await tx.usage.for_request(direct.request_id))[0].alias is None
        [stuck] = await tx.journal.unsettled(T0 + timedelta(days=1))
        rows = await tx.usage.totals(
            T0 - timedelta(days=1), T0 + timedelta(days=1), UsageGrouping.ALIAS, [client_id]
        )
    assert stuck.alias == "gpt-4o"
    by_alias = {(row.alias, row.model_id): row for row in rows}
    assert set(by_alias) == {
        ("gpt-4o", "openai/gpt-4o-mini"),
        ("bot", "anthropic/claude-haiku-4-5"),
    }
    assert by_alias["gpt-4o", "openai/gpt-4o-mini"].requests == 2
    assert by_alias["gpt-4o", "openai/gpt-4o-mini"].cost == Money(Decimal("0.3"), "USD")
    assert by_alias["bot", "anthropic/claude-haiku-4-5"].tokens == other.usage
    assert by_alias["bot", "anthropic/claude-haiku-4-5"].tokens != TokenUsage()
