"""Accounting exports: every journal entry balances, receivables equal the invoices' totals
and tax payable their tax to the minor unit, the ledger journal balances per entry, and the
chart of accounts is configurable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.accounting.chart import ChartOfAccounts, parse_chart
from domain.accounting.journal import (
    JournalLine,
    invoices_journal,
    ledger_journal,
    tax_code,
    unbalanced,
)
from domain.billing.money import Money, exact_sum
from domain.errors import ValidationError
from domain.invoicing.invoices import InvoiceLine, InvoiceStatus, LineKind, totals
from domain.invoicing.ledger import EntryKind, LedgerEntry
from domain.invoicing.postings import finalization_entries, payment_entry, void_entry
from domain.invoicing.tax import TaxTreatment
from tests.unit.domain.strategies import PROPERTY
from tests.unit.domain.tax_builders import taxed_invoice

CHART = ChartOfAccounts()


def _sum(lines: list[JournalLine], account: str, side: str) -> Decimal:
    return exact_sum(*(getattr(line, side) for line in lines if line.account == account))


@PROPERTY
@given(
    specs=st.lists(
        st.tuples(
            st.sampled_from(list(TaxTreatment)),
            st.lists(
                st.integers(min_value=0, max_value=10**11).map(
                    lambda n: str(Decimal(n).scaleb(-6))
                ),
                min_size=1,
                max_size=5,
            ),
            st.sampled_from(list(InvoiceStatus)[1:]),
        ),
        min_size=1,
        max_size=6,
    ),
    currency=st.sampled_from(["JPY", "EUR", "KWD"]),
)
def test_invoice_entries_balance_and_match_the_invoices_to_the_minor_unit(
    specs: list[tuple[TaxTreatment, list[str], InvoiceStatus]], currency: str
) -> None:
    invoices = [
        taxed_invoice(t, amounts, currency, number=f"INV-2026-{i:04d}", status=status)
        for i, (t, amounts, status) in enumerate(specs, start=1)
    ]
    lines = invoices_journal(invoices, CHART, {"c-1": "Client"})
    assert unbalanced(lines) == []
    live = [i for i in invoices if i.status is not InvoiceStatus.VOID]
    receivable = exact_sum(*(line.debit - line.credit for line in lines if line.account == "1200"))
    assert receivable == exact_sum(*(i.total.amount for i in live))
    tax = _sum(lines, "2200", "credit") - _sum(lines, "2200", "debit")
    assert tax == exact_sum(*(i.tax.amount for i in live))
    revenue = exact_sum(*(line.credit - line.debit for line in lines if line.account == "4000"))
    assert revenue == exact_sum(*(i.subtotal.amount for i in live))
    for line in lines:
        assert line.debit >= 0
        assert line.credit >= 0
        assert line.head.currency == currency


def test_reverse_charge_entry_carries_no_tax_the_note_and_both_tax_ids() -> None:
    invoice = taxed_invoice(TaxTreatment.REVERSE_CHARGE)
    lines = invoices_journal([invoice], CHART, {})
    assert {line.account for line in lines} == {"1200", "4000"}  # no tax line at 0
    head = lines[0].head
    assert (head.tax_code, head.tax_note) == ("RC", "Reverse charge")
    assert (head.client_tax_id, head.seller_tax_id) == ("GB987654321", "DE123456789")
    assert tax_code(taxed_invoice(TaxTreatment.STANDARD)) == "S19"
    assert tax_code(taxed_invoice(TaxTreatment.EXEMPT)) == "EX"
    assert tax_code(taxed_invoice(TaxTreatment.CUSTOM, custom_rate=Decimal("7.50"))) == "C7.5"


def test_ledger_journal_balances_per_entry_and_splits_tax_out() -> None:
    invoice = taxed_invoice(TaxTreatment.STANDARD, ("10.004", "5.0"))
    usage = [
        LedgerEntry(
            f"u{i}", "c-1", EntryKind.USAGE_CHARGE, Money(amount), invoice.issued_at, f"r{i}"
        )
        for i, amount in enumerate(("10.004", "5.0"))
    ]
    paid_at = datetime(2026, 5, 20, tzinfo=UTC)
    entries = [
        *usage,
        *finalization_entries(invoice),
        payment_entry(invoice, paid_at),
        void_entry(invoice, paid_at),
    ]
    lines = ledger_journal(entries, CHART, [invoice], {"c-1": "Client"})
    assert unbalanced(lines) == []
    assert {line.head.entry for line in lines} == {e.id for e in entries}
    tax = _sum(lines, "2200", "credit") - _sum(lines, "2200", "debit")
    assert tax == 0  # posted by the invoice, reversed by the void
    invoice_only = ledger_journal(finalization_entries(invoice), CHART, [invoice], {})
    assert _sum(invoice_only, "2200", "credit") == invoice.tax.amount == Decimal("2.85")
    bank = _sum(lines, "1000", "debit")
    assert bank == invoice.total.amount


def test_a_void_in_the_ledger_journal_reverses_fixed_lines_to_their_own_accounts() -> None:
    invoice = taxed_invoice(TaxTreatment.CUSTOM, ("3.333",))
    fee = InvoiceLine(2, LineKind.FIXED_FEE, "Monthly fee", Money("100.00"), Decimal("100.00"))
    credit = InvoiceLine(3, LineKind.CREDIT, "Credit: sorry", Money("-10.00"), Decimal("-10.00"))
    lines_ = (*invoice.lines, fee, credit)
    sums = totals(lines_, invoice.tax_rate, "USD")
    invoice = replace(invoice, lines=lines_, subtotal=sums.subtotal, tax=sums.tax, total=sums.total)
    at = datetime(2026, 5, 20, tzinfo=UTC)
    posted = ledger_journal(finalization_entries(invoice), CHART, [invoice], {})
    voided = ledger_journal([void_entry(invoice, at)], CHART, [invoice], {})
    assert unbalanced(posted + voided) == []
    for account in ("4010", "4090", "2200", "4000", "1200"):
        net = _sum(posted + voided, account, "debit") - _sum(posted + voided, account, "credit")
        assert net == 0, account
    assert _sum(posted, "4010", "credit") == Decimal("100.00")
    assert _sum(posted, "4090", "debit") == Decimal("10.00")


def test_chart_of_accounts_is_configurable() -> None:
    chart = parse_chart("receivables=1400, tax=1776,model:openai/gpt-4o=8401,usage=8400")
    assert (chart.receivables, chart.tax, chart.usage, chart.bank) == (
        "1400",
        "1776",
        "8400",
        "1000",
    )
    assert chart.usage_account("openai/gpt-4o") == "8401"
    assert chart.usage_account("other") == "8400"
    assert parse_chart("") == ChartOfAccounts()
    for bad in ("receivables", "nope=1", "tax=", "tax=" + "9" * 21):
        with pytest.raises(ValidationError):
            parse_chart(bad)


def test_every_ledger_entry_kind_has_its_account() -> None:
    """A refund or a chargeback through the payment processor is money that left the bank:
    the client owes it again (it used to stop the ledger export)."""
    at = datetime(2026, 5, 20, tzinfo=UTC)
    entries = [
        LedgerEntry(f"e-{kind.value}", "c-1", kind, Money("12.34"), at, f"ref-{kind.value}")
        for kind in EntryKind
        if kind is not EntryKind.INVOICE  # posted against its invoice (tests above)
    ]

    lines = ledger_journal(entries, CHART, [], {})

    assert unbalanced(lines) == []
    credited = {line.head.entry: line.account for line in lines if line.credit}
    assert credited["e-refund"] == credited["e-dispute"] == CHART.bank
    assert credited["e-usage_charge"] == CHART.usage


def test_usage_of_every_kind_is_revenue_per_model_and_a_void_reverses_it() -> None:
    """BYOK fees and settled estimates billed are usage revenue of their model, not credits
    (they were booked to the credits account before)."""
    invoice = taxed_invoice(TaxTreatment.CUSTOM, ("3.333",))
    byok = InvoiceLine(
        2, LineKind.BYOK_USAGE, "m with your own key", Money("1.25"), Decimal("1.2499"), "m/b"
    )
    settled = InvoiceLine(
        3, LineKind.SETTLEMENT, "Settled estimate", Money("0.40"), Decimal("0.40"), "m/b"
    )
    lines_ = (*invoice.lines, byok, settled)
    sums = totals(lines_, invoice.tax_rate, "USD")
    invoice = replace(invoice, lines=lines_, subtotal=sums.subtotal, tax=sums.tax, total=sums.total)
    chart = parse_chart("model:m/b=4005")
    at = datetime(2026, 5, 20, tzinfo=UTC)

    issued = invoices_journal([invoice], chart, {})
    posted = ledger_journal(finalization_entries(invoice), chart, [invoice], {})
    voided = ledger_journal([void_entry(invoice, at)], chart, [invoice], {})

    assert _sum(issued, "4005", "credit") == Decimal("1.65")
    assert _sum(issued, "4090", "credit") == 0
    assert _sum(posted, "4005", "credit") == Decimal("0.40")  # the settled line's fee entry
    assert unbalanced(posted + voided) == []
    net = _sum(posted + voided, "4005", "debit") - _sum(posted + voided, "4005", "credit")
    assert net == 0
    assert _sum(posted + voided, "4090", "debit") == _sum(posted + voided, "4090", "credit")
