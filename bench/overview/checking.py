"""Checking: a few clients' rows recomputed exactly with Decimal from the raw records, and
the HTTP answer compared with the use case's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.databases import asyncpg_dsn
from bench.overview.seeding import (
    Dataset,
    plan_label,
)
from bench.overview.timing import (
    UseCaseRun,
)
from domain.billing.money import Money, exact_sum
from domain.billing.plans import (
    FixedPrice,
    PlanTimeline,
)
from domain.catalog.models import PriceVersion
from domain.metering.tokens import TokenUsage
from domain.reports import Overview


@dataclass(slots=True)
class Check:
    client: str
    plan: str
    requests: int
    cost: str
    charge: str
    revenue: str
    ok: bool
    problems: list[str] = field(default_factory=list)


async def check_clients(
    dataset: Dataset,
    run: UseCaseRun,
    prices: Mapping[str, PriceVersion],
) -> list[Check]:
    """Three clients recomputed from their raw rows with Decimal, compared exactly."""
    by_id = {row.client.id: row for row in run.overview.rows}
    period = dataset.period
    biggest = max(run.overview.rows, key=lambda r: r.draft.requests).client.id
    changed = next(s.client.id for s in dataset.clients if s.change_at is not None)
    fixed_price = next(
        s.client.id
        for s in dataset.clients
        if isinstance(s.versions[-1].plan, FixedPrice) and s.client.id not in (biggest, changed)
    )
    checks = []
    connection = await asyncpg.connect(asyncpg_dsn(dataset.url), timeout=10)
    try:
        for client_id in dict.fromkeys((biggest, changed, fixed_price)):
            rows = await connection.fetch(
                "SELECT model_id, input_tokens, output_tokens, cached_input_tokens,"
                " cache_write_tokens, reasoning_tokens, cost::text AS cost,"
                " charge::text AS charge, started_at FROM usage_records WHERE client_id = $1",
                client_id,
            )
            timeline = PlanTimeline(run.histories.get(client_id, ()))
            mine = [r for r in rows if period.contains(r["started_at"])]
            stored_cost = exact_sum(*(Decimal(r["cost"]) for r in mine))
            stored_charge = exact_sum(*(Decimal(r["charge"]) for r in mine))
            costs, charges = [], []
            tokens = TokenUsage()
            for r in mine:
                usage = TokenUsage(
                    input_tokens=r["input_tokens"],
                    output_tokens=r["output_tokens"],
                    cached_input_tokens=r["cached_input_tokens"],
                    cache_write_tokens=r["cache_write_tokens"],
                    reasoning_tokens=r["reasoning_tokens"],
                )
                tokens = tokens + usage
                priced = prices[r["model_id"]].cost(usage)
                version = timeline.in_force_at(r["started_at"])
                assert version is not None
                costs.append(priced.amount)
                charges.append(version.plan.charge(priced).amount)
            cost = exact_sum(*costs)
            charge = exact_sum(*charges)
            fixed = exact_sum(*(f.amount.amount for f in timeline.fixed_charges(period)))
            draft = by_id[client_id].draft
            problems = []
            expected = {
                "requests": (len(mine), draft.requests),
                "tokens": (tokens, draft.tokens),
                "cost (stored rows)": (stored_cost, draft.usage_cost.amount),
                "cost (recomputed)": (cost, draft.usage_cost.amount),
                "charge (stored rows)": (stored_charge, draft.usage_charge.amount),
                "charge (recomputed)": (charge, draft.usage_charge.amount),
                "revenue": (exact_sum(charge, fixed), draft.revenue.amount),
            }
            for what, (mine_, theirs) in expected.items():
                if mine_ != theirs:
                    problems.append(f"{what}: recomputed {mine_}, overview {theirs}")
            plans = " -> ".join(plan_label(v.plan) for v in timeline.versions)
            checks.append(
                Check(
                    client=by_id[client_id].client.name,
                    plan=plans,
                    requests=len(mine),
                    cost=str(cost),
                    charge=str(charge),
                    revenue=str(draft.revenue.amount),
                    ok=not problems,
                    problems=problems,
                )
            )
    finally:
        await connection.close()
    return checks


def http_matches(document: dict[str, Any], overview: Overview) -> list[str]:
    """The HTTP answer against the use case's figures, totals and every row."""
    data = document["data"]["overview"]
    problems = []

    def same(what: str, money: dict[str, Any] | None, expected: Money | None) -> None:
        got = None if money is None else Decimal(money["amount"])
        want = None if expected is None else expected.amount
        if got != want:
            problems.append(f"{what}: HTTP {got}, use case {want}")

    if data["requests"] != overview.requests:
        problems.append(f"requests: HTTP {data['requests']}, use case {overview.requests}")
    same("cost", data["cost"], overview.cost)
    same("revenue", data["revenue"], overview.revenue)
    same("profit", data["profit"], overview.profit)
    rows = {row["client"]["id"]: row for row in data["rows"]}
    if len(rows) != len(overview.rows):
        problems.append(f"rows: HTTP {len(rows)}, use case {len(overview.rows)}")
    for row in overview.rows:
        theirs = rows.get(row.client.id)
        if theirs is None:
            problems.append(f"row {row.client.name} missing over HTTP")
            continue
        same(f"{row.client.name} cost", theirs["cost"], row.draft.usage_cost)
        same(f"{row.client.name} revenue", theirs["revenue"], row.draft.revenue)
    return problems
