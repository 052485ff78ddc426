"""The SQL the PostgreSQL call log sends (asyncpg: positional parameters, arrays for a batch's
rows), built once at import from the tables, and the rows and daily rollup sums it binds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, Table

from adapters.persistence.tables.alerts import alerts
from adapters.persistence.tables.calls import call_journal, ledger_entries, usage_records
from adapters.persistence.tables.wallets import wallet_entries
from adapters.persistence.types import ExactDecimal, UtcDateTime, check_storable
from domain.metering.usage import UsageRecord


def array_type(table: Table, column: str) -> str:
    kind = table.c[column].type
    if isinstance(kind, ExactDecimal):
        return "numeric[]"
    if isinstance(kind, UtcDateTime):
        return "timestamptz[]"
    if isinstance(kind, BigInteger):
        return "int8[]"
    if isinstance(kind, Boolean):
        return "bool[]"
    if isinstance(kind, Integer):
        return "int4[]"
    return "text[]"


def insert_sql(
    table: Table, columns: Sequence[str], conflict: Sequence[str], returning: str
) -> str:
    """INSERT ... SELECT FROM unnest(one array per column): a batch of rows in one statement.
    Identifiers come from the table definitions, never from input."""
    arrays = ", ".join(f"${i}::{array_type(table, c)}" for i, c in enumerate(columns, start=1))
    names, keys = ", ".join(columns), ", ".join(conflict)
    tail = f" RETURNING {returning}" if returning else ""
    return (
        f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays}) "  # noqa: S608
        f"ON CONFLICT ({keys}) DO NOTHING{tail}"
    )


JOURNAL_COLUMNS = tuple(c.name for c in call_journal.c)
USAGE_COLUMNS = tuple(c.name for c in usage_records.c if c.name != "invoice_id")
LEDGER_COLUMNS = tuple(c.name for c in ledger_entries.c)
OPEN = insert_sql(call_journal, JOURNAL_COLUMNS, ["request_id"], "")
USAGE = insert_sql(usage_records, USAGE_COLUMNS, ["request_id", "attempt"], "request_id, attempt")
LEDGER = insert_sql(ledger_entries, LEDGER_COLUMNS, ["client_id", "kind", "reference"], "")
WALLET_COLUMNS = tuple(c.name for c in wallet_entries.c)
WALLET_DRAWS = insert_sql(wallet_entries, WALLET_COLUMNS, ["reference"], "")
# 'started' is JournalState.STARTED (a test checks the statements against the enum).
FINISH = (
    "UPDATE call_journal AS j SET state = x.state "
    "FROM unnest($1::text[], $2::text[]) AS x(request_id, state) "
    "WHERE j.request_id = x.request_id AND j.state = 'started' "
    "RETURNING j.request_id"
)
KNOWN = "SELECT request_id FROM call_journal WHERE request_id = ANY($1::text[])"
CHECKPOINT = (
    "UPDATE call_journal AS j SET output_chars = x.chars "
    "FROM unnest($1::text[], $2::int8[]) AS x(request_id, chars) "
    "WHERE j.request_id = x.request_id AND j.state = 'started'"
)
DAILY = (
    "INSERT INTO usage_daily AS d (client_id, day, cost_currency, charge_currency, requests, "
    "input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, "
    "cost, charge) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
    "ON CONFLICT (client_id, day, cost_currency, charge_currency) DO UPDATE SET "
    "requests = d.requests + EXCLUDED.requests, "
    "input_tokens = d.input_tokens + EXCLUDED.input_tokens, "
    "output_tokens = d.output_tokens + EXCLUDED.output_tokens, "
    "cached_input_tokens = d.cached_input_tokens + EXCLUDED.cached_input_tokens, "
    "cache_write_tokens = d.cache_write_tokens + EXCLUDED.cache_write_tokens, "
    "reasoning_tokens = d.reasoning_tokens + EXCLUDED.reasoning_tokens, "
    "cost = d.cost + EXCLUDED.cost, charge = d.charge + EXCLUDED.charge"
)


ALERT_COLUMNS = tuple(c.name for c in alerts.c)
ALERTS = insert_sql(alerts, ALERT_COLUMNS, ["dedupe_key"], "")
# A spend joins its counter; with a lease, what the lease holds of it leaves `reserved` and the
# lease (the row goes when empty). The counter's new spend, or NULL without a counter.
SPEND = (
    "UPDATE budget_counters SET spent = spent + $3 "
    "WHERE scope = $1 AND period_start = $2 RETURNING spent"
)
SPEND_FROM_LEASE = (
    "WITH held AS ("
    "  SELECT amount FROM budget_leases"
    "  WHERE process_id = $4 AND scope = $1 AND period_start = $2 FOR UPDATE"
    "), moved AS ("
    "  SELECT LEAST(amount, $3) AS amount FROM held"
    "), emptied AS ("
    "  DELETE FROM budget_leases"
    "  WHERE process_id = $4 AND scope = $1 AND period_start = $2 AND amount <= $3 RETURNING 1"
    "), shrunk AS ("
    "  UPDATE budget_leases SET amount = amount - $3"
    "  WHERE process_id = $4 AND scope = $1 AND period_start = $2 AND amount > $3 RETURNING 1"
    ") "
    "UPDATE budget_counters SET spent = spent + $3,"
    "  reserved = reserved - COALESCE((SELECT amount FROM moved), 0) "
    "WHERE scope = $1 AND period_start = $2 RETURNING spent"
)


def storable(value: Any) -> Any:
    return check_storable(value) if isinstance(value, Decimal) else value


def row_values(mapping: Mapping[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(storable(mapping[c]) for c in columns)


def as_columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


def daily_rows(records: Sequence[UsageRecord]) -> list[tuple[Any, ...]]:
    """The records summed per client, UTC day and currencies, in key order (two processes'
    batches then lock the rollup rows in the same order)."""
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for record in records:
        key = (
            record.client_id,
            record.started_at.astimezone(UTC).date(),
            record.cost.currency,
            record.charge.currency,
        )
        tokens = record.usage
        counts = [
            1,
            tokens.input_tokens,
            tokens.output_tokens,
            tokens.cached_input_tokens,
            tokens.cache_write_tokens,
            tokens.reasoning_tokens,
            record.cost.amount,
            record.charge.amount,
        ]
        if key in sums:
            sums[key] = [a + b for a, b in zip(sums[key], counts, strict=True)]
        else:
            sums[key] = counts
    return [(*key, *values) for key, values in sorted(sums.items())]
