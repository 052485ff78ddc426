"""Strict fakes of the providers' usage and cost reporting APIs (admin credentials), served for
real over loopback in tests, in the shapes their API references document:

OpenAI (`Authorization: Bearer <admin key>`):
- GET /v1/organization/usage/completions: `start_time` (Unix seconds, required), `end_time`,
  `bucket_width` 1m | 1h | 1d, `group_by` (repeated: project_id, user_id, api_key_id, model,
  batch, service_tier), `limit` (1d: 1..31, default 7; 1h: 1..168, default 24), `page`.
  A page: {"object": "page", "data": [bucket], "has_more", "next_page"}; a bucket:
  {"object": "bucket", "start_time", "end_time", "results": [...]}, each result an
  "organization.usage.completions.result" with input_tokens, input_cached_tokens,
  output_tokens, input_audio_tokens, output_audio_tokens, num_model_requests and the grouped
  fields (null when not grouped by them).
- GET /v1/organization/costs: `bucket_width` 1d only, `group_by` project_id | line_item,
  `limit` 1..180 (default 7); results "organization.costs.result" with
  amount {value (a JSON number), currency "usd"}, line_item ("<model>, input"), project_id.

Anthropic (`x-api-key: <admin key>`, `anthropic-version` required):
- GET /v1/organizations/usage_report/messages: `starting_at` (RFC 3339, required),
  `ending_at`, `bucket_width` 1m | 1h | 1d, `group_by[]` (api_key_id, workspace_id, model,
  service_tier, context_window), `limit` (1d: 1..31, default 7; 1h: 1..168, default 24),
  `page`. {"data": [{"starting_at", "ending_at", "results": [...]}], "has_more", "next_page"};
  a result: uncached_input_tokens, cache_creation {ephemeral_1h_input_tokens,
  ephemeral_5m_input_tokens}, cache_read_input_tokens, output_tokens, server_tool_use and the
  grouped fields (null otherwise).
- GET /v1/organizations/cost_report: `bucket_width` 1d, `group_by[]` workspace_id |
  description (which fills model, token_type, cost_type), `limit` 1..31 (default 7); `amount`
  a decimal string in cents.

Usage is scripted as `Spend` entries (an instant, a model, a key, tokens and cost per class);
every answered request is kept in `requests`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

JSON = dict[str, Any]
WIDTHS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
LIMITS = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}


@dataclass(frozen=True)
class Spend:
    at: datetime
    model: str
    requests: int = 1
    input_tokens: int = 0  # uncached input
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    input_cost: Decimal = Decimal(0)
    output_cost: Decimal = Decimal(0)
    api_key_id: str = "key_agency"
    project_id: str = "proj_default"


@dataclass
class ReportsFake:
    admin_key: str
    spend: list[Spend] = field(default_factory=list)
    requests: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)

    def add(self, entries: Iterable[Spend]) -> None:
        self.spend.extend(entries)


def _error(status: int, message: str, kind: str) -> Response:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


def _buckets(start: datetime, end: datetime, width: timedelta) -> list[tuple[datetime, datetime]]:
    found = []
    cursor = start
    while cursor < end:
        found.append((cursor, min(cursor + width, end)))
        cursor += width
    return found


def _paged(
    buckets: list[tuple[datetime, datetime]], limit: int, page: str | None
) -> tuple[list[tuple[datetime, datetime]], str | None]:
    offset = int(page.removeprefix("page_")) if page else 0
    chosen = buckets[offset : offset + limit]
    more = offset + limit < len(buckets)
    return chosen, f"page_{offset + limit}" if more else None


def _limit(raw: str | None, width: str, maximum: int | None = None) -> int:
    default, top = LIMITS[width]
    value = default if raw is None else int(raw)
    if not 1 <= value <= (maximum or top):
        raise ValueError(f"limit must be between 1 and {maximum or top}")
    return value


def _group(
    entries: list[Spend], fields: list[str], pick: Callable[[Spend, str], Any]
) -> dict[tuple[Any, ...], list[Spend]]:
    groups: dict[tuple[Any, ...], list[Spend]] = {}
    for entry in entries:
        groups.setdefault(tuple(pick(entry, f) for f in fields), []).append(entry)
    return groups


def _number(value: Decimal) -> float:
    # OpenAI sends amounts as JSON numbers; a float's repr is the shortest exact round trip.
    return float(value)


def openai_reports_app(fake: ReportsFake) -> Starlette:
    usage_fields = {"project_id", "user_id", "api_key_id", "model", "batch", "service_tier"}
    cost_fields = {"project_id", "line_item"}

    def query(request: Request) -> tuple[datetime, datetime, list[str]]:
        params = request.query_params
        if "start_time" not in params:
            raise ValueError("start_time is required")
        start = datetime.fromtimestamp(int(params["start_time"]), UTC)
        end_raw = params.get("end_time")
        end = datetime.fromtimestamp(int(end_raw), UTC) if end_raw else datetime.now(UTC)
        return start, end, params.getlist("group_by")

    def authorized(request: Request) -> Response | None:
        fake.requests.append((request.url.path, list(request.query_params.multi_items())))
        if request.headers.get("authorization") != f"Bearer {fake.admin_key}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error")
        return None

    async def usage(request: Request) -> Response:
        if (refused := authorized(request)) is not None:
            return refused
        try:
            start, end, groups = query(request)
            width = request.query_params.get("bucket_width", "1d")
            if width not in WIDTHS:
                raise ValueError("bucket_width must be 1m, 1h or 1d")
            if unknown := set(groups) - usage_fields:
                raise ValueError(f"invalid group_by: {sorted(unknown)}")
            limit = _limit(request.query_params.get("limit"), width)
        except ValueError as exc:
            return _error(400, str(exc), "invalid_request_error")
        buckets, next_page = _paged(
            _buckets(start, end, WIDTHS[width]), limit, request.query_params.get("page")
        )
        data = []
        for began, ended in buckets:
            inside = [s for s in fake.spend if began <= s.at < ended]
            results = []
            for key, entries in sorted(
                _group(inside, groups, lambda s, f: getattr(s, f, None)).items(),
                key=lambda item: str(item[0]),
            ):
                result: JSON = {
                    "object": "organization.usage.completions.result",
                    "input_tokens": sum(s.input_tokens + s.cached_tokens for s in entries),
                    "output_tokens": sum(s.output_tokens for s in entries),
                    "input_cached_tokens": sum(s.cached_tokens for s in entries),
                    "input_audio_tokens": 0,
                    "output_audio_tokens": 0,
                    "num_model_requests": sum(s.requests for s in entries),
                    "project_id": None,
                    "user_id": None,
                    "api_key_id": None,
                    "model": None,
                    "batch": None,
                    "service_tier": None,
                }
                result.update(dict(zip(groups, key, strict=True)))
                results.append(result)
            data.append(
                {
                    "object": "bucket",
                    "start_time": int(began.timestamp()),
                    "end_time": int(ended.timestamp()),
                    "results": results,
                }
            )
        return JSONResponse(
            {
                "object": "page",
                "data": data,
                "has_more": next_page is not None,
                "next_page": next_page,
            }
        )

    async def costs(request: Request) -> Response:
        if (refused := authorized(request)) is not None:
            return refused
        try:
            start, end, groups = query(request)
            if request.query_params.get("bucket_width", "1d") != "1d":
                raise ValueError("bucket_width must be 1d")
            if unknown := set(groups) - cost_fields:
                raise ValueError(f"invalid group_by: {sorted(unknown)}")
            limit = _limit(request.query_params.get("limit"), "1d", 180)
        except ValueError as exc:
            return _error(400, str(exc), "invalid_request_error")
        buckets, next_page = _paged(
            _buckets(start, end, WIDTHS["1d"]), limit, request.query_params.get("page")
        )
        data = []
        for began, ended in buckets:
            lines: dict[tuple[str | None, str | None], Decimal] = {}
            for s in (s for s in fake.spend if began <= s.at < ended):
                for kind, amount in (("input", s.input_cost), ("output", s.output_cost)):
                    key = (
                        s.project_id if "project_id" in groups else None,
                        f"{s.model}, {kind}" if "line_item" in groups else None,
                    )
                    lines[key] = lines.get(key, Decimal(0)) + amount
            data.append(
                {
                    "object": "bucket",
                    "start_time": int(began.timestamp()),
                    "end_time": int(ended.timestamp()),
                    "results": [
                        {
                            "object": "organization.costs.result",
                            "amount": {"value": _number(amount), "currency": "usd"},
                            "line_item": line_item,
                            "project_id": project,
                        }
                        for (project, line_item), amount in sorted(lines.items(), key=str)
                    ],
                }
            )
        return JSONResponse(
            {
                "object": "page",
                "data": data,
                "has_more": next_page is not None,
                "next_page": next_page,
            }
        )

    return Starlette(
        routes=[
            Route("/v1/organization/usage/completions", usage),
            Route("/v1/organization/costs", costs),
        ]
    )


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def anthropic_reports_app(fake: ReportsFake) -> Starlette:
    usage_fields = {"api_key_id", "workspace_id", "model", "service_tier", "context_window"}
    cost_fields = {"workspace_id", "description"}

    def pick(entry: Spend, name: str) -> Any:
        if name == "workspace_id":
            return entry.project_id
        if name == "service_tier":
            return "standard"
        if name == "context_window":
            return "0-200k"
        return getattr(entry, name)

    def checked(request: Request) -> Response | None:
        fake.requests.append((request.url.path, list(request.query_params.multi_items())))
        if request.headers.get("x-api-key") != fake.admin_key:
            return _error(401, "invalid x-api-key", "authentication_error")
        if not request.headers.get("anthropic-version"):
            return _error(400, "anthropic-version: header is required", "invalid_request_error")
        return None

    def window(request: Request) -> tuple[datetime, datetime, list[str]]:
        params = request.query_params
        if "starting_at" not in params:
            raise ValueError("starting_at: Field required")
        start = datetime.fromisoformat(params["starting_at"].replace("Z", "+00:00"))
        end_raw = params.get("ending_at")
        end = (
            datetime.fromisoformat(end_raw.replace("Z", "+00:00"))
            if end_raw
            else start + timedelta(days=7)
        )
        if "group_by" in params:
            raise ValueError("group_by: use group_by[]")
        return start, end, params.getlist("group_by[]")

    async def usage(request: Request) -> Response:
        if (refused := checked(request)) is not None:
            return refused
        try:
            start, end, groups = window(request)
            width = request.query_params.get("bucket_width", "1d")
            if width not in WIDTHS:
                raise ValueError("bucket_width: must be 1m, 1h or 1d")
            if unknown := set(groups) - usage_fields:
                raise ValueError(f"group_by[]: invalid {sorted(unknown)}")
            limit = _limit(request.query_params.get("limit"), width)
        except ValueError as exc:
            return _error(400, str(exc), "invalid_request_error")
        buckets, next_page = _paged(
            _buckets(start, end, WIDTHS[width]), limit, request.query_params.get("page")
        )
        data = []
        for began, ended in buckets:
            inside = [s for s in fake.spend if began <= s.at < ended]
            results = []
            for key, entries in sorted(
                _group(inside, groups, pick).items(), key=lambda i: str(i[0])
            ):
                result: JSON = {
                    "uncached_input_tokens": sum(s.input_tokens for s in entries),
                    "cache_creation": {
                        "ephemeral_1h_input_tokens": 0,
                        "ephemeral_5m_input_tokens": sum(s.cache_write_tokens for s in entries),
                    },
                    "cache_read_input_tokens": sum(s.cached_tokens for s in entries),
                    "output_tokens": sum(s.output_tokens for s in entries),
                    "server_tool_use": {"web_search_requests": 0},
                    "api_key_id": None,
                    "workspace_id": None,
                    "model": None,
                    "service_tier": None,
                    "context_window": None,
                }
                result.update(dict(zip(groups, key, strict=True)))
                results.append(result)
            data.append(
                {"starting_at": _rfc3339(began), "ending_at": _rfc3339(ended), "results": results}
            )
        return JSONResponse(
            {"data": data, "has_more": next_page is not None, "next_page": next_page}
        )

    async def cost(request: Request) -> Response:
        if (refused := checked(request)) is not None:
            return refused
        try:
            start, end, groups = window(request)
            if request.query_params.get("bucket_width", "1d") != "1d":
                raise ValueError("bucket_width: only 1d")
            if unknown := set(groups) - cost_fields:
                raise ValueError(f"group_by[]: invalid {sorted(unknown)}")
            limit = _limit(request.query_params.get("limit"), "1d")
        except ValueError as exc:
            return _error(400, str(exc), "invalid_request_error")
        buckets, next_page = _paged(
            _buckets(start, end, WIDTHS["1d"]), limit, request.query_params.get("page")
        )
        described = "description" in groups
        data = []
        for began, ended in buckets:
            lines: dict[tuple[Any, ...], Decimal] = {}
            for s in (s for s in fake.spend if began <= s.at < ended):
                for kind, amount in (
                    ("uncached_input_tokens", s.input_cost),
                    ("output_tokens", s.output_cost),
                ):
                    key = (
                        s.project_id if "workspace_id" in groups else None,
                        s.model if described else None,
                        kind if described else None,
                    )
                    lines[key] = lines.get(key, Decimal(0)) + amount
            results = [
                {
                    "currency": "USD",
                    "amount": str(amount * 100),  # cents, as a decimal string
                    "workspace_id": workspace,
                    "description": f"{model} Usage - {kind}" if described else None,
                    "cost_type": "tokens" if described else None,
                    "context_window": "0-200k" if described else None,
                    "model": model,
                    "service_tier": "standard" if described else None,
                    "token_type": kind,
                }
                for (workspace, model, kind), amount in sorted(lines.items(), key=str)
            ]
            data.append(
                {"starting_at": _rfc3339(began), "ending_at": _rfc3339(ended), "results": results}
            )
        return JSONResponse(
            {"data": data, "has_more": next_page is not None, "next_page": next_page}
        )

    return Starlette(
        routes=[
            Route("/v1/organizations/usage_report/messages", usage),
            Route("/v1/organizations/cost_report", cost),
        ]
    )
