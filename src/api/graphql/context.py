"""The typed per-request context: who is calling, what they may use, fresh DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import strawberry
from strawberry.dataloader import DataLoader

from domain.access.keys import ApiKey
from domain.access.principals import Principal
from domain.billing.plans import PlanVersion
from domain.budgets.limits import BudgetStatus
from domain.errors import NotFound
from domain.invoicing.drafts import PeriodDraft
from domain.usecases.management import Management

DraftKey = tuple[str, str | None]  # (client id, period label or None for the current month)


def _draft_loader(management: Management) -> DataLoader[DraftKey, PeriodDraft]:
    async def load(keys: list[DraftKey]) -> Sequence[PeriodDraft | BaseException]:
        found: dict[DraftKey, PeriodDraft | BaseException] = {}
        for period in {period for _, period in keys}:
            ids = [client_id for client_id, p in keys if p == period]
            overview = await management.overview_of(ids, period)
            found.update({(row.client.id, period): row.draft for row in overview.rows})
            # an unpriced client's figures are its missing rate, never a partial draft
            found.update({(u.client.id, period): u.missing for u in overview.unpriced})
        return [found.get(key) or NotFound(f"no client {key[0]}") for key in keys]

    return DataLoader(load_fn=load)


def _plans_loader(management: Management) -> DataLoader[str, Sequence[PlanVersion]]:
    async def load(client_ids: list[str]) -> Sequence[Sequence[PlanVersion]]:
        histories = await management.plan_histories(client_ids)
        return [histories.get(client_id, ()) for client_id in client_ids]

    return DataLoader(load_fn=load)


def _keys_loader(management: Management) -> DataLoader[str, Sequence[ApiKey]]:
    async def load(client_ids: list[str]) -> Sequence[Sequence[ApiKey] | BaseException]:
        found = await management.api_keys_of(client_ids)
        return [found.get(c, NotFound(f"no client {c}")) for c in client_ids]

    return DataLoader(load_fn=load)


BudgetKey = tuple[str, str | None]  # (client id, key id or None for the client's own)


def _budgets_loader(management: Management) -> DataLoader[BudgetKey, BudgetStatus | None]:
    async def load(keys: list[BudgetKey]) -> Sequence[BudgetStatus | None]:
        found = await management.budgets_of(keys)
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


@dataclass
class Loaders:
    drafts: DataLoader[DraftKey, PeriodDraft]
    plans: DataLoader[str, Sequence[PlanVersion]]
    keys: DataLoader[str, Sequence[ApiKey]]
    budgets: DataLoader[BudgetKey, BudgetStatus | None]


@dataclass
class Context:
    principal: Principal
    management: Management
    now: datetime
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(
            drafts=_draft_loader(self.management),
            plans=_plans_loader(self.management),
            keys=_keys_loader(self.management),
            budgets=_budgets_loader(self.management),
        )


Info = strawberry.Info[Context, None]
