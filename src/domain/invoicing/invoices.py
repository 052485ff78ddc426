"""Invoices: a client's bill for one billing period, computed from the usage behind it.

Lines are rounded once (ROUND_HALF_EVEN, to the currency's minor unit): one usage line per model
(the exact sum of its calls' charges), one prior-period line per earlier month and model for
usage recorded after its period was invoiced, one line per prorated fixed amount. Subtotal = sum
of the rounded lines; tax = subtotal x rate / 100, rounded; total = subtotal + tax.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.billing.exchange import ExchangeRate
from domain.billing.money import EXACT, Money, round_to_minor, sum_money
from domain.billing.periods import Period, period_containing
from domain.billing.plans import FixedCharge, PlanKind
from domain.errors import ValidationError
from domain.invoicing.billing_details import IssuedDetails
from domain.invoicing.tax import TaxTreatment
from domain.metering.estimate_settlements import EstimateSettlement, describe
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord
from domain.text import check_text


class InvoiceStatus(StrEnum):
    DRAFT = "draft"  # only inside the closing transaction
    FINALIZED = "finalized"
    PAID = "paid"
    VOID = "void"


class LineKind(StrEnum):
    USAGE = "usage"
    PRIOR_USAGE = "prior_usage"  # usage of an earlier period recorded after it was invoiced
    FIXED_FEE = "fixed_fee"
    FIXED_PRICE = "fixed_price"
    CREDIT = "credit"  # an account credit applied to this invoice (negative)
    BYOK_USAGE = "byok_usage"  # calls with the client's own key: the BYOK fee (docs/byok.md)
    SETTLEMENT = "settlement"  # an estimated call billed at the provider's figure (reconciliation)


@dataclass(frozen=True, slots=True)
class UsageGroup:
    """Usage records of one model that started in one billing period, summed exactly."""

    period_label: str
    model_id: str
    requests: int
    tokens: TokenUsage
    charge: Money  # exact
    byok: bool = False  # made with the client's own key: `charge` is the BYOK fee
    list_cost: Money | None = None  # BYOK: what the provider billed the client, exact
    # Converted into the invoice's currency (docs/currencies.md): the exact sum before.
    source: Money | None = None

    def plus(self, record: UsageRecord) -> UsageGroup:
        """This group with one more record of the same model and kind."""
        list_cost = self.list_cost
        if record.list_cost is not None:
            list_cost = record.list_cost if list_cost is None else list_cost + record.list_cost
        return replace(
            self,
            requests=self.requests + 1,
            tokens=self.tokens + record.usage,
            charge=self.charge + record.charge,
            list_cost=list_cost,
        )

    @classmethod
    def of(cls, label: str, record: UsageRecord) -> UsageGroup:
        return cls(
            label,
            record.model_id,
            1,
            record.usage,
            record.charge,
            record.byok,
            record.list_cost,
        )


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    position: int
    kind: LineKind
    description: str
    amount: Money  # rounded to the minor unit
    exact_amount: Decimal  # what was rounded (kept for audit)
    model_id: str | None = None
    usage_period: str | None = None  # the month the usage started in (usage lines)
    requests: int = 0
    tokens: TokenUsage = field(default_factory=TokenUsage)
    # A usage line converted from the price's currency (docs/currencies.md): the exact amount
    # before conversion; `exact_amount` is then the exact converted sum that was rounded.
    source: Money | None = None


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Money
    tax: Money
    total: Money


def tax_on(subtotal: Money, rate_percent: Decimal) -> Money:
    exact = EXACT.divide(EXACT.multiply(subtotal.amount, rate_percent), Decimal(100))
    return Money(round_to_minor(exact, subtotal.currency), subtotal.currency)


def totals(lines: Sequence[InvoiceLine], rate_percent: Decimal, currency: str) -> Totals:
    subtotal = sum_money([line.amount for line in lines], currency)
    tax = tax_on(subtotal, rate_percent)
    return Totals(subtotal, tax, subtotal + tax)


def group_usage(records: Iterable[UsageRecord], zone: ZoneInfo) -> list[UsageGroup]:
    """Records summed exactly per (month they started in, model)."""
    groups: dict[tuple[str, str, bool], UsageGroup] = {}
    for record in records:
        label = period_containing(record.started_at, zone).label
        key = (label, record.model_id, record.byok)
        seen = groups.get(key)
        groups[key] = UsageGroup.of(label, record) if seen is None else seen.plus(record)
    return list(groups.values())


def _usage_line(group: UsageGroup, period: Period) -> InvoiceLine:
    prior = group.period_label != period.label
    kind = LineKind.PRIOR_USAGE if prior else LineKind.USAGE
    label = f"{group.model_id} usage" + (f" ({group.period_label}, late)" if prior else "")
    if group.byok:
        kind = LineKind.BYOK_USAGE
        listed = (group.list_cost or Money.zero(group.charge.currency)).rounded()
        label = (
            f"{group.model_id} with your own key"
            + (f" ({group.period_label}, late)" if prior else "")
            + f": paid to your provider directly: list cost {listed}; our fee"
        )
    return InvoiceLine(
        position=0,
        kind=kind,
        description=label,
        amount=group.charge.rounded(),
        exact_amount=group.charge.amount,
        model_id=group.model_id,
        usage_period=group.period_label,
        requests=group.requests,
        tokens=group.tokens,
        source=group.source,
    )


def _fixed_line(charge: FixedCharge) -> InvoiceLine:
    kind = LineKind.FIXED_PRICE if charge.kind is PlanKind.FIXED_PRICE else LineKind.FIXED_FEE
    what = "Fixed price" if kind is LineKind.FIXED_PRICE else "Monthly fee"
    span = f"{charge.start.date().isoformat()} to {charge.end.date().isoformat()}"
    return InvoiceLine(
        position=0,
        kind=kind,
        description=f"{what} {charge.full_amount}, {span}",
        amount=charge.amount,
        exact_amount=charge.amount.amount,
    )


def _settlement_line(settlement: EstimateSettlement, currency: str) -> InvoiceLine:
    if settlement.amount.currency != currency:
        raise ValidationError(f"a {settlement.amount.currency} settlement on a {currency} invoice")
    return InvoiceLine(
        position=0,
        kind=LineKind.SETTLEMENT,
        description=describe(settlement),
        amount=settlement.amount,
        exact_amount=settlement.amount.amount,
        model_id=settlement.record.model_id,
        requests=1,
        tokens=settlement.actual,
    )


def compose_lines(
    period: Period,
    usage: Iterable[UsageGroup],
    fixed: Iterable[FixedCharge],
    currency: str,
    settled: Iterable[EstimateSettlement] = (),
) -> list[InvoiceLine]:
    """The invoice's lines, numbered from 1: this period's usage per model, then earlier
    periods' late usage (oldest first), then the fixed amounts, then the estimated calls billed
    at the provider's figure since the last invoice (docs/reconciliation.md)."""
    groups = list(usage)
    for group in groups:
        if group.charge.currency != currency:
            raise ValidationError(f"usage in {group.charge.currency} on a {currency} invoice")
    groups.sort(key=lambda g: (g.period_label != period.label, g.period_label, g.byok, g.model_id))
    lines = [_usage_line(g, period) for g in groups] + [_fixed_line(f) for f in fixed]
    lines += [_settlement_line(s, currency) for s in settled]
    return [replace(line, position=i) for i, line in enumerate(lines, start=1)]


