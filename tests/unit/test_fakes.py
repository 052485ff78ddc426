"""The in-memory fakes honour the contracts of the ports they stand in for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.billing.clients import Client, ClientStatus
from domain.billing.money import Money
from domain.catalog.models import Model, PriceVersion
from domain.errors import Conflict
from domain.invoicing.ledger import EntryKind, LedgerEntry
from domain.metering.journal import JournalEntry, JournalState
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def a_client(client_id: str = "c1") -> Client:
    return Client(id=client_id, name="Acme", created_at=T0)


def a_record(request_id: str, attempt: int = 0, started_at: datetime = T0) -> UsageRecord:
    return UsageRecord(
        id=f"u-{request_id}-{attempt}",
        request_id=request_id,
        attempt=attempt,
        client_id="c1",
        api_key_id="k1",
        model_id="openai/gpt-4o-mini",
        provider="openai",
        usage=TokenUsage(input_tokens=10, output_tokens=5),
        cost=Money(Decimal("0.0000045")),
        charge=Money(Decimal("0.00000585")),
        price_version_id="p1",
        plan_version_id="v1",
        started_at=started_at,
        latency_ms=120,
        status=CallStatus.SUCCEEDED,
        source=UsageSource.REPORTED,
    )


class TestUnitOfWork:
    async def test_committed_changes_are_seen_by_the_next_unit_of_work(self) -> None:
        factory = FakeUnitOfWorkFactory()
        async with factory() as uow:
            await uow.clients.add(a_client())
            await uow.commit()
            assert uow.committed

        async with factory() as uow:
            assert await uow.clients.get("c1") == a_client()

    async def test_leaving_without_commit_rolls_back(self) -> None:
        factory = FakeUnitOfWorkFactory()
        async with factory() as uow:
            await uow.clients.add(a_client())
            assert await uow.clients.get("c1") is not None  # visible inside the transaction

        assert not factory.made[0].committed
        async with factory() as uow:
            assert await uow.clients.get("c1") is None

    async def test_an_exception_rolls_back(self) -> None:
        factory = FakeUnitOfWorkFactory()

        async def fail_midway() -> None:
            async with factory() as uow:
                await uow.clients.add(a_client())
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await fail_midway()
        assert factory.store.clients == {}

    async def test_explicit_rollback_discards_uncommitted_changes_only(self) -> None:
        factory = FakeUnitOfWorkFactory()
        async with factory() as uow:
            await uow.clients.add(a_client("c1"))
            await uow.commit()
            await uow.clients.add(a_client("c2"))
            await uow.rollback()
            assert await uow.clients.get("c2") is None
            assert await uow.clients.get("c1") is not None

    async def test_uncommitted_work_is_invisible_to_other_units_of_work(self) -> None:
        factory = FakeUnitOfWorkFactory()
        async with factory() as writer:
            await writer.clients.add(a_client())
            async with factory() as reader:
                assert await reader.clients.get("c1") is None

    async def test_duplicate_client_is_a_conflict(self) -> None:
        factory = FakeUnitOfWorkFactory()
        async with factory() as uow:
            await uow.clients.add(a_client())
            with pytest.raises(Conflict):
                await uow.clients.add(a_client())

    async def test_client_update_overwrites_mutable_fields_only(self) -> None:
        factory = FakeUnitOfWorkFactory()
        async with factory() as uow:
            await uow.clients.add(a_client())
            changed = Client(
                id="c1",
                name="Acme Ltd",
                created_at=T0 + timedelta(days=1),
                currency="EUR",
                status=ClientStatus.SUSPENDED,
            )
            await uow.clients.update(changed)
            stored = await uow.clients.get("c1")
        assert stored is not None
        assert (stored.name, stored.status) == ("Acme Ltd", ClientStatus.SUSPENDED)
        assert (stored.created_at, stored.currency) == (T0, "USD")


class TestIdempotentRepositories:
    async def test_usage_add_is_idempotent_on_request_and_attempt(self) -> None:
        factory = FakeUnitOfWorkFactory()
        async with factory() as uow:
            await uow.clients.add(a_client())
            assert await uow.usage.add(a_record("r1"))
            assert not await uow.usage.add(a_record("r1"))
            assert await uow.usage.add(a_record("r1", attempt=1))
            assert len(await uow.usage.for_request("r1")) == 2

    async def test_usage_for_client_is_half_open_and_oldest_first(self) -> None:
        factory = FakeUnitOfWorkFactory()
        async with factory() as uow:
            await uow.clients.add(a_client())
            await uow.usage.add(a_record("late", started_at=T0 + timedelta(days=1)))
            await uow.usage.add(a_record("early", started_at=T0))
            await uow.usage.add(a_record("end", started_at=T0 + timedelta(days=2)))
            found = await uow.usage.for_client("c1", T0, T0 + timedelta(days=2))
        assert [r.request_id for r in found] == ["early", "late"]

    async def test_ledger_append_is_idempotent_on_client_kind_reference(self) -> None:
        factory = FakeUnitOfWorkFactory()
        entry = LedgerEntry("e1", "c1", EntryKind.FEE, Money(Decimal(5)), T0, "fee-2026-03")
        async with factory() as uow:
            await uow.clients.add(a_client())
            assert await uow.ledger.append(entry)
            again = LedgerEntry("e2", "c1", EntryKind.FEE, Money(Decimal(7)), T0, "fee-2026-03")
            assert not await uow.ledger.append(again)
            other_kind = LedgerEntry(
                "e3", "c1", EntryKind.CREDIT, Money(Decimal(-1)), T0, "fee-2026-03"
            )
            assert await uow.ledger.append(other_kind)
            assert await uow.ledger.balance("c1", "USD") == Money(Decimal(4))
            assert [e.id for e in await uow.ledger.entries("c1")] == ["e1", "e3"]

    async def test_journal_start_is_idempotent_and_finish_settles(self) -> None:
        factory = FakeUnitOfWorkFactory()
        entry = JournalEntry("r1", "c1", "k1", "openai/gpt-4o-mini", T0, 100)
        async with factory() as uow:
            assert await uow.journal.start(entry)
            assert not await uow.journal.start(entry)
            assert await uow.journal.unsettled(T0 + timedelta(seconds=1)) == [entry]
            assert await uow.journal.unsettled(T0) == []
            await uow.journal.finish("r1", JournalState.SETTLED)
            assert await uow.journal.unsettled(T0 + timedelta(seconds=1)) == []

    async def test_second_price_at_the_same_instant_is_a_conflict(self) -> None:
        factory = FakeUnitOfWorkFactory()
        price = PriceVersion("openai/x", T0, Decimal(1), Decimal(2), id="p1")
        async with factory() as uow:
            await uow.catalog.save_model(Model("openai/x", "openai", "x"))
            await uow.catalog.add_price(price)
            with pytest.raises(Conflict):
                await uow.catalog.add_price(
                    PriceVersion("openai/x", T0, Decimal(3), Decimal(4), id="p2")
                )
            history = await uow.catalog.prices("openai/x")
        assert history.versions == [price]


class TestClockAndHasher:
    def test_frozen_clock_is_aware_utc_and_advances(self) -> None:
        clock = FrozenClock(datetime(2026, 3, 1, 1, 0, tzinfo=UTC))
        assert clock.now().tzinfo is UTC
        assert clock.advance(hours=2) == datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
        clock.set(T0)
        assert clock.now() == T0

    def test_frozen_clock_refuses_naive_instants(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            FrozenClock(datetime(2026, 3, 1))

    def test_hasher_is_deterministic_keyed_and_hex(self) -> None:
        digest = FakeKeyHasher().digest("bzk_live_secret")
        assert digest == FakeKeyHasher().digest("bzk_live_secret")
        assert digest != FakeKeyHasher(b"another secret").digest("bzk_live_secret")
        assert digest != FakeKeyHasher().digest("bzk_live_secreT")
        assert len(digest) == 64
        int(digest, 16)
