"""Settling calls billed on an estimate against the provider's own figures (docs/reconciliation.md).

One transaction per settlement: the record is read (locked on PostgreSQL), repriced at its own
price and plan versions with the actual tokens, and the settlement row is written with what it
did to the client's money (an account credit, a wallet entry, a line waiting for the next
invoice, or nothing), so a settlement and its effect commit together, once per call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from domain.billing.exchange import Conversions
from domain.billing.money import Money
from domain.billing.plans import PlanVersion
from domain.catalog.models import PriceVersion
from domain.errors import Conflict, NotFound, ValidationError
from domain.ids import new_id
from domain.invoicing.invoices import AccountCredit, check_reason
from domain.metering.estimate_settlements import (
    EstimateSettlement,
    SettlementOutcome,
    check_actual,
    check_settleable,
    client_amount,
    describe,
    outcome_for,
    reprice,
    suggested_actual,
)
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord
from domain.ports import Clock, InvoicingUnitOfWork, InvoicingUnitOfWorkFactory
from domain.reconciliation import ReconciliationTable, days_between
from domain.wallets.statement import EntryKind, WalletEntry
from domain.wallets.wallets import MAX_NOTE

log = logging.getLogger("bizgraph.reconciliation")

MAX_REASON = 300  # the reason goes into the credit's, wallet entry's or line's text
MAX_LISTED = 1000


@dataclass(frozen=True, slots=True)
class EstimatedCall:
    """A call billed on an estimate, its settlement if it has one, and what the provider's hour
    implies it used (None: cannot be told: docs/reconciliation.md)."""

    record: UsageRecord
    client_name: str
    settlement: EstimateSettlement | None
    suggested: TokenUsage | None = None


class EstimateSettlements:
    def __init__(
        self,
        uow: InvoicingUnitOfWorkFactory,
        clock: Clock,
        zone: ZoneInfo | None = None,
        reads: InvoicingUnitOfWorkFactory | None = None,
    ) -> None:
        self._uow = uow
        self._reads = reads or uow
        self._clock = clock
        self._zone = zone or ZoneInfo("UTC")

    async def settle(
        self,
        record_id: str,
        actual: TokenUsage,
        reason: str,
        actor: str,
        bill_shortfall: bool = False,
    ) -> EstimateSettlement:
        """Settle one estimated call at the provider's actual tokens. An over-estimate goes
        back to the client; an under-estimate is absorbed unless `bill_shortfall`."""
        why = check_reason(reason, "settling an estimate")
        if len(why) > MAX_REASON:
            raise ValidationError(f"the reason has at most {MAX_REASON} characters")
        check_actual(actual)
        now = self._clock.now()
        async with self._uow() as uow:
            record = await uow.settlements.record(record_id, for_update=True)
            if record is None:
                raise NotFound(f"no usage record {record_id}")
            check_settleable(record)
            if await uow.settlements.for_records([record.id]):
                raise Conflict("this call is settled already")
            settlement = await self._priced(uow, record, actual, why, actor, now, bill_shortfall)
            settlement = await _apply(uow, settlement)
            if not await uow.settlements.add(settlement):
                raise Conflict("this call is settled already")  # a concurrent settlement won
            await uow.commit()
        log.info(
            "estimate of call %s settled by %s: %s %s",
            record.request_id,
            actor,
            settlement.outcome.value,
            settlement.amount,
        )
        return settlement

    async def _priced(
        self,
        uow: InvoicingUnitOfWork,
        record: UsageRecord,
        actual: TokenUsage,
        reason: str,
        actor: str,
        now: datetime,
        bill_shortfall: bool,
    ) -> EstimateSettlement:
        client = await uow.clients.get(record.client_id)
        if client is None:
            raise NotFound(f"no client {record.client_id}")
        price = await _price(uow, record)
        plan = await _plan(uow, record)
        repriced = reprice(price, plan, actual)
        charge_delta = repriced.charge - record.charge
        wallet = await uow.wallets.get(client.id)
        prepaid = wallet is not None and wallet.prepaid
        currency = wallet.currency if wallet is not None and prepaid else client.currency
        # converted at the rate of the call's day, as its invoice line was (MissingRate: 4xx)
        day = record.started_at.astimezone(self._zone).date()
        conversions = Conversions(await uow.rates.book(), currency)
        converted = conversions.convert(charge_delta.amount, charge_delta.currency, day)
        amount = client_amount(Money(converted, currency))
        return EstimateSettlement(
            id=new_id(),
            record=record,
            actual=actual,
            cost_delta=repriced.cost - record.cost,
            charge_delta=charge_delta,
            amount=amount,
            outcome=outcome_for(amount, prepaid, bill_shortfall),
            reason=reason,
            actor=actor[:200],
            settled_at=now,
        )

    async def estimated_calls(
        self,
        start: date,
        end: date,
        providers: Sequence[str] | None = None,
        table: ReconciliationTable | None = None,
        limit: int = MAX_LISTED,
    ) -> list[EstimatedCall]:
        """Estimated calls that started on UTC days [start, end), oldest first, with their
        settlements; with the reconciliation `table` of those days, each unsettled call alone
        in its hour gets what the provider's hour implies it used."""
        if not 1 <= limit <= MAX_LISTED:
            raise ValidationError(f"1 to {MAX_LISTED} calls are listed at once")
        days_between(start, end)  # at most the reconciliation table's days, never empty
        first = datetime.combine(start, time(), UTC)
        last = datetime.combine(end, time(), UTC)
        async with self._reads() as uow:
            records = await uow.settlements.estimated(first, last, providers, limit)
            settled = {
                s.record.id: s for s in await uow.settlements.for_records([r.id for r in records])
            }
            names = {c.id: c.name for c in await uow.clients.list()}
            upstream = {m.id: m.upstream_name for m in await uow.catalog.models()}
        hours = _hours(table) if table is not None else {}
        calls = []
        for record in records:
            settlement = settled.get(record.id)
            suggested = None
            if settlement is None and not record.byok:
                hour = record.started_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
                key = (record.provider, upstream.get(record.model_id, record.model_id), hour)
                found = hours.get(key)
                if found is not None:
                    recorded, reported, count = found
                    suggested = suggested_actual(reported, recorded, record.usage, count)
            calls.append(
                EstimatedCall(record, names.get(record.client_id, ""), settlement, suggested)
            )
        return calls


