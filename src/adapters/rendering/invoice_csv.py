"""CSV of the usage records behind an invoice: one row per provider attempt, exact amounts as
decimal strings (never floats), so a spreadsheet sum matches the invoice's exact line amounts."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from domain.invoicing.invoices import Invoice
from domain.metering.usage import UsageRecord

HEADER = [
    "invoice",
    "started_at",
    "request_id",
    "attempt",
    "model",
    "status",
    "source",
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "charge",
    "currency",
]


def _cell(value: str) -> str:
    # A leading = + - @ makes spreadsheets evaluate a cell: keep ids and names inert.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def usage_csv(invoice: Invoice, records: Sequence[UsageRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for r in records:
        t = r.usage
        writer.writerow(
            [
                invoice.number,
                r.started_at.isoformat(),
                _cell(r.request_id),
                r.attempt,
                _cell(r.model_id),
                r.status.value,
                r.source.value,
                t.input_tokens,
                t.cached_input_tokens,
                t.cache_write_tokens,
                t.output_tokens,
                t.reasoning_tokens,
                format(r.charge.amount, "f"),
                r.charge.currency,
            ]
        )
    return out.getvalue()
