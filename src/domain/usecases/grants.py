"""What a call is granted and what it settles into: the priced model, the grant fixed when the
call started (price, plan, budgets), its attempts, and the usage record, ledger entry, budget
spends and threshold alerts an attempt makes. Pure, apart from reading a journaled call's grant
back for recovery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.access.keys import ApiKey
from domain.alerting.alerts import Alert
from domain.alerting.budget_alerts import owner_of, threshold_alert
from domain.billing.clients import Client
from domain.billing.money import Money, exact_sum
from domain.billing.periods import Period
from domain.billing.plans import PlanTimeline, PlanVersion
from domain.budgets.conversion import BudgetRates, needs_rates
from domain.budgets.limits import (
    WALLET_PERIOD,
    Budget,
    CounterMove,
    Refusal,
    Spend,
    budget_scope,
    wallet_scope,
)
from domain.byok.billing import byok_amounts
from domain.byok.credentials import BudgetBasis, ClientByok
from domain.catalog.aliases import resolve
from domain.catalog.models import Model, PriceVersion
from domain.errors import (
    UnknownModel,
)
from domain.ids import new_id
from domain.invoicing.ledger import EntryKind, LedgerEntry
from domain.metering.journal import JournalEntry
from domain.metering.tokens import TokenUsage
from domain.metering.usage import CallStatus, UsageRecord, UsageSource
from domain.ports import UnitOfWorkFactory
from domain.runtime_ports import Snapshot, Snapshots
from domain.tracing import NO_SPAN, Span


@dataclass(frozen=True, slots=True)
class PricedModel:
    model: Model
    price: PriceVersion


@dataclass(frozen=True, slots=True)
class CallGrant:
    """Everything a call needs, fixed when it started: the price and plan in force then."""

    request_id: str
    client: Client
    key: ApiKey
    target: PricedModel
    plan: PlanVersion | None
    started_at: datetime
    snapshot: Snapshot = field(repr=False, compare=False)  # what authorization read
    budgets: tuple[Budget, ...] = ()  # the client's, then the key's, in force at the start
    trace: Span = field(default=NO_SPAN, repr=False, compare=False)  # the call's span
    alias: str | None = None  # the alias the client called (domain/catalog/aliases.py), if any
    byok: ClientByok | None = field(default=None, repr=False)  # the client's own keys (byok.md)
    # Budgets in another currency than the price's: their rates (docs/currencies.md); None
    # when every budget is in the price's currency (no conversion at all).
    fx: BudgetRates | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One provider attempt of a call (fallbacks make several)."""

    number: int
    target: PricedModel
    usage: TokenUsage
    source: UsageSource
    status: CallStatus
    latency_ms: int
    credential_id: str | None = None  # made with the client's own key (docs/byok.md)


def budgets_of(stored: Mapping[str, Budget], client_id: str, key_id: str) -> tuple[Budget, ...]:
    """The client's budget, then the key's: always in this order, so transactions lock the
    counters in one order and cannot deadlock each other."""
    found = (
        stored.get(budget_scope(client_id, None)),
        stored.get(budget_scope(client_id, key_id)),
        stored.get(wallet_scope(client_id)),  # a prepaid client's wallet, last
    )
    return tuple(budget for budget in found if budget is not None)


def refusal_message(refusal: Refusal) -> str:
    budget = refusal.hold.budget
    if budget.wallet:
        available = exact_sum(refusal.spent, refusal.reserved).copy_negate()
        return (
            f"This client's prepaid balance ({max(available, Decimal(0))} "
            f"{budget.limit.currency} available) cannot cover what this call could cost; "
            "top up the wallet."
        )
    whose = "this key's" if budget.key_id else "this client's"
    return (
        f"You exceeded {whose} budget of {budget.limit} for {refusal.hold.period.label}: "
        "this call could cost more than what remains."
    )


async def resolve_model(
    snapshot: Snapshot, requested: str, client_id: str, default_provider: str | None
) -> tuple[Model, str | None]:
    """The catalog model a call names and the alias it went through: from the cached
    configuration (no query in the steady state)."""
    model = await snapshot.model(requested)
    if model is not None:
        return model, None
    ids = [m.id for m in await snapshot.models()]
    found = resolve(requested, client_id, ids, await snapshot.aliases(), default_provider)
    model = await snapshot.model(found.model_id) if found else None
    if found is None or model is None:
        raise UnknownModel(f"the model {requested!r} does not exist")
    return model, found.alias


def ledger_entry(record: UsageRecord) -> LedgerEntry:
    return LedgerEntry(
        id=new_id(),
        client_id=record.client_id,
        kind=EntryKind.USAGE_CHARGE,
        amount=record.charge,
        occurred_at=record.started_at,
        reference=f"{record.request_id}#{record.attempt}",
        description=f"{record.model_id} ({record.status})",
    )


def budget_owner(grant: CallGrant, budget: Budget) -> str:
    key_name = (grant.key.name or grant.key.prefix) if budget.key_id is not None else None
    return owner_of(grant.client.name, key_name)


