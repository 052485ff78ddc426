"""Billing periods: calendar months in the agency's time zone, half-open [start, end)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.errors import ValidationError
from domain.timeutil import exact_seconds, require_aware

_LABEL = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> Decimal:
        return exact_seconds(self.start, self.end)

    def contains(self, instant: datetime) -> bool:
        return self.start <= require_aware(instant, "instant") < self.end

    def next(self) -> Period:
        zone = self.start.tzinfo
        assert isinstance(zone, ZoneInfo)
        return month_period(_month_label(self.end.astimezone(zone)), zone)

    def previous(self) -> Period:
        zone = self.start.tzinfo
        assert isinstance(zone, ZoneInfo)
        return period_containing(self.start - timedelta(seconds=1), zone)


def _month_label(local: datetime) -> str:
    return f"{local.year:04d}-{local.month:02d}"


def month_period(label: str, zone: ZoneInfo) -> Period:
    match = _LABEL.fullmatch(label)
    if match is None:
        raise ValidationError(f"a period is a month 'YYYY-MM', not {label!r}")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= year <= 9998:
        raise ValidationError(f"a period's year must be between 0001 and 9998, not {year}")
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return Period(label=label, start=start, end=end)


def period_containing(instant: datetime, zone: ZoneInfo) -> Period:
    local = require_aware(instant, "instant").astimezone(zone)
    return month_period(_month_label(local), zone)
