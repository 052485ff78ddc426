"""Closing a month on PostgreSQL: `.venv/bin/python -m bench.close [--clients N --records M]`.

Seeds a throwaway database exactly as bench/overview/ does (clients through the use cases, the
three plans, every fifth client changing plan mid-month, usage records COPYed in), then times
`close_period` run by six concurrent closers with their own connection pools (as six processes),
and checks: one invoice per client that owes something, numbers 1..n without gaps, every invoice
adding up, its usage lines equal to the records it took (regrouped exactly with Decimal), and the
overview's revenue for the closed month equal to the sum of the invoices' subtotals. The ledger
is not seeded by COPY, so the ledger part of `verify` is not run here (tests cover it).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from adapters.persistence.database import create_engine
from adapters.persistence.unit_of_work import unit_of_work_factory
from api.container import close_container, make_container
from bench.databases import create_database, database_url, drop_database
from bench.overview import ADMIN_URL, UTC_ZONE, bench_settings, log, previous_month, seed
from domain.invoicing.invoices import group_usage
from domain.invoicing.ports import InvoiceFilter
from domain.invoicing.postings import check_sums, check_usage
from domain.usecases.invoicing import InvoiceUseCases

CLOSERS = 6


async def close_and_check(url: str, label: str, count: int) -> int:
    engines = [create_engine(url) for _ in range(CLOSERS)]
    try:
        closers = [InvoiceUseCases(unit_of_work_factory(e), _Clock(), UTC_ZONE) for e in engines]
        started = time.perf_counter()
        results = await asyncio.gather(*(c.close_period(label) for c in closers[:count]))
        seconds = time.perf_counter() - started
        created = [i for r in results for i in r.created]
        log(f"{count} concurrent closes of {label}: {len(created)} invoices in {seconds:.2f} s")
        again = time.perf_counter()
        assert (await closers[0].close_period(label)).created == ()
        log(f"closing again: nothing to do, {time.perf_counter() - again:.2f} s")
    finally:
        for engine in engines:
            await engine.dispose()
    problems = await check(url, label, len(created))
    for problem in problems:
        print("MISMATCH:", problem)
    print("checks:", "all passed" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


async def check(url: str, label: str, count: int) -> list[str]:
    container = make_container(bench_settings(url, secrets.token_urlsafe(16)))
    try:
        invoicing = container.invoicing()
        invoices = await invoicing.find(InvoiceFilter(period=label))
        problems = []
        numbers = sorted(int(i.number.rsplit("-", 1)[1]) for i in invoices)
        if numbers != list(range(1, count + 1)) or len({i.client_id for i in invoices}) != count:
            problems.append(f"numbers or clients not one-per-client and gap-free: {numbers[:5]}")
        started = time.perf_counter()
        async with container.reads()() as uow:
            for invoice in invoices:
                problems += check_sums(invoice)
                records = await uow.invoices.usage_records(invoice.id)
                problems += check_usage(invoice, group_usage(records, UTC_ZONE))
        log(
            f"every invoice re-checked against its records in {time.perf_counter() - started:.1f} s"
        )
        overview = await container.reports().overview(label)
        billed = sum((i.subtotal.amount for i in invoices), Decimal(0))
        revenue = overview.revenue.amount if overview.revenue else None
        print(f"overview revenue {revenue}, sum of invoice subtotals {billed}")
        if revenue != billed:
            problems.append("overview revenue differs from the invoices")
        return problems
    finally:
        await close_container(container)


def _groups(records, label):  # type: ignore[no-untyped-def]
    from domain.invoicing.invoices import group_usage

    return group_usage(records, UTC_ZONE)


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark closing a month on PostgreSQL.")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--closers", type=int, default=CLOSERS, help="concurrent closers")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    label = previous_month(datetime.now(UTC))
    name = f"bizgraph_bench_{uuid.uuid4().hex[:12]}"
    url = database_url(args.admin_url, name)
    settings = bench_settings(url, secrets.token_urlsafe(16))
    asyncio.run(create_database(args.admin_url, name))
    try:
        dataset = asyncio.run(seed(url, name, settings, args.clients, args.records, label, 1))
        log(f"seeded {dataset.records:,} records ({dataset.in_period:,} in {label})")
        return asyncio.run(close_and_check(url, label, args.closers))
    finally:
        asyncio.run(drop_database(args.admin_url, name))
        log(f"database {name} dropped")


if __name__ == "__main__":
    raise SystemExit(main())
