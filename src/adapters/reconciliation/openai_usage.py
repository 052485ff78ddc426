"""OpenAI's organization usage and costs (an admin key, OPENAI_ADMIN_KEY).

- `GET /v1/organization/usage/completions`: buckets of `bucket_width` (1d, or 1h for a day with
  crash-estimated calls), grouped by model, project and API key: `num_model_requests`,
  `input_tokens` (cached included), `input_cached_tokens`, `output_tokens`.
- `GET /v1/organization/costs`: daily buckets grouped by project and line item, each an
  `amount` {value, currency}; a line item of a model reads "<model>, <token class>", so its cost
  goes to that model (other line items, e.g. storage or tools, stay under their own name).

Both page with `limit` / `page` (the previous answer's `next_page`) while `has_more`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from adapters.reconciliation._http import Params, ReportUnavailable, client, integer, pages
from domain.billing.money import EXACT
from domain.metering.tokens import TokenUsage
from domain.reconciliation import ProviderFigures
from domain.usecases.reconciliation import ProviderUsageReports, utc_day_start

OPENAI_ADMIN_BASE = "https://api.openai.com"
USAGE_PATH = "/v1/organization/usage/completions"
COSTS_PATH = "/v1/organization/costs"
DAY_LIMIT = 31  # the most daily buckets one page may hold
HOUR_LIMIT = 24


def _unix(instant: datetime) -> int:
    return int(instant.timestamp())


def line_item_model(line_item: str | None) -> str:
    """ "gpt-4o-2024-08-06, input" -> "gpt-4o-2024-08-06"; other line items stay whole."""
    if not line_item:
        return ""
    model, sep, _ = line_item.rpartition(", ")
    return model if sep else line_item


class OpenAIUsageReports(ProviderUsageReports):
    def __init__(
        self,
        admin_key: str,
        base_url: str = OPENAI_ADMIN_BASE,
        *,
        provider: str = "openai",
        timeout: float = 60.0,
    ) -> None:
        self.provider = provider
        self._http = client(base_url, {"Authorization": f"Bearer {admin_key}"}, timeout)

    async def daily(self, start: date, end: date) -> list[ProviderFigures]:
        return [
            *await self._usage(start, end, "1d", DAY_LIMIT),
            *await self._costs(start, end),
        ]

    async def hourly(self, day: date) -> list[ProviderFigures]:
        return await self._usage(day, day + timedelta(days=1), "1h", HOUR_LIMIT)

    async def _usage(self, start: date, end: date, width: str, limit: int) -> list[ProviderFigures]:
        params: Params = [
            ("start_time", _unix(utc_day_start(start))),
            ("end_time", _unix(utc_day_start(end))),
            ("bucket_width", width),
            ("group_by", "model"),
            ("group_by", "project_id"),
            ("group_by", "api_key_id"),
            ("limit", limit),
        ]
        rows = []
        async for page in pages(self._http, self.provider, USAGE_PATH, params):
            for bucket in page["data"]:
                began = datetime.fromtimestamp(integer(bucket.get("start_time")), UTC)
                for result in bucket.get("results") or []:
                    input_tokens = integer(result.get("input_tokens"))
                    rows.append(
                        ProviderFigures(
                            day=began.date(),
                            hour=began if width == "1h" else None,
                            provider=self.provider,
                            model=str(result.get("model") or ""),
                            requests=integer(result.get("num_model_requests")),
                            tokens=TokenUsage(
                                input_tokens=input_tokens,
                                cached_input_tokens=min(
                                    integer(result.get("input_cached_tokens")), input_tokens
                                ),
                                output_tokens=integer(result.get("output_tokens")),
                            ),
                            api_key_id=result.get("api_key_id"),
                            project_id=result.get("project_id"),
                        )
                    )
        return rows

    async def _costs(self, start: date, end: date) -> list[ProviderFigures]:
        params: Params = [
            ("start_time", _unix(utc_day_start(start))),
            ("end_time", _unix(utc_day_start(end))),
            ("bucket_width", "1d"),
            ("group_by", "project_id"),
            ("group_by", "line_item"),
            ("limit", DAY_LIMIT),
        ]
        totals: dict[tuple[date, str, str | None, str], Decimal] = {}
        async for page in pages(self._http, self.provider, COSTS_PATH, params):
            for bucket in page["data"]:
                day = datetime.fromtimestamp(integer(bucket.get("start_time")), UTC).date()
                for result in bucket.get("results") or []:
                    amount = result.get("amount") or {}
                    value = amount.get("value")
                    if not isinstance(value, Decimal | int):
                        raise ReportUnavailable(f"openai costs: not an amount: {value!r}")
                    currency = str(amount.get("currency") or "usd").upper()
                    key = (
                        day,
                        line_item_model(result.get("line_item")),
                        result.get("project_id"),
                        currency,
                    )
                    totals[key] = EXACT.add(totals.get(key, Decimal(0)), Decimal(value))
        return [
            ProviderFigures(
                day=day,
                provider=self.provider,
                model=model,
                currency=currency,
                cost=cost,
                project_id=project,
            )
            for (day, model, project, currency), cost in sorted(
                totals.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
            )
        ]

    async def aclose(self) -> None:
        await self._http.aclose()
