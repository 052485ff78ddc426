"""Column types that keep money exact and instants aware on both SQLite and PostgreSQL.

PostgreSQL stores amounts as `NUMERIC(38, 18)` and instants as `TIMESTAMP WITH TIME ZONE`.
SQLite has neither: amounts are stored as fixed-point TEXT (a NUMERIC column would let SQLite turn
them into floats) and instants as UTC text with microseconds, which sorts chronologically.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = 18
PRECISION = 38
INTEGER_DIGITS = PRECISION - SCALE
_WIDE = Context(prec=PRECISION * 2)


def canonical(value: Decimal) -> Decimal:
    """The same number without trailing fractional zeros, and with no positive exponent
    (100, not 1E+2), so it reads as it was written."""
    normal = value.normalize(_WIDE)
    exponent = normal.as_tuple().exponent
    assert isinstance(exponent, int)
    return normal.quantize(Decimal(1), context=_WIDE) if exponent > 0 else normal


def check_storable(value: object, scale: int = SCALE, precision: int = PRECISION) -> Decimal:
    """Refuse what the column cannot hold exactly, instead of letting a backend round it."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"exact amounts must be Decimal or int, not {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite amount: {number}")
    number = canonical(number)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > scale:
        raise ValueError(f"{number} has more than {scale} decimals and would be rounded")
    if number.adjusted() >= precision - scale:
        raise ValueError(f"{number} has more than {precision - scale} integer digits")
    return number


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal with up to 20 integer digits and 18 decimals; never a float."""

    precision, scale = PRECISION, SCALE
    impl = Numeric(PRECISION, SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = check_storable(value, self.scale, self.precision)
        return format(number, "f") if dialect.name == "sqlite" else number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("an exact decimal column returned a float")
        return canonical(Decimal(value))


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant stored in UTC; naive datetimes are refused on write."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"instants must be datetimes, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes are refused: store timezone-aware instants")
        utc = value.astimezone(UTC)
        # SQLite's DATETIME text format has no offset: store the UTC wall time.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


WIDE_SCALE = 30
WIDE_PRECISION = 60


class WideExactDecimal(ExactDecimal):
    """An exact decimal with up to 30 decimals: a converted amount (a charge of up to 18
    decimals times an exchange rate of up to 12, docs/currencies.md), never rounded."""

    precision, scale = WIDE_PRECISION, WIDE_SCALE
    impl = Numeric(WIDE_PRECISION, WIDE_SCALE, asdecimal=True)
    cache_ok = True
