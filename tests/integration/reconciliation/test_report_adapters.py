"""The reporting adapters against strict fakes of OpenAI's and Anthropic's usage and cost
APIs, over real HTTP: several pages of buckets, grouping by model and key or project, exact
costs, hourly buckets for a day, and refusals that never show the credential."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from adapters.reconciliation._http import ReportUnavailable
from adapters.reconciliation.anthropic_usage import AnthropicUsageReports
from adapters.reconciliation.openai_usage import OpenAIUsageReports, line_item_model
from domain.metering.tokens import TokenUsage
from domain.reconciliation import ProviderFigures, summed
from tests.support.servers import serve_in_thread
from tests.upstreams.usage_reports_fake import (
    ReportsFake,
    Spend,
    anthropic_reports_app,
    openai_reports_app,
)

ADMIN = "sk-admin-test-0123456789"
START = date(2026, 10, 1)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def forty_days() -> list[Spend]:
    """Forty days (more than one page of 31 daily buckets), two models, two keys."""
    spend = []
    for day in range(1, 32):
        spend.append(
            Spend(
                at(day),
                "gpt-4o-mini-2024-07-18",
                2,
                100,
                20,
                0,
                50,
                Decimal("0.0000165"),
                Decimal("0.00003"),
                "key_a",
                "proj_1",
            )
        )
        spend.append(
            Spend(
                at(day, 13),
                "gpt-4o-2024-08-06",
                1,
                10,
                0,
                0,
                5,
                Decimal("0.000025"),
                Decimal("0.00005"),
                "key_b",
                "proj_2",
            )
        )
    for day in range(1, 10):
        spend.append(
            Spend(
                datetime(2026, 11, day, 1, tzinfo=UTC),
                "gpt-4o-2024-08-06",
                1,
                1,
                0,
                0,
                1,
                Decimal("0.1"),
                Decimal("0.2"),
                "key_b",
                "proj_2",
            )
        )
    return spend  # fmt: skip


@pytest.fixture
def openai_fake() -> Iterator[tuple[ReportsFake, str]]:
    fake = ReportsFake(ADMIN)
    with serve_in_thread(openai_reports_app(fake)) as url:
        yield fake, url


@pytest.fixture
def anthropic_fake() -> Iterator[tuple[ReportsFake, str]]:
    fake = ReportsFake(ADMIN)
    with serve_in_thread(anthropic_reports_app(fake)) as url:
        yield fake, url


def of(rows: list[ProviderFigures], day: date, model: str) -> list[ProviderFigures]:
    return [r for r in rows if r.day == day and r.model == model and r.hour is None]


async def test_openai_usage_and_costs_over_pages(openai_fake: tuple[ReportsFake, str]) -> None:
    fake, url = openai_fake
    fake.add(forty_days())
    reports = OpenAIUsageReports(ADMIN, url)
    try:
        rows = await reports.daily(START, date(2026, 11, 10))
    finally:
        await reports.aclose()

    usage_pages = [q for path, q in fake.requests if path.endswith("/usage/completions")]
    assert len(usage_pages) == 2  # 40 daily buckets, 31 per page
    assert ("page", "page_31") in usage_pages[1]
    assert ("group_by", "model") in usage_pages[0]
    assert ("bucket_width", "1d") in usage_pages[0]
    first = summed(of(rows, START, "gpt-4o-mini-2024-07-18"))
    assert first.requests == 2
    assert first.tokens == TokenUsage(input_tokens=120, cached_input_tokens=20, output_tokens=50)
    assert first.cost == Decimal("0.0000465")
    [usage_row] = [r for r in of(rows, START, "gpt-4o-mini-2024-07-18") if r.tokens]
    assert (usage_row.api_key_id, usage_row.project_id) == ("key_a", "proj_1")
    assert summed(of(rows, date(2026, 11, 9), "gpt-4o-2024-08-06")).cost == Decimal("0.3")
    assert not of(rows, date(2026, 11, 10), "gpt-4o-2024-08-06")  # the end is exclusive


async def test_openai_hours_of_a_day(openai_fake: tuple[ReportsFake, str]) -> None:
    fake, url = openai_fake
    fake.add(forty_days())
    reports = OpenAIUsageReports(ADMIN, url)
    try:
        rows = await reports.hourly(START)
    finally:
        await reports.aclose()
    hours = {(r.hour, r.model) for r in rows}
    assert hours == {(at(1), "gpt-4o-mini-2024-07-18"), (at(1, 13), "gpt-4o-2024-08-06")}
    assert all(r.cost is None for r in rows)


async def test_a_refused_admin_key_is_never_shown(openai_fake: tuple[ReportsFake, str]) -> None:
    _, url = openai_fake
    reports = OpenAIUsageReports("sk-admin-wrong-secret", url)
    try:
        with pytest.raises(ReportUnavailable) as refused:
            await reports.daily(START, date(2026, 10, 2))
    finally:
        await reports.aclose()
    assert "401" in str(refused.value)
    assert "sk-admin-wrong-secret" not in str(refused.value)


async def test_anthropic_usage_and_cost_reports(anthropic_fake: tuple[ReportsFake, str]) -> None:
    fake, url = anthropic_fake
    fake.add(
        Spend(at(day), "claude-sonnet-4-5-20250929", 1, 300, 100, 50, 40,
              Decimal("0.0012"), Decimal("0.0006"), f"apikey_{day % 2}", "wrkspc_1")
        for day in range(1, 32)
    )  # fmt: skip
    fake.add([Spend(datetime(2026, 11, 2, 3, tzinfo=UTC), "claude-haiku-4-5", 1, 5, 0, 0, 5,
                    Decimal("0.000005"), Decimal("0.000025"))])  # fmt: skip
    reports = AnthropicUsageReports(ADMIN, url)
    try:
        rows = await reports.daily(START, date(2026, 11, 3))
        hourly = await reports.hourly(date(2026, 11, 2))
    finally:
        await reports.aclose()

    usage_pages = [
        q
        for path, q in fake.requests
        if path.endswith("/usage_report/messages") and ("bucket_width", "1d") in q
    ]
    assert len(usage_pages) == 2
    assert ("group_by[]", "model") in usage_pages[0]
    assert ("starting_at", "2026-10-01T00:00:00Z") in usage_pages[0]
    day = summed(of(rows, START, "claude-sonnet-4-5-20250929"))
    assert day.requests is None  # Anthropic reports none
    assert day.tokens == TokenUsage(
        input_tokens=450, cached_input_tokens=100, cache_write_tokens=50, output_tokens=40
    )
    assert day.cost == Decimal("0.0018")  # from cents: "0.18" -> 0.0018 USD
    [key_row] = [r for r in of(rows, START, "claude-sonnet-4-5-20250929") if r.tokens]
    assert (key_row.api_key_id, key_row.project_id) == ("apikey_1", None)
    assert summed(of(rows, date(2026, 11, 2), "claude-haiku-4-5")).cost == Decimal("0.00003")
    assert [(r.hour, r.model) for r in hourly] == [
        (datetime(2026, 11, 2, 3, tzinfo=UTC), "claude-haiku-4-5")
    ]


async def test_anthropic_needs_its_admin_key(anthropic_fake: tuple[ReportsFake, str]) -> None:
    _, url = anthropic_fake
    reports = AnthropicUsageReports("sk-ant-admin-wrong", url)
    try:
        with pytest.raises(ReportUnavailable, match="401"):
            await reports.daily(START, date(2026, 10, 2))
    finally:
        await reports.aclose()


async def test_the_fakes_follow_the_documented_shapes(
    openai_fake: tuple[ReportsFake, str], anthropic_fake: tuple[ReportsFake, str]
) -> None:
    """Raw HTTP as the API references show it (the SDKs expose no admin reporting calls)."""
    (_, openai_url), (_, anthropic_url) = openai_fake, anthropic_fake
    async with httpx.AsyncClient() as http:
        page = (
            await http.get(
                f"{openai_url}/v1/organization/usage/completions",
                params={"start_time": 1759276800, "limit": 1},
                headers={"Authorization": f"Bearer {ADMIN}"},
            )
        ).json()
        wrong_width = await http.get(
            f"{openai_url}/v1/organization/costs",
            params={"start_time": 1759276800, "bucket_width": "1h"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        no_version = await http.get(
            f"{anthropic_url}/v1/organizations/cost_report",
            params={"starting_at": "2026-10-01T00:00:00Z"},
            headers={"x-api-key": ADMIN},
        )
    assert page["object"] == "page"
    assert page["has_more"] is True
    assert page["data"][0]["object"] == "bucket"
    assert wrong_width.status_code == 400
    assert no_version.status_code == 400


def test_cost_line_items_name_their_model() -> None:
    assert line_item_model("gpt-4o-2024-08-06, cached input") == "gpt-4o-2024-08-06"
    assert line_item_model("web search tool calls") == "web search tool calls"
    assert line_item_model(None) == ""
