"""Tax treatments and the rates table (docs/tax.md).

A client's treatment is one of: `custom` (the client's own percent, `clients.tax_rate`: what
a client without a tax profile gets), `standard` (the rate in force for the client's country
and region, from the rates table the operator maintains), `reverse_charge` (0, the note
"Reverse charge", both parties' tax ids printed; needs the client's tax id) or `exempt` (0,
with the reason printed). Tax is then computed as always: on the rounded subtotal, rounded
once half-even (invoices.tax_on).

Which standard rate applies: among the rates of the client's country whose effective date is
on or before the invoice's issue day, a rate for the client's region wins over the
country-wide one (region ""); among those, the latest effective date. No rate: TaxNotComputable,
never a silent 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from domain.billing.money import MAX_PERCENT_DECIMALS, bounded_decimal
from domain.errors import ValidationError
from domain.text import check_text

REVERSE_CHARGE_NOTE = "Reverse charge"


class TaxTreatment(StrEnum):
    CUSTOM = "custom"
    STANDARD = "standard"
    REVERSE_CHARGE = "reverse_charge"
    EXEMPT = "exempt"


class TaxNotComputable(ValidationError):
    """The client's treatment needs something missing (a rate for its country, a tax id)."""


def check_country(code: str) -> str:
    """ISO 3166-1 alpha-2: two letters, upper-cased."""
    text = code.strip().upper()
    if len(text) != 2 or not text.isascii() or not text.isalpha():
        raise ValidationError(f"a country is a two-letter ISO 3166-1 code, not {code[:20]!r}")
    return text


def check_region(region: str) -> str:
    return check_text(region.strip(), "a region", max_length=100)


def check_percent(value: Decimal | int | str, what: str = "a tax rate") -> Decimal:
    rate = bounded_decimal(value, places=MAX_PERCENT_DECIMALS, what=what)
    if rate > 100:
        raise ValidationError(f"{what} is a percent between 0 and 100")
    return rate


@dataclass(frozen=True, slots=True)
class TaxRate:
    country: str
    region: str  # "" for the whole country
    percent: Decimal
    effective_from: date

    def __post_init__(self) -> None:
        object.__setattr__(self, "country", check_country(self.country))
        object.__setattr__(self, "region", check_region(self.region))
        object.__setattr__(self, "percent", check_percent(self.percent))
        if isinstance(self.effective_from, datetime):
            raise ValidationError("a tax rate's effective date is a day, not an instant")


@dataclass(frozen=True, slots=True)
class ClientTaxProfile:
    client_id: str
    treatment: TaxTreatment
    exempt_reason: str | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        reason = self.exempt_reason
        if reason is not None:
            reason = check_text(reason.strip(), "an exemption reason", max_length=300) or None
        if self.treatment is TaxTreatment.EXEMPT and not reason:
            raise ValidationError("an exempt client needs the reason printed on its invoices")
        if self.treatment is not TaxTreatment.EXEMPT:
            reason = None
        object.__setattr__(self, "exempt_reason", reason)


@dataclass(frozen=True, slots=True)
class AppliedTax:
    treatment: TaxTreatment
    rate: Decimal
    note: str | None = None


def rate_in_force(rates: Iterable[TaxRate], country: str, region: str, on: date) -> TaxRate | None:
    """The region's own rate if one is in force, else the country-wide one; latest first."""
    candidates = [r for r in rates if r.country == country and r.effective_from <= on]
    regional = [r for r in candidates if region and r.region.casefold() == region.casefold()]
    national = [r for r in candidates if r.region == ""]
    pool = regional or national
    return max(pool, key=lambda r: r.effective_from) if pool else None


def applied_tax(
    profile: ClientTaxProfile | None,
    custom_rate: Decimal,
    *,
    country: str,
    region: str,
    client_tax_id: str | None,
    rates: Iterable[TaxRate],
    on: date,
) -> AppliedTax:
    """The rate and printed note for a client's invoice issued on `on`."""
    treatment = profile.treatment if profile is not None else TaxTreatment.CUSTOM
    if treatment is TaxTreatment.CUSTOM:
        return AppliedTax(treatment, custom_rate)
    if treatment is TaxTreatment.EXEMPT:
        reason = profile.exempt_reason if profile is not None else None
        return AppliedTax(treatment, Decimal(0), f"Tax exempt: {reason or 'unstated'}")
    if treatment is TaxTreatment.REVERSE_CHARGE:
        if not client_tax_id:
            raise TaxNotComputable(
                "reverse charge needs the client's tax id in its billing details"
            )
        return AppliedTax(treatment, Decimal(0), REVERSE_CHARGE_NOTE)
    if not country:
        raise TaxNotComputable("standard tax needs the client's country in its billing details")
    rate = rate_in_force(rates, country, region, on)
    if rate is None:
        where = f"{country}/{region}" if region else country
        raise TaxNotComputable(f"no tax rate for {where} in force on {on.isoformat()}")
    return AppliedTax(treatment, rate.percent)
