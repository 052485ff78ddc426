"""BYOK on invoices, on SQLite and PostgreSQL (docs/byok.md): calls made with a client's own
key get a line of their own per model ("paid to your provider directly: list cost X; our
fee"), whose amount is the exact sum of the calls' fees rounded once, for every fee kind; the
agency-paid calls of the same model stay on their usage line; the ledger check holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.billing.money import Money, round_to_minor
from domain.billing.plans import PercentageMargin
from domain.byok.billing import byok_amounts
from domain.byok.credentials import ByokSettings
from domain.byok.fees import ByokFee, FeeKind
from domain.catalog.models import PriceVersion
from domain.invoicing.invoices import LineKind
from domain.metering.tokens import TokenUsage
from tests.fakes import FrozenClock
from tests.integration.persistence import builders
from tests.integration.persistence.test_invoices import (
    AFTER_APRIL,
    APRIL_START,
    add_client,
    call,
    invoicing,
)

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
PRICE = PriceVersion("m/a", APRIL_START, input=Decimal("2.5"), output=Decimal("10"), id="price-a")
CALLS = [(1234, 567), (98765, 4321), (1, 0), (500_000, 20_000)]
FEES = [
    ByokFee(FeeKind.PERCENT_OF_LIST, Decimal("7.5")),
    ByokFee(FeeKind.PER_REQUEST, Decimal("0.0035")),
    ByokFee(FeeKind.PER_MILLION_TOKENS, Decimal("0.333333")),
    ByokFee(FeeKind.INCLUDED),
]


@pytest.mark.parametrize("fee", FEES, ids=[f.kind.value for f in FEES])
async def test_byok_calls_get_their_own_line_to_the_cent(uow: UowFactory, fee: ByokFee) -> None:
    client_id, key_id = await add_client(uow, PercentageMargin(Decimal(10)), tax="0")
    settings = ByokSettings(client_id, fee)
    fees, listed = Decimal(0), Decimal(0)
    for n, (prompt, output) in enumerate(CALLS):
        usage = TokenUsage(input_tokens=prompt, output_tokens=output)
        amounts = byok_amounts(settings, PRICE, usage, True)
        fees += amounts.charge.amount
        listed += amounts.list_cost.amount
        record = builders.usage(
            client_id,
            key_id,
            started_at=APRIL_START + timedelta(days=1, minutes=n),
            model_id="m/a",
            usage=usage,
            cost=amounts.cost,
            charge=amounts.charge,
            byok=True,
            list_cost=amounts.list_cost,
        )
        async with uow() as tx:
            assert await tx.usage.add(record)
            await tx.ledger.append(
                builders.entry(client_id, str(amounts.charge.amount), reference=record.request_id)
            )
            await tx.commit()
    await call(uow, client_id, key_id, APRIL_START + timedelta(days=2), "1.005")
    invoices = invoicing(uow, FrozenClock(AFTER_APRIL))

    result = await invoices.close_period("2026-04")

    [invoice] = result.created
    lines = {line.kind: line for line in invoice.lines}
    byok = lines[LineKind.BYOK_USAGE]
    assert byok.amount == Money(round_to_minor(fees, "USD"))
    assert byok.exact_amount == fees
    assert byok.requests == len(CALLS)
    shown = round_to_minor(listed, "USD")
    assert f"paid to your provider directly: list cost {shown} USD; our fee" in byok.description
    assert lines[LineKind.USAGE].amount == Money("1.00")
    assert invoice.subtotal == Money("1.00") + byok.amount
    assert await invoices.verify() == []
