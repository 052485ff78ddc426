"""Usage records and their totals (`ports.UsageRepository`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from domain.billing.money import sum_money
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageGrouping, UsageRecord, UsageTotals
from tests.fakes.store import Repository


class FakeUsageRepository(Repository):
    async def add(self, record: UsageRecord) -> bool:
        key = (record.request_id, record.attempt)
        if key in self._data.usage:
            return False
        # The client must exist, as in SQL; the key is not checked here (SQL checks it too):
        # the report use cases' unit tests write records of keys they never create.
        self._require("client", record.client_id in self._data.clients, record.client_id)
        self._data.usage[key] = record
        return True

    async def for_request(self, request_id: str) -> Sequence[UsageRecord]:
        records = [r for r in self._data.usage.values() if r.request_id == request_id]
        return sorted(records, key=lambda r: r.attempt)

    async def for_client(
        self, client_id: str, start: datetime, end: datetime
    ) -> Sequence[UsageRecord]:
        records = [
            r
            for r in self._data.usage.values()
            if r.client_id == client_id and start <= r.started_at < end
        ]
        return sorted(records, key=lambda r: r.started_at)

    async def estimated(
        self, client_id: str, start: datetime, end: datetime, limit: int
    ) -> Sequence[UsageRecord]:
        found = [r for r in await self.for_client(client_id, start, end) if r.source == "estimated"]
        return sorted(found, key=lambda r: r.started_at, reverse=True)[:limit]

    async def totals(
        self,
        start: datetime,
        end: datetime,
        grouping: UsageGrouping,
        client_ids: Sequence[str] | None = None,
    ) -> Sequence[UsageTotals]:
        groups: dict[tuple[str, str, str, str, str], list[UsageRecord]] = {}
        for r in self._data.usage.values():
            if not start <= r.started_at < end:
                continue
            if client_ids is not None and r.client_id not in client_ids:
                continue
            extra = ""
            if grouping is UsageGrouping.ALIAS and r.alias is None:
                continue
            if grouping in (UsageGrouping.MODEL, UsageGrouping.ALIAS):
                extra = r.model_id
            elif grouping in (UsageGrouping.HOUR, UsageGrouping.HOUR_ALL):
                extra = _utc_hour(r.started_at).isoformat()
            client = "" if grouping is UsageGrouping.HOUR_ALL else r.client_id
            alias = r.alias if grouping is UsageGrouping.ALIAS and r.alias else ""
            key = (client, alias, extra, r.cost.currency, r.charge.currency)  # SQL's order
            groups.setdefault(key, []).append(r)
        totals = []
        for (client_id, alias, extra, cost_currency, charge_currency), records in sorted(
            groups.items()
        ):
            tokens = TokenUsage()
            for r in records:
                tokens = tokens + r.usage
            totals.append(
                UsageTotals(
                    client_id=client_id,
                    requests=len(records),
                    tokens=tokens,
                    cost=sum_money([r.cost for r in records], cost_currency),
                    charge=sum_money([r.charge for r in records], charge_currency),
                    model_id=extra
                    if grouping in (UsageGrouping.MODEL, UsageGrouping.ALIAS)
                    else None,
                    hour=datetime.fromisoformat(extra)
                    if extra and grouping in (UsageGrouping.HOUR, UsageGrouping.HOUR_ALL)
                    else None,
                    alias=alias or None,
                )
            )
        return totals


def _utc_hour(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
