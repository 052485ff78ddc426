"""The periodic spike evaluator: every client's last hour against its trailing average."""

from __future__ import annotations

from domain.alerting.spikes import SpikeRule, spike_alert
from domain.billing.money import Money
from domain.billing.plans import FixedPrice, PlanTimeline
from domain.metering.usage import UsageGrouping, UsageTotals
from domain.ports import Clock, UnitOfWorkFactory


class SpikeEvaluator:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, rule: SpikeRule) -> None:
        self._uow = uow
        self._clock = clock
        self.rule = rule

    async def evaluate(self) -> int:
        """Raise a spend-spike alert for every client spiking now (at most one per client
        per UTC hour, in any process); the number raised."""
        now = self._clock.now()
        (hour_start, hour_end), (base_start, base_end) = self.rule.windows(now)
        raised = 0
        async with self._uow() as uow:
            recent = await uow.usage.totals(hour_start, hour_end, UsageGrouping.CLIENT)
            if not recent:
                return 0
            ids = sorted({row.client_id for row in recent})
            baseline = await uow.usage.totals(base_start, base_end, UsageGrouping.CLIENT, ids)
            histories = await uow.plans.histories(ids)
            clients = {c.id: c for c in await uow.clients.list() if c.id in ids}
            before = {(row.client_id, row.cost.currency): row for row in baseline}
            for row in recent:
                plan = PlanTimeline(histories.get(row.client_id, ())).in_force_at(now)
                by_cost = plan is not None and isinstance(plan.plan, FixedPrice)
                spent = _spend(row, by_cost)
                earlier = before.get((row.client_id, row.cost.currency))
                total = Money.zero(spent.currency) if earlier is None else _spend(earlier, by_cost)
                if not self.rule.is_spike(spent.amount, total.amount):
                    continue
                client = clients.get(row.client_id)
                alert = spike_alert(
                    self.rule,
                    row.client_id,
                    client.name if client else row.client_id,
                    "cost" if by_cost else "charge",
                    spent,
                    total,
                    now,
                )
                raised += await uow.alerts.raise_once(alert)
            await uow.commit()
        return raised


def _spend(row: UsageTotals, by_cost: bool) -> Money:
    return row.cost if by_cost else row.charge
