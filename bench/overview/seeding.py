"""Seeding: a throwaway database with clients, plans, keys (through the use cases) and
millions of usage records COPYed straight into `usage_records`."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from adapters.persistence.database import create_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.repositories.usage_totals import rebuild_usage_daily
from api.container import Container, close_container, make_container
from api.container.database import default_catalog
from api.settings import Settings
from bench.databases import asyncpg_dsn
from bench.overview.common import (
    UTC_ZONE,
    log,
)
from domain.billing.clients import Client
from domain.billing.money import Money
from domain.billing.periods import Period, month_period
from domain.billing.plans import (
    FixedFee,
    FixedPrice,
    PercentageMargin,
    PlanVersion,
    PricingPlan,
)
from domain.catalog.models import Model, ModelKind, PriceVersion
from domain.metering.tokens import TokenUsage
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey

PROFILES_PER_MODEL = 256
BATCH = 50_000
OUTSIDE_SHARE = 0.02  # records just before or after the month (must not be counted)
FAILED_SHARE = 0.015  # failed attempts: no tokens, zero cost and charge
ESTIMATED_SHARE = 0.005
PLAN_CHANGE_EVERY = 5  # every fifth client changes plan mid-month
MARGINS = (Decimal(10), Decimal(20), Decimal(25), Decimal(30), Decimal("35.5"), Decimal(50))
COLUMNS = (
    "id",
    "request_id",
    "attempt",
    "client_id",
    "api_key_id",
    "model_id",
    "provider",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost",
    "cost_currency",
    "charge",
    "charge_currency",
    "price_version_id",
    "plan_version_id",
    "started_at",
    "latency_ms",
    "status",
    "source",
)


@dataclass(frozen=True, slots=True)
class Profile:
    """A token profile of one model and its exact cost (PriceVersion.cost)."""

    usage: TokenUsage
    cost: Decimal


@dataclass(slots=True)
class SeededClient:
    client: Client
    key_id: str
    versions: list[PlanVersion]
    change_at: datetime | None  # the mid-month plan change, if any

    def version_at(self, instant: datetime) -> PlanVersion:
        if self.change_at is not None and instant >= self.change_at:
            return self.versions[1]
        return self.versions[0]


@dataclass(frozen=True, slots=True)
class Dataset:
    database: str
    url: str
    period: Period
    clients: list[SeededClient]
    records: int
    in_period: int
    table_mb: float
    indexes_mb: float
    seconds: float


def plan_for(index: int, changed: bool) -> PricingPlan:
    """The three plans in turn (a changed client moves to the next one)."""
    kind = (index + (1 if changed else 0)) % 3
    if kind == 0:
        return PercentageMargin(MARGINS[index % len(MARGINS)])
    if kind == 1:
        return FixedFee(Money(Decimal(50 + 25 * (index % 19))))
    return FixedPrice(Money(Decimal(200 + 100 * (index % 17))))


def plan_label(plan: PricingPlan) -> str:
    match plan:
        case PercentageMargin(percent=percent):
            return f"margin {percent}%"
        case FixedFee(monthly_fee=fee):
            return f"cost + {fee.amount}/month"
        case FixedPrice(monthly_price=price):
            return f"fixed {price.amount}/month"


def charge_key(plan: PricingPlan) -> str:
    match plan:
        case PercentageMargin(percent=percent):
            return f"margin:{percent}"
        case _:
            return plan.kind.value


def token_profiles(model: Model, price: PriceVersion, rng: random.Random) -> list[Profile]:
    """Plausible token counts for the model's kind and price classes, priced by the domain."""
    reasoning = price.reasoning is not None or model.id.split("/")[1].startswith(("gpt-5", "o"))
    cache_write = price.cache_write is not None
    profiles = []
    for _ in range(PROFILES_PER_MODEL):
        if model.kind is ModelKind.EMBEDDING:
            usage = TokenUsage(input_tokens=int(rng.lognormvariate(5.5, 1.2)) + 1)
        else:
            prompt = min(int(rng.lognormvariate(7.0, 1.1)) + 20, 200_000)
            cached = int(prompt * rng.uniform(0.2, 0.9)) if rng.random() < 0.35 else 0
            written = 0
            if cache_write and rng.random() < 0.15:
                written = int((prompt - cached) * rng.uniform(0.1, 0.8))
            output = min(int(rng.lognormvariate(5.5, 1.0)) + 1, 32_000)
            thought = int(output * rng.uniform(0.1, 0.7)) if reasoning else 0
            usage = TokenUsage(
                input_tokens=prompt,
                output_tokens=output,
                cached_input_tokens=cached,
                cache_write_tokens=written,
                reasoning_tokens=thought,
            )
        profiles.append(Profile(usage, price.cost(usage).amount))
    return profiles


async def seed_clients(
    container: Container, period: Period, count: int, rng: random.Random
) -> list[SeededClient]:
    since = period.start - timedelta(days=60)
    seeded = []
    for index in range(count):
        first = plan_for(index, changed=False)
        client, version = await container.clients().create(
            NewClient(name=f"Client {index:03d}", plan=first, plan_effective_from=since)
        )
        versions = [version]
        change_at = None
        if index % PLAN_CHANGE_EVERY == 0:
            fraction = rng.uniform(0.3, 0.7)
            change_at = period.start + (period.end - period.start) * fraction
            change_at = change_at.replace(microsecond=0)
            second = plan_for(index, changed=True)
            versions.append(await container.clients().set_plan(client.id, second, change_at))
        issued = await container.keys().issue(NewKey(client.id, name="bench"))
        seeded.append(SeededClient(client, issued.key.id, versions, change_at))
    return seeded