@dataclass(frozen=True, slots=True)
class AccountCredit:
    """Credit granted to a client, applied as negative lines on its next invoices."""

    id: str
    client_id: str
    amount: Money  # in whole minor units
    reason: str
    granted_at: datetime
    remaining: Money  # what no live invoice has used yet


@dataclass(frozen=True, slots=True)
class CreditUse:
    credit_id: str
    amount: Money


def apply_credits(
    lines: Sequence[InvoiceLine], credits: Sequence[AccountCredit], currency: str
) -> tuple[list[InvoiceLine], list[CreditUse]]:
    """Credits oldest first, each as a negative line, never taking the subtotal below zero
    (what a credit cannot use now stays for the next invoice)."""
    left = sum_money([line.amount for line in lines], currency)
    result, uses = list(lines), []
    for credit in sorted(credits, key=lambda c: (c.granted_at, c.id)):
        if left.amount <= 0:
            break
        if credit.remaining.currency != currency:
            raise ValidationError(f"a {credit.remaining.currency} credit on a {currency} invoice")
        used = credit.remaining if credit.remaining <= left else left
        if used.amount <= 0:
            continue
        left = left - used
        uses.append(CreditUse(credit.id, used))
        result.append(
            InvoiceLine(
                position=len(result) + 1,
                kind=LineKind.CREDIT,
                description=f"Credit: {credit.reason}",
                amount=-used,
                exact_amount=-used.amount,
            )
        )
    return result, uses


def owes_nothing(lines: Sequence[InvoiceLine]) -> bool:
    """A client that owes nothing for a period gets no invoice (product.md)."""
    return all(line.amount.amount == 0 for line in lines)


@dataclass(frozen=True, slots=True)
class BillingDetails:
    name: str
    email: str | None


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    client_id: str
    period: Period
    number: str
    status: InvoiceStatus
    currency: str
    tax_rate: Decimal
    lines: tuple[InvoiceLine, ...]
    subtotal: Money
    tax: Money
    total: Money
    issued_at: datetime
    due_at: datetime
    bill_to: BillingDetails
    early: bool = False
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    void_reason: str | None = None
    # Tax treatment and both parties' billing details frozen at finalization (docs/tax.md);
    # None for invoices finalized before they existed (custom percent, name and email only).
    issued: IssuedDetails | None = None
    # The exchange rates its converted lines used, frozen at finalization (docs/currencies.md).
    rates: tuple[ExchangeRate, ...] = ()


@dataclass(frozen=True, slots=True)
class DraftInvoice:
    """What closing the period would bill the client now (nothing is stored or numbered)."""

    client_id: str
    period: Period
    currency: str
    tax_rate: Decimal
    lines: tuple[InvoiceLine, ...]
    subtotal: Money
    tax: Money
    total: Money
    treatment: TaxTreatment = TaxTreatment.CUSTOM
    tax_note: str | None = None
    rates: tuple[ExchangeRate, ...] = ()  # the exchange rates its converted lines use


@dataclass(frozen=True, slots=True)
class CreditNote:
    id: str
    invoice_id: str
    client_id: str
    number: str
    amount: Money
    reason: str
    issued_at: datetime


def document_number(prefix: str, year: int, sequence: int) -> str:
    """INV-2026-0042: the year of issue and a gap-free sequence per agency and year."""
    return f"{prefix}-{year:04d}-{sequence:04d}"


def check_reason(reason: str, what: str) -> str:
    text = check_text(reason.strip(), f"{what} reason", max_length=500, multiline=True)
    if not text:
        raise ValidationError(f"{what} needs a reason")
    if len(text) > 500:
        raise ValidationError(f"{what} reason has at most 500 characters")
    return text
