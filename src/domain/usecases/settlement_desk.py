"""Settling estimated calls as one principal may: staff read the estimated calls (they show
provider cost), owners and admins settle them; a portal token does neither. The settlement
names who made it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.access.principals import NotAllowed, Principal
from domain.errors import NotFound
from domain.metering.estimate_settlements import EstimateSettlement
from domain.metering.tokens import TokenUsage
from domain.usecases.estimate_settlements import EstimatedCall, EstimateSettlements
from domain.usecases.reconciliation import Reconciliation


class SettlementDesk:
    def __init__(
        self,
        principal: Principal,
        settlements: EstimateSettlements | None,
        reconciliation: Reconciliation | None,
    ) -> None:
        self._principal = principal
        self._settlements = settlements
        self._reconciliation = reconciliation

    def _cases(self) -> EstimateSettlements:
        if self._principal.client_id is not None or not self._principal.can_read_costs:
            raise NotAllowed("estimated calls are for staff only")
        if self._settlements is None:
            raise NotFound("settling estimates is not available here")
        return self._settlements

    async def estimated_calls(
        self, start: date, end: date, providers: Sequence[str] | None, limit: int
    ) -> list[EstimatedCall]:
        """The estimated calls of UTC days [start, end), with what the provider's stored hourly
        figures imply each used where that can be told."""
        cases = self._cases()
        table = None
        if self._reconciliation is not None:
            table = await self._reconciliation.table(start, end, providers)
        return await cases.estimated_calls(start, end, providers, table, limit)

    async def settle(
        self, record_id: str, actual: TokenUsage, reason: str, bill_shortfall: bool
    ) -> EstimateSettlement:
        cases = self._cases()
        if not self._principal.can_mutate:
            raise NotAllowed("this token may not change anything")
        return await cases.settle(record_id, actual, reason, self._principal.name, bill_shortfall)
