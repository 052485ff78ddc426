"""A settlement the database refuses (down, full) is not lost: it is retried until it commits,
and billed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.billing.plans import PercentageMargin
from domain.catalog.models import Model, PriceVersion
from domain.errors import StoreUnavailable
from domain.metering.journal import JournalState
from domain.metering.request_bounds import text_bound
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageSource
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.grants import Attempt
from domain.usecases.keys import KeyUseCases, NewKey
from domain.usecases.metering import Metering
from runtime.group_commit import GroupCommit
from runtime.lookups import Lookups
from tests.fakes import FakeKeyHasher, FakeUnitOfWork, FakeUnitOfWorkFactory, FrozenClock

T0 = datetime(2026, 3, 1, tzinfo=UTC)


class FlakyDatabase(FakeUnitOfWorkFactory):
    """Refuses every unit of work while `down`, as an unreachable or full database does."""

    down = False

    def __call__(self) -> FakeUnitOfWork:
        if self.down:
            raise StoreUnavailable("the database is unavailable; try again shortly")
        return super().__call__()


async def test_a_settlement_refused_by_the_database_is_retried_and_billed_once() -> None:
    uow, clock = FlakyDatabase(), FrozenClock(T0)
    keys = KeyUseCases(uow, clock, FakeKeyHasher(), Lookups(uow))
    metering = Metering(uow, clock, keys, writes=GroupCommit(uow), lookups=Lookups(uow))
    await CatalogUseCases(uow).save_model(Model("demo/chat", "demo", "chat"))
    await CatalogUseCases(uow).add_price(
        PriceVersion("demo/chat", T0 - timedelta(days=1), input=Decimal(1), output=Decimal(2))
    )
    client, _ = await ClientUseCases(uow, clock).create(
        NewClient("Acme", PercentageMargin(Decimal(10)))
    )
    issued = await keys.issue(NewKey(client.id))
    grant = await metering.authorize(await metering.authenticate(issued.secret), "demo/chat", "r1")
    await metering.hold_and_journal(grant, text_bound(0, 10))
    attempt = Attempt(
        0, grant.target, TokenUsage(input_tokens=12, output_tokens=7), UsageSource.REPORTED,
        CallStatus.SUCCEEDED, 5,
    )  # fmt: skip

    uow.down = True
    await metering.settle(grant, [attempt])  # the provider answered: the call goes on
    async with FakeUnitOfWorkFactory(uow.store)() as tx:
        assert await tx.usage.for_request("r1") == []
    uow.down = False
    await metering.wait_for_settlements(10)

    async with uow() as tx:
        [record] = await tx.usage.for_request("r1")
        assert tx.working.journal["r1"].state is JournalState.SETTLED  # type: ignore[attr-defined]
    assert record.usage == TokenUsage(input_tokens=12, output_tokens=7)
    assert record.status is CallStatus.SUCCEEDED
