"""Anthropic's usage and cost reports (an Admin API key, ANTHROPIC_ADMIN_KEY).

- `GET /v1/organizations/usage_report/messages`: buckets (`starting_at` / `ending_at`, RFC 3339)
  of `bucket_width` 1d (or 1h), `group_by[]` model and api_key_id; each result has
  `uncached_input_tokens`, `cache_read_input_tokens`, `cache_creation` (5 minute and 1 hour
  ephemeral writes) and `output_tokens`. It reports no request count (shown as unknown).
- `GET /v1/organizations/cost_report`: daily buckets, `group_by[]` description (which adds the
  `model` and `token_type` of each row); `amount` is a decimal string in the lowest currency
  unit (cents for USD), so "123.45" is 1.2345 USD.

Both page with `limit` / `page` (the previous answer's `next_page`) while `has_more`; requests
carry `x-api-key` and `anthropic-version: 2023-06-01`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from adapters.reconciliation._http import Params, ReportUnavailable, client, day_of, integer, pages
from domain.billing.money import EXACT
from domain.metering.tokens import TokenUsage
from domain.reconciliation import ProviderFigures
from domain.usecases.reconciliation import ProviderUsageReports, utc_day_start

ANTHROPIC_ADMIN_BASE = "https://api.anthropic.com"
USAGE_PATH = "/v1/organizations/usage_report/messages"
COST_PATH = "/v1/organizations/cost_report"
API_VERSION = "2023-06-01"
DAY_LIMIT = 31
HOUR_LIMIT = 24
CENTS = Decimal(100)


def _rfc3339(day: date) -> str:
    return utc_day_start(day).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(value: object) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ReportUnavailable(f"anthropic: not an RFC 3339 time: {value!r}") from exc


class AnthropicUsageReports(ProviderUsageReports):
    def __init__(
        self,
        admin_key: str,
        base_url: str = ANTHROPIC_ADMIN_BASE,
        *,
        provider: str = "anthropic",
        timeout: float = 60.0,
    ) -> None:
        self.provider = provider
        headers = {"x-api-key": admin_key, "anthropic-version": API_VERSION}
        self._http = client(base_url, headers, timeout)

    async def daily(self, start: date, end: date) -> list[ProviderFigures]:
        return [
            *await self._usage(start, end, "1d", DAY_LIMIT),
            *await self._costs(start, end),
        ]

    async def hourly(self, day: date) -> list[ProviderFigures]:
        return await self._usage(day, day + timedelta(days=1), "1h", HOUR_LIMIT)

    async def _usage(self, start: date, end: date, width: str, limit: int) -> list[ProviderFigures]:
        params: Params = [
            ("starting_at", _rfc3339(start)),
            ("ending_at", _rfc3339(end)),
            ("bucket_width", width),
            ("group_by[]", "model"),
            ("group_by[]", "api_key_id"),
            ("limit", limit),
        ]
        rows = []
        async for page in pages(self._http, self.provider, USAGE_PATH, params):
            for bucket in page["data"]:
                began = _instant(bucket.get("starting_at"))
                for result in bucket.get("results") or []:
                    creation = result.get("cache_creation") or {}
                    written = integer(creation.get("ephemeral_5m_input_tokens")) + integer(
                        creation.get("ephemeral_1h_input_tokens")
                    )
                    read = integer(result.get("cache_read_input_tokens"))
                    uncached = integer(result.get("uncached_input_tokens"))
                    rows.append(
                        ProviderFigures(
                            day=day_of(began),
                            hour=began if width == "1h" else None,
                            provider=self.provider,
                            model=str(result.get("model") or ""),
                            tokens=TokenUsage(
                                input_tokens=uncached + read + written,
                                cached_input_tokens=read,
                                cache_write_tokens=written,
                                output_tokens=integer(result.get("output_tokens")),
                            ),
                            api_key_id=result.get("api_key_id"),
                            project_id=result.get("workspace_id"),
                        )
                    )
        return rows

    async def _costs(self, start: date, end: date) -> list[ProviderFigures]:
        params: Params = [
            ("starting_at", _rfc3339(start)),
            ("ending_at", _rfc3339(end)),
            ("bucket_width", "1d"),
            ("group_by[]", "description"),
            ("limit", DAY_LIMIT),
        ]
        totals: dict[tuple[date, str, str], Decimal] = {}
        async for page in pages(self._http, self.provider, COST_PATH, params):
            for bucket in page["data"]:
                day = day_of(_instant(bucket.get("starting_at")))
                for result in bucket.get("results") or []:
                    try:
                        cents = Decimal(str(result.get("amount")))
                    except InvalidOperation as exc:
                        raise ReportUnavailable("anthropic cost_report: not an amount") from exc
                    if not cents.is_finite():
                        raise ReportUnavailable("anthropic cost_report: not an amount")
                    model = str(result.get("model") or result.get("description") or "")
                    currency = str(result.get("currency") or "USD").upper()
                    key = (day, model, currency)
                    totals[key] = EXACT.add(totals.get(key, Decimal(0)), EXACT.divide(cents, CENTS))
        return [
            ProviderFigures(day=day, provider=self.provider, model=model, currency=cur, cost=cost)
            for (day, model, cur), cost in sorted(totals.items())
        ]

    async def aclose(self) -> None:
        await self._http.aclose()
