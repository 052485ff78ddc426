"""Journal entries as a generic CSV most accounting tools import (docs/tax.md "Exports"):
one row per line, debit and credit as plain decimal strings (never floats, no thousands
separators), dates as ISO 8601."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from domain.accounting.journal import JournalLine

HEADER = [
    "date",
    "journal",
    "entry",
    "reference",
    "account",
    "description",
    "debit",
    "credit",
    "currency",
    "tax_code",
    "client_id",
    "client_name",
    "client_tax_id",
    "seller_tax_id",
    "tax_note",
    "client_address",
    "po_reference",
]


def _cell(value: str) -> str:
    # A leading = + - @ makes spreadsheets evaluate a cell: keep names and texts inert.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _amount(value: object) -> str:
    return format(value, "f")


def journal_csv(lines: Iterable[JournalLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for line in lines:
        h = line.head
        writer.writerow(
            [
                h.day.isoformat(),
                h.journal,
                _cell(h.entry),
                _cell(h.reference),
                _cell(line.account),
                _cell(line.description),
                _amount(line.debit),
                _amount(line.credit),
                h.currency,
                h.tax_code,
                _cell(h.client_id),
                _cell(h.client_name),
                _cell(h.client_tax_id),
                _cell(h.seller_tax_id),
                _cell(h.tax_note),
                _cell(h.client_address),
                _cell(h.po_reference),
            ]
        )
    return out.getvalue()
