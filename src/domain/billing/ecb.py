"""The ECB's euro reference rates file, as the user downloads it (no network access assumed):
`eurofxref.csv` (one day, `Date, USD, JPY, ...` with dates like `04 December 2026`) or
`eurofxref-hist.csv` (every day, ISO dates). Each figure is units of the currency per 1 EUR;
`N/A` and empty cells are currencies not quoted that day. Lines end with a trailing comma."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from domain.billing.exchange import ReferenceDay
from domain.errors import ValidationError

MAX_DAYS = 20_000  # about 80 years of business days: the historical file fits
_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y")


def _day(text: str, line: int) -> date:
    for layout in _DATE_FORMATS:
        try:
            # a calendar day, no instant: the zone is irrelevant
            return datetime.strptime(text.strip(), layout).date()  # noqa: DTZ007
        except ValueError:
            continue
    raise ValidationError(f"line {line}: {text.strip()[:40]!r} is not a date")


def _figure(text: str, line: int, currency: str) -> Decimal | None:
    value = text.strip()
    if not value or value.upper() == "N/A":
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValidationError(f"line {line}: {currency} {value[:40]!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise ValidationError(f"line {line}: {currency} {value[:40]!r} is not a positive rate")
    return number


def parse_reference_rates(text: str) -> list[ReferenceDay]:
    """The file's days, in the file's order; a clear ValidationError naming the line when a
    row is not in the layout."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows or not rows[0] or rows[0][0].strip() != "Date":
        raise ValidationError("not an ECB reference rates file: the first column is not 'Date'")
    header = [cell.strip() for cell in rows[0]]
    currencies = header[1:]
    for code in currencies:
        if code and (len(code) != 3 or not code.isalpha() or not code.isupper()):
            raise ValidationError(f"the header names {code[:20]!r}, not a currency code")
    days: list[ReferenceDay] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(days) >= MAX_DAYS:
            raise ValidationError(f"more than {MAX_DAYS} days in one file")
        per_eur: dict[str, Decimal] = {}
        for code, cell in zip(currencies, row[1:], strict=False):
            if code and (figure := _figure(cell, number, code)) is not None:
                per_eur[code] = figure
        days.append(ReferenceDay(_day(row[0], number), per_eur))
    if not days:
        raise ValidationError("the file has no rates")
    return days