def usage_rows(
    clients: Sequence[SeededClient],
    models: Sequence[Model],
    prices: Mapping[str, PriceVersion],
    period: Period,
    count: int,
    rng: random.Random,
) -> Iterator[tuple[Any, ...]]:
    """`count` usage records in started_at order (as the gateway appends them)."""
    profiles = {m.id: token_profiles(m, prices[m.id], rng) for m in models}
    weights = [3 if m.kind is ModelKind.EMBEDDING else 10 for m in models]
    weights = [
        w * (4 if "mini" in m.id or "haiku" in m.id else 1)
        for w, m in zip(weights, models, strict=True)
    ]
    # Skewed like an agency's book: a few big clients, a long tail.
    order = list(range(len(clients)))
    rng.shuffle(order)
    client_weights = [1 / (order[i] + 1) ** 0.8 for i in range(len(clients))]
    picked_clients = rng.choices(range(len(clients)), client_weights, k=count)
    picked_models = rng.choices(range(len(models)), weights, k=count)
    span = (period.end - period.start).total_seconds()
    offsets = []
    for _ in range(count):
        roll = rng.random()
        if roll < OUTSIDE_SHARE / 2:
            offsets.append(-rng.uniform(1, 5 * 86_400))
        elif roll < OUTSIDE_SHARE:
            offsets.append(span + rng.uniform(0, 5 * 86_400))
        else:
            offsets.append(rng.uniform(0, span))
    offsets.sort()
    charges: dict[tuple[str, str, int], Decimal] = {}
    zero = Decimal(0)
    failed = TokenUsage()
    for n in range(count):
        seeded = clients[picked_clients[n]]
        model = models[picked_models[n]]
        price = prices[model.id]
        started = period.start + timedelta(seconds=offsets[n])
        version = seeded.version_at(started)
        roll = rng.random()
        if roll < FAILED_SHARE:
            usage, cost, charge, status = failed, zero, zero, "failed"
        else:
            slot = rng.randrange(PROFILES_PER_MODEL)
            profile = profiles[model.id][slot]
            key = (charge_key(version.plan), model.id, slot)
            cached = charges.get(key)
            if cached is None:
                cached = version.plan.charge(Money(profile.cost, price.currency)).amount
                charges[key] = cached
            charge = cached
            usage, cost, status = profile.usage, profile.cost, "succeeded"
        source = (
            "estimated" if FAILED_SHARE <= roll < FAILED_SHARE + ESTIMATED_SHARE else "reported"
        )
        yield (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            1,
            seeded.client.id,
            seeded.key_id,
            model.id,
            model.provider,
            usage.input_tokens,
            usage.output_tokens,
            usage.cached_input_tokens,
            usage.cache_write_tokens,
            usage.reasoning_tokens,
            cost,
            price.currency,
            charge,
            seeded.client.currency,
            price.id,
            version.id,
            started,
            rng.randint(150, 20_000),
            status,
            source,
        )


def batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def rebuild_rollup(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await rebuild_usage_daily(conn)
    finally:
        await engine.dispose()


async def seed(
    url: str, name: str, settings: Settings, clients: int, records: int, label: str, seed_: int
) -> Dataset:
    started = time.perf_counter()
    rng = random.Random(seed_)
    period = month_period(label, UTC_ZONE)
    await upgrade(url)
    container = make_container(settings)
    try:
        models, prices = default_catalog()
        await container.catalog().seed(models, prices)
        price_of = {p.model_id: p for p in prices}
        if any(p.effective_from > period.start - timedelta(days=5) for p in prices):
            raise SystemExit(f"the default catalog has no prices for all of {label}")
        used = [m for m in models if m.provider != "demo"]
        seeded = await seed_clients(container, period, clients, rng)
    finally:
        await close_container(container)
    log(f"{clients} clients, plans and keys created; generating {records:,} usage records")
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        copied = 0
        rows = usage_rows(seeded, used, price_of, period, records, rng)
        for batch in batches(rows, BATCH):
            await connection.copy_records_to_table("usage_records", records=batch, columns=COLUMNS)
            copied += len(batch)
            if copied % (BATCH * 4) == 0 or copied == records:
                log(f"  {copied:,} records copied ({time.perf_counter() - started:.0f} s)")
        await rebuild_rollup(url)  # COPY bypassed the repository that keeps it
        await connection.execute("VACUUM (ANALYZE) usage_records")
        await connection.execute("ANALYZE")
        in_period = await connection.fetchval(
            "SELECT count(*) FROM usage_records WHERE started_at >= $1 AND started_at < $2",
            period.start,
            period.end,
        )
        table, indexes = await connection.fetchrow(
            "SELECT pg_table_size('usage_records'), pg_indexes_size('usage_records')"
        )
    finally:
        await connection.close()
    return Dataset(
        database=name,
        url=url,
        period=period,
        clients=seeded,
        records=records,
        in_period=int(in_period),
        table_mb=round(table / 2**20, 1),
        indexes_mb=round(indexes / 2**20, 1),
        seconds=round(time.perf_counter() - started, 1),
    )