def usage_record(grant: CallGrant, attempt: Attempt) -> UsageRecord:
    """The usage record an attempt settles into: its cost at the attempt's price, its charge
    under the plan in force when the call started. An attempt made with the client's own key
    costs the agency nothing: its list cost is recorded apart and its charge is the client's
    BYOK fee (domain/byok/billing.py)."""
    list_cost: Money | None = None
    if attempt.credential_id is not None and grant.byok is not None:
        succeeded = attempt.status is CallStatus.SUCCEEDED
        amounts = byok_amounts(grant.byok.settings, attempt.target.price, attempt.usage, succeeded)
        cost, charge, list_cost = amounts.cost, amounts.charge, amounts.list_cost
    else:
        cost = attempt.target.price.cost(attempt.usage)
        charge = grant.plan.plan.charge(cost) if grant.plan is not None else cost
    return UsageRecord(
        id=new_id(),
        request_id=grant.request_id,
        attempt=attempt.number,
        client_id=grant.client.id,
        api_key_id=grant.key.id,
        model_id=attempt.target.model.id,
        provider=attempt.target.model.provider,
        usage=attempt.usage,
        cost=cost,
        charge=charge,
        price_version_id=attempt.target.price.id,
        plan_version_id=grant.plan.id if grant.plan is not None else None,
        started_at=grant.started_at,
        latency_ms=attempt.latency_ms,
        status=attempt.status,
        source=attempt.source,
        alias=grant.alias,
        byok=list_cost is not None,
        list_cost=list_cost,
    )


def measured(grant: CallGrant, budget: Budget, record: UsageRecord) -> Decimal:
    """What a budget counts of one record: in its basis, or for a BYOK record in the client's
    BYOK budget basis (the fee or the list cost)."""
    # a wallet counts the charge (what it is drawn), so only other budgets take the BYOK basis
    if (
        record.byok
        and record.list_cost is not None
        and grant.byok is not None
        and not budget.wallet
    ):
        basis = grant.byok.settings.budget_basis
        amount = (record.list_cost if basis is BudgetBasis.LIST_COST else record.charge).amount
    else:
        amount = budget.measure(record.cost, record.charge, grant.plan)
    if grant.fx is None:
        return amount
    return grant.fx.convert(amount, record.charge.currency, budget.limit.currency)


def spends(grant: CallGrant, period_start: datetime, added: Sequence[UsageRecord]) -> list[Spend]:
    """What the records added to each of the call's budgets, in its basis."""
    return [
        Spend(
            budget.scope,
            WALLET_PERIOD.start if budget.wallet else period_start,
            exact_sum(*(measured(grant, budget, r) for r in added)),
            grant.request_id,
            grant.started_at,
            budget.limit.currency,
        )
        for budget in grant.budgets
    ]


def threshold_alerts(
    grant: CallGrant, period: Period, now: datetime, moves: Sequence[CounterMove]
) -> list[Alert]:
    """The threshold alerts of the call's budgets whose counters crossed one."""
    by_scope = {budget.scope: budget for budget in grant.budgets}
    alerts = []
    for move in moves:
        budget = by_scope[move.scope]
        basis = budget.basis_under(grant.plan)
        for percent in budget.crossed(move.spent_before, move.spent_after):
            alerts.append(
                threshold_alert(
                    budget,
                    period,
                    basis,
                    percent,
                    move.spent_after,
                    now,
                    budget_owner(grant, budget),
                )
            )
    return alerts


async def grant_for_entry(
    reads: UnitOfWorkFactory, lookups: Snapshots, entry: JournalEntry, zone: ZoneInfo | None = None
) -> CallGrant | None:
    """The grant a journaled call had, read back for recovery (None: its client, key or model
    is gone)."""
    async with reads() as uow:
        client = await uow.clients.get(entry.client_id)
        key = await uow.keys.get(entry.api_key_id)
        model = await uow.catalog.get_model(entry.model_id)
        if client is None or key is None or model is None:
            return None
        price = (await uow.catalog.prices(model.id)).in_force_at(entry.started_at)
        plans = PlanTimeline(await uow.plans.history(client.id))
        stored = {budget.scope: budget for budget in await uow.budgets.all()}
        stored.update({wallet.scope: wallet for wallet in await uow.wallets.budgets()})
    plan = plans.in_force_at(entry.started_at)
    target = PricedModel(model, price)
    snapshot = lookups.uncached()
    budgets = budgets_of(stored, client.id, key.id)
    fx = None
    if needs_rates(budgets, price.currency):  # the call was made: a budget without a rate
        day = entry.started_at.astimezone(zone or ZoneInfo("UTC")).date()  # cannot count it
        fx = BudgetRates(await snapshot.rates(), day)
        budgets = tuple(
            b
            for b in budgets
            if b.limit.currency == price.currency
            or fx.book.find(price.currency, b.limit.currency, day) is not None
        )
    return CallGrant(
        entry.request_id,
        client,
        key,
        target,
        plan,
        entry.started_at,
        snapshot,
        budgets,
        alias=entry.alias,
        fx=fx,
    )


async def priced_fallback(grant: CallGrant, model_id: str) -> PricedModel | None:
    """A fallback model at its own price in force when the call started, if it exists."""
    model = await grant.snapshot.model(model_id)
    if model is None:
        return None
    price = (await grant.snapshot.prices(model.id)).in_force_at(grant.started_at)
    return PricedModel(model, price)
