"""The overview (dashboards) benchmark: `.venv/bin/python -m bench.overview`.

Target (issue): `overview` for 200 clients over a month with 1,000,000 usage records answers in
under 200 ms on PostgreSQL on this machine.

1. Creates a throwaway PostgreSQL database `bizgraph_bench_<hex>`, migrates it, seeds the default
   catalog, creates the clients through the use cases (the three plans in turn, every fifth
   client changing plan mid-month), one API key each, then COPYs the usage records straight
   into `usage_records` (sorted by `started_at`, as the gateway appends them; about 2 % fall
   just outside the month). Every record's cost is `PriceVersion.cost` of its tokens and its
   charge the charge of the client's plan in force at `started_at`, computed with the domain
   over a pool of token profiles per model. `VACUUM (ANALYZE)` afterwards. The overview reads
   only `usage_records` (plus clients and plan versions), so no ledger rows are written.
2. Times `ReportUseCases.overview` directly (what the GraphQL resolver calls) and the GraphQL
   `overview(period)` query over HTTP against `bizgraph serve` in its own process; warm-up,
   then p50/p95/max, met / NOT MET against the target. Prints `EXPLAIN (ANALYZE, BUFFERS)` of
   the aggregation statement exactly as the repository sends it.
3. Checks three clients exactly: their rows recomputed with Decimal (cost from the tokens and
   the price, charge from the plan in force) against the overview's row, and the HTTP answer
   against the use case's.
4. Drops the database at the end (unless `--keep`), on errors and on Ctrl-C too.

Modules: `seeding` (the data set), `timing` (the measured paths), `checking` (the exact
recomputation), `command` (arguments, report, results), `common` (settings shared by them).
"""

from bench.overview.common import ADMIN_URL, UTC_ZONE, bench_settings, log, previous_month
from bench.overview.seeding import seed

__all__ = ["ADMIN_URL", "UTC_ZONE", "bench_settings", "log", "previous_month", "seed"]
