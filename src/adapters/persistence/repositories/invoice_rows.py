"""Rows of the invoice tables <-> domain objects; stored invoice amounts read back in whole
minor units (0.50, not 0.5)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping

from domain.billing.money import Money, round_to_minor
from domain.billing.periods import Period
from domain.invoicing.invoices import (
    BillingDetails,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    UsageGroup,
)
from domain.metering.tokens import TokenUsage
from domain.metering.usage import UsageRecord

TOKENS = ("input", "output", "cached_input", "cache_write", "reasoning")


def cents(amount: Decimal, currency: str) -> Money:
    """A stored invoice amount as written: in whole minor units (0.50, not 0.5)."""
    return Money(round_to_minor(amount, currency), currency)


def tokens_of(row: RowMapping) -> TokenUsage:
    return TokenUsage(*(int(row[f"{name}_tokens"]) for name in TOKENS))


def token_values(tokens: TokenUsage) -> dict[str, int]:
    return {
        "input_tokens": tokens.input_tokens,
        "output_tokens": tokens.output_tokens,
        "cached_input_tokens": tokens.cached_input_tokens,
        "cache_write_tokens": tokens.cache_write_tokens,
        "reasoning_tokens": tokens.reasoning_tokens,
    }


def line_row(invoice_id: str, line: InvoiceLine) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "position": line.position,
        "kind": line.kind.value,
        "description": line.description,
        "model_id": line.model_id,
        "usage_period": line.usage_period,
        "requests": line.requests,
        **token_values(line.tokens),
        "amount": line.amount.amount,
        "exact_amount": line.exact_amount,
    }


def line_of(row: RowMapping, currency: str) -> InvoiceLine:
    return InvoiceLine(
        position=row["position"],
        kind=LineKind(row["kind"]),
        description=row["description"],
        amount=cents(row["amount"], currency),
        exact_amount=row["exact_amount"],
        model_id=row["model_id"],
        usage_period=row["usage_period"],
        requests=row["requests"],
        tokens=tokens_of(row),
    )


def invoice_of(row: RowMapping, lines: Sequence[InvoiceLine]) -> Invoice:
    currency = row["currency"]
    return Invoice(
        id=row["id"],
        client_id=row["client_id"],
        period=Period(row["period"], row["period_start"], row["period_end"]),
        number=row["number"],
        status=InvoiceStatus(row["status"]),
        currency=currency,
        tax_rate=row["tax_rate"],
        lines=tuple(lines),
        subtotal=cents(row["subtotal"], currency),
        tax=cents(row["tax"], currency),
        total=cents(row["total"], currency),
        issued_at=row["issued_at"],
        due_at=row["due_at"],
        bill_to=BillingDetails(row["bill_to_name"], row["bill_to_email"]),
        early=row["early"],
        paid_at=row["paid_at"],
        voided_at=row["voided_at"],
        void_reason=row["void_reason"],
    )


def note_of(row: RowMapping) -> CreditNote:
    return CreditNote(
        id=row["id"],
        invoice_id=row["invoice_id"],
        client_id=row["client_id"],
        number=row["number"],
        amount=cents(row["amount"], row["currency"]),
        reason=row["reason"],
        issued_at=row["issued_at"],
    )


def grouped(label: str, records: Sequence[UsageRecord]) -> list[UsageGroup]:
    groups: dict[tuple[str, bool], UsageGroup] = {}
    for r in records:
        seen = groups.get((r.model_id, r.byok))
        groups[(r.model_id, r.byok)] = UsageGroup.of(label, r) if seen is None else seen.plus(r)
    return [groups[key] for key in sorted(groups)]
