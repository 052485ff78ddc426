"""Option values the commands share, parsed into domain values with a one-line error: pricing
plans, decimal amounts and instants."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from api.cli.running import CliError
from domain.billing.money import Money, input_decimal
from domain.billing.plans import FixedFee, FixedPrice, PercentageMargin, PricingPlan


def pricing_plan(
    margin: str | None, monthly_fee: str | None, monthly_price: str | None, currency: str
) -> PricingPlan:
    given = [v for v in (margin, monthly_fee, monthly_price) if v is not None]
    if len(given) != 1:
        raise CliError("give exactly one of --margin, --monthly-fee, --monthly-price")
    if margin is not None:
        return PercentageMargin(decimal_option(margin, "--margin"))
    if monthly_fee is not None:
        return FixedFee(Money(decimal_option(monthly_fee, "--monthly-fee"), currency))
    assert monthly_price is not None
    return FixedPrice(Money(decimal_option(monthly_price, "--monthly-price"), currency))


def decimal_option(value: str, option: str) -> Decimal:
    """Parsed by the same helper as GraphQL's inputs: too large or too precise to store is a
    one-line error (InvalidAmount) and exit status 1."""
    try:
        Decimal(value)
    except InvalidOperation:
        raise CliError(f"{option} must be a decimal number, not {value!r}") from None
    return input_decimal(value, what=option)


def instant_option(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option} must be an ISO 8601 instant, not {value!r}") from None
    if parsed.tzinfo is None:
        raise CliError(f"{option} needs a time zone offset, e.g. 2026-01-01T00:00:00+00:00")
    return parsed


Margin = Annotated[str | None, typer.Option(help="percentage_margin: percent on top of cost.")]


Fee = Annotated[str | None, typer.Option(help="fixed_fee: monthly fee on top of cost.")]


Price = Annotated[str | None, typer.Option(help="fixed_price: monthly price, usage included.")]
