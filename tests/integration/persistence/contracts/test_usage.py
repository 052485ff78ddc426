"""UsageRepository contract, on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.billing.money import Money, exact_sum
from domain.errors import NotFound
from domain.ids import new_id
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageGrouping, UsageRecord, UsageSource, UsageTotals
from domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.integration.persistence import builders
from tests.integration.persistence.contracts import seed

PROPERTY = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Midnight UTC on a Saturday: the records below span whole and partial UTC days.
DAY0 = datetime(2026, 3, 7, tzinfo=UTC)
MODELS = ("openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5")


async def owners(uow: UnitOfWork, count: int) -> list[tuple[str, str]]:
    """(client id, key id) pairs, each client with one key."""
    pairs = []
    for _ in range(count):
        owner = await seed.client(uow)
        pairs.append((owner.id, (await seed.key(uow, owner.id)).id))
    return pairs


async def test_a_record_is_stored_once_per_request_and_attempt(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        [(client_id, key_id)] = await owners(uow, 1)
        first = builders.usage(client_id, key_id, request_id="r-1", attempt=1)
        second = builders.usage(client_id, key_id, request_id="r-1", attempt=2)
        assert await uow.usage.add(second)
        assert await uow.usage.add(first)
        assert not await uow.usage.add(
            builders.usage(client_id, key_id, request_id="r-1", attempt=1, latency_ms=1)
        )
        await uow.commit()
    async with store() as uow:
        assert list(await uow.usage.for_request("r-1")) == [first, second]
        assert await uow.usage.for_request("r-unknown") == []


async def test_a_record_of_an_unknown_client_is_not_found(store: UnitOfWorkFactory) -> None:
    async with store() as uow:
        with pytest.raises(NotFound):
            await uow.usage.add(builders.usage(new_id(), new_id()))


records_of = st.lists(
    st.tuples(
        st.integers(0, 1),  # owner
        st.integers(0, 3 * 24 * 60 - 1),  # minute after DAY0
        st.sampled_from(MODELS),
        st.decimals(Decimal(0), Decimal(5), places=15, allow_nan=False),
        st.booleans(),  # estimated
        st.sampled_from([None, "bot", "gpt-4o"]),  # the alias the call named
    ),
    max_size=12,
)


async def add_records(
    uow: UnitOfWork, drawn: list[tuple[int, int, str, Decimal, bool, str | None]]
) -> tuple[list[tuple[str, str]], list[UsageRecord]]:
    pairs = await owners(uow, 2)
    records = []
    for n, (owner, minute, model_id, cost, estimated, alias) in enumerate(drawn):
        client_id, key_id = pairs[owner]
        record = builders.usage(
            client_id,
            key_id,
            request_id=f"r-{n:02}",
            model_id=model_id,
            started_at=DAY0 + timedelta(minutes=minute),
            cost=Money(cost, "USD"),
            charge=Money(cost * 2, "USD"),
            usage=TokenUsage(input_tokens=n + 1, output_tokens=minute),
            source=UsageSource.ESTIMATED if estimated else UsageSource.REPORTED,
            alias=alias,
        )
        assert await uow.usage.add(record)
        records.append(record)
    return pairs, records


window = st.tuples(st.integers(-60, 3 * 24 * 60 + 60), st.integers(0, 3 * 24 * 60 + 60))


@PROPERTY
@given(drawn=records_of, bounds=window, limit=st.integers(1, 5))
async def test_a_clients_records_are_those_started_in_the_half_open_window(
    store: UnitOfWorkFactory,
    drawn: list[tuple[int, int, str, Decimal, bool, str | None]],
    bounds: tuple[int, int],
    limit: int,
) -> None:
    start = DAY0 + timedelta(minutes=bounds[0])
    end = start + timedelta(minutes=bounds[1])
    async with store() as uow:  # never committed: each example starts from an empty store
        pairs, records = await add_records(uow, drawn)
        for client_id, _ in pairs:
            inside = [
                r for r in records if r.client_id == client_id and start <= r.started_at < end
            ]
            oldest_first = sorted(inside, key=lambda r: (r.started_at, r.request_id))
            assert list(await uow.usage.for_client(client_id, start, end)) == oldest_first
            estimated = [r for r in oldest_first if r.source is UsageSource.ESTIMATED]
            newest_first = sorted(
                estimated, key=lambda r: (-r.started_at.timestamp(), r.request_id)
            )
            found = await uow.usage.estimated(client_id, start, end, limit)
            assert list(found) == newest_first[:limit]


def expected_totals(records: list[UsageRecord], grouping: UsageGrouping) -> list[UsageTotals]:
    groups: dict[tuple[str, str, str], list[UsageRecord]] = defaultdict(list)
    for r in records:
        if grouping is UsageGrouping.ALIAS and r.alias is None:
            continue  # calls without an alias are left out of the alias grouping
        hour = r.started_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        client = "" if grouping is UsageGrouping.HOUR_ALL else r.client_id
        extra = {
            UsageGrouping.CLIENT: "",
            UsageGrouping.MODEL: r.model_id,
            UsageGrouping.HOUR: hour.isoformat(),
            UsageGrouping.HOUR_ALL: hour.isoformat(),
            UsageGrouping.ALIAS: r.model_id,
        }[grouping]
        alias = r.alias if grouping is UsageGrouping.ALIAS and r.alias else ""
        groups[(client, alias, extra)].append(r)
    totals = []
    for (client, alias, extra), members in sorted(groups.items()):
        tokens = TokenUsage()
        for r in members:
            tokens = tokens + r.usage
        totals.append(
            UsageTotals(
                client_id=client,
                requests=len(members),
                tokens=tokens,
                cost=Money(exact_sum(*(r.cost.amount for r in members)), "USD"),
                charge=Money(exact_sum(*(r.charge.amount for r in members)), "USD"),
                model_id=extra if grouping in (UsageGrouping.MODEL, UsageGrouping.ALIAS) else None,
                hour=datetime.fromisoformat(extra)
                if grouping in (UsageGrouping.HOUR, UsageGrouping.HOUR_ALL)
                else None,
                alias=alias or None,
            )
        )
    return totals


@PROPERTY
@given(
    drawn=records_of,
    bounds=window,
    grouping=st.sampled_from(list(UsageGrouping)),
    only_first=st.booleans(),
)
async def test_totals_are_exact_sums_per_group_in_client_then_group_order(
    store: UnitOfWorkFactory,
    drawn: list[tuple[int, int, str, Decimal, bool, str | None]],
    bounds: tuple[int, int],
    grouping: UsageGrouping,
    only_first: bool,
) -> None:
    start = DAY0 + timedelta(minutes=bounds[0])
    end = start + timedelta(minutes=bounds[1])
    async with store() as uow:  # never committed: each example starts from an empty store
        pairs, records = await add_records(uow, drawn)
        asked = [pairs[0][0]] if only_first else None
        inside = [
            r
            for r in records
            if start <= r.started_at < end and (asked is None or r.client_id in asked)
        ]
        totals = await uow.usage.totals(start, end, grouping, asked)
    assert list(totals) == expected_totals(inside, grouping)
