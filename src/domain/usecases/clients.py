"""Use cases for clients and their pricing plans."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.billing.clients import Client, ClientStatus
from domain.billing.exchange import Conversions
from domain.billing.periods import month_period, period_containing
from domain.billing.plans import PlanTimeline, PlanVersion, PricingPlan
from domain.errors import NotFound, ValidationError
from domain.ids import new_id
from domain.invoicing.conversion import converted_draft
from domain.invoicing.drafts import PeriodDraft
from domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from domain.timeutil import require_aware


@dataclass(frozen=True, slots=True)
class NewClient:
    name: str
    plan: PricingPlan
    currency: str = "USD"
    billing_email: str | None = None
    tax_rate: Decimal = Decimal(0)
    plan_effective_from: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClientChanges:
    """The billing details to change; None leaves a field as it is (clear_billing_email
    removes the address)."""

    name: str | None = None
    billing_email: str | None = None
    tax_rate: Decimal | None = None
    clear_billing_email: bool = False


class ClientUseCases:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        zone: ZoneInfo | None = None,
        currencies: Collection[str] | None = None,
        in_closed_period: Callable[[datetime], Awaitable[bool]] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._zone = zone or ZoneInfo("UTC")  # the agency's time zone: billing months
        self._currencies = currencies  # the billing currencies accepted (None: any)
        # Whether an instant lies in (or before) a closed billing period (invoicing).
        self._in_closed_period = in_closed_period

    async def create(self, new: NewClient) -> tuple[Client, PlanVersion]:
        """A client and its first plan, effective from creation unless an earlier instant is
        given (e.g. the 1st, to bill a full month)."""
        now = self._clock.now()
        check_currency(new.currency, self._currencies, "a client")
        client = Client(
            id=new_id(),
            name=new.name.strip(),
            created_at=now,
            currency=new.currency,
            billing_email=new.billing_email,
            tax_rate=new.tax_rate,
        )
        effective = new.plan_effective_from or now
        if require_aware(effective, "plan_effective_from") > now:
            raise ValidationError("the first plan must be in force from creation or earlier")
        _check_plan_currency(client, new.plan)
        version = PlanVersion(new_id(), client.id, new.plan, effective, now)
        async with self._uow() as uow:
            await uow.clients.add(client)
            await uow.plans.add(version)
            await uow.commit()
        return client, version

    async def get(self, client_id: str) -> Client:
        async with self._uow() as uow:
            return await _client(uow, client_id)

    async def list(self) -> Sequence[Client]:
        async with self._uow() as uow:
            return await uow.clients.list()

    async def set_plan(
        self, client_id: str, plan: PricingPlan, effective_from: datetime | None = None
    ) -> PlanVersion:
        """A new plan version; a past instant is inserted into the timeline, later versions
        stay in force from their own instants."""
        now = self._clock.now()
        effective = require_aware(effective_from or now, "effective_from")
        if self._in_closed_period is not None and await self._in_closed_period(effective):
            raise ValidationError("a plan version cannot start inside a closed billing period")
        async with self._uow() as uow:
            client = await _client(uow, client_id)
            _check_plan_currency(client, plan)
            version = PlanVersion(new_id(), client.id, plan, effective, now)
            await uow.plans.add(version)
            await uow.commit()
        return version

    async def plan_history(self, client_id: str) -> Sequence[PlanVersion]:
        async with self._uow() as uow:
            await _client(uow, client_id)
            return await uow.plans.history(client_id)

    async def update(self, client_id: str, changes: ClientChanges) -> Client:
        """Change name, billing email or tax rate (validated like a new client)."""
        async with self._uow() as uow:
            client = await _client(uow, client_id)
            email = None if changes.clear_billing_email else client.billing_email
            client = replace(
                client,
                name=client.name if changes.name is None else changes.name.strip(),
                billing_email=changes.billing_email or email,
                tax_rate=client.tax_rate if changes.tax_rate is None else changes.tax_rate,
            )
            await uow.clients.update(client)
            await uow.commit()
        return client

    async def plan_histories(
        self, client_ids: Sequence[str]
    ) -> Mapping[str, Sequence[PlanVersion]]:
        """The plan histories of several clients in one read (unknown ids map to nothing)."""
        async with self._uow() as uow:
            return await uow.plans.histories(client_ids)

    async def set_status(self, client_id: str, status: ClientStatus) -> Client:
        async with self._uow() as uow:
            client = (await _client(uow, client_id)).with_status(status)
            await uow.clients.update(client)
            await uow.commit()
        return client

    async def draft(self, client_id: str, period_label: str | None = None) -> PeriodDraft:
        """What the client owes for a month so far (default: the current one)."""
        period = (
            month_period(period_label, self._zone)
            if period_label
            else period_containing(self._clock.now(), self._zone)
        )
        async with self._uow() as uow:
            client = await _client(uow, client_id)
            records = await uow.usage.for_client(client.id, period.start, period.end)
            timeline = PlanTimeline(await uow.plans.history(client.id))
            # usage priced in another currency converts per call (docs/currencies.md)
            conversions = Conversions(await uow.rates.book(), client.currency)
        return converted_draft(period, timeline, records, conversions, self._zone)


def check_currency(currency: str, accepted: Collection[str] | None, what: str) -> None:
    """A deployment may limit the currencies it takes (None: any; usage in another currency
    than the client's converts at dated exchange rates, docs/currencies.md)."""
    if accepted is not None and currency not in accepted:
        raise ValidationError(
            f"{what} in {currency}: this gateway bills in {', '.join(sorted(accepted))} only"
        )


async def _client(uow: UnitOfWork, client_id: str) -> Client:
    client = await uow.clients.get(client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    return client


def _check_plan_currency(client: Client, plan: PricingPlan) -> None:
    fixed = plan.monthly_amount
    if fixed is not None and fixed.currency != client.currency:
        raise ValidationError(
            f"the plan's amount is in {fixed.currency} but the client is billed in "
            f"{client.currency}"
        )