_HourKey = tuple[str, str, datetime]


def _hours(
    table: ReconciliationTable,
) -> dict[_HourKey, tuple[TokenUsage, TokenUsage | None, int]]:
    """Per provider, upstream model and UTC hour with estimated calls: what Bizgraph recorded,
    what the provider reported, and how many estimated calls it holds."""
    found = {}
    for row in table.rows:
        for hour in row.estimated:
            if hour.recorded.tokens is None:
                continue
            reported = hour.reported.tokens if hour.reported is not None else None
            key = (row.provider, row.model, hour.hour)
            found[key] = (hour.recorded.tokens, reported, hour.estimated_requests)
    return found


async def _price(uow: InvoicingUnitOfWork, record: UsageRecord) -> PriceVersion:
    history = await uow.catalog.prices(record.model_id)
    for version in history.versions:
        if version.id == record.price_version_id:
            return version
    raise NotFound(f"the price version {record.price_version_id} of this call is gone")


async def _plan(uow: InvoicingUnitOfWork, record: UsageRecord) -> PlanVersion | None:
    if record.plan_version_id is None:
        return None
    for version in await uow.plans.history(record.client_id):
        if version.id == record.plan_version_id:
            return version
    raise NotFound(f"the plan version {record.plan_version_id} of this call is gone")


async def _apply(uow: InvoicingUnitOfWork, settlement: EstimateSettlement) -> EstimateSettlement:
    """Moves the client's money as the outcome says; the settlement with what it made."""
    text = describe(settlement)
    outcome = settlement.outcome
    if outcome is SettlementOutcome.CREDITED:
        back = -settlement.amount
        credit = AccountCredit(
            new_id(), settlement.client_id, back, text, settlement.settled_at, back
        )
        await uow.invoices.grant_credit(credit)
        return _with(settlement, credit.id)
    if outcome in (SettlementOutcome.WALLET_CREDITED, SettlementOutcome.WALLET_DRAWN):
        entry = WalletEntry(
            id=new_id(),
            client_id=settlement.client_id,
            kind=EntryKind.ADJUSTMENT,
            amount=-settlement.amount,  # credits positive: an over-estimate goes back
            reference=f"settlement:{settlement.record.id}",
            occurred_at=settlement.settled_at,
            source=f"operator:{settlement.actor}"[:40],
            note=text[:MAX_NOTE],
        )
        if not await uow.wallets.post(entry):
            raise Conflict("this call is settled already")
        return _with(settlement, entry.reference)
    return settlement  # unchanged, absorbed, or billed by the next invoice


def _with(settlement: EstimateSettlement, reference: str) -> EstimateSettlement:
    return replace(settlement, reference=reference)
