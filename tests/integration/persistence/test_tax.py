"""Tax treatments, billing details and the agency profile on SQLite and PostgreSQL: the store,
closing with each treatment (the details frozen on the invoice, later edits not changing
it), a standard client without a rate refused with an alert while the others close, the
exports balancing against the stored invoices, and a database of 0015 migrated unchanged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from adapters.persistence.database import create_engine
from adapters.persistence.migrate import upgrade
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, unit_of_work_factory
from domain.accounting.journal import unbalanced
from domain.alerting.alerts import AlertKind
from domain.billing.money import Money, exact_sum
from domain.billing.periods import month_period
from domain.billing.plans import FixedFee, PercentageMargin
from domain.errors import NotFound, ValidationError
from domain.invoicing.billing_details import (
    AgencyProfile,
    ClientBillingDetails,
    PostalAddress,
)
from domain.invoicing.tax import TaxTreatment
from domain.usecases.accounting import AccountingExports
from domain.usecases.invoicing import InvoiceUseCases
from domain.usecases.tax import TaxUseCases
from tests.fakes import FrozenClock
from tests.integration.persistence.old_invoices import finalized_by_hand, snapshot
from tests.integration.persistence.test_invoices import (
    AFTER_APRIL,
    APRIL_START,
    add_client,
    call,
)

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
AGENCY = AgencyProfile(
    "Berlin Agency GmbH",
    PostalAddress(("Hauptstr. 1",), "Berlin", "10115", "", "DE"),
    tax_id="DE123456789",
    bank_details="IBAN DE89 3704 0044 0532 0130 00",
    payment_terms_days=14,
    payment_terms_text="Net 14",
)


def details(
    client_id: str, country: str, tax_id: str | None = None, region: str = ""
) -> ClientBillingDetails:
    return ClientBillingDetails(
        client_id,
        f"Client {client_id[:6]} Ltd",
        PostalAddress(("1 Street",), "Town", "12345", region, country),
        tax_id,
        "PO-1",
    )


async def test_the_store_keeps_rates_profiles_details_and_the_agency(uow: UowFactory) -> None:
    clock = FrozenClock(AFTER_APRIL)
    tax = TaxUseCases(uow, clock)
    await tax.set_rate("de", "", "19", date(2021, 1, 1))
    await tax.set_rate("DE", "", "16", date(2020, 7, 1))
    await tax.set_rate("CA", "QC", "14.975", date(2013, 1, 1))
    await tax.set_rate("DE", "", "19.5", date(2021, 1, 1))  # replaces the one of that day
    assert [(r.country, r.region, r.percent) for r in await tax.rates()] == [
        ("CA", "QC", Decimal("14.975")),
        ("DE", "", Decimal("16")),
        ("DE", "", Decimal("19.5")),
    ]
    assert len(await tax.rates("DE")) == 2
    assert await tax.remove_rate("DE", "", date(2020, 7, 1))
    assert not await tax.remove_rate("DE", "", date(2020, 7, 1))
    client, _ = await add_client(uow, PercentageMargin(Decimal(0)), tax="7.5")
    start = await tax.client_tax(client)
    assert (start.treatment, start.custom_rate, start.details) == (
        TaxTreatment.CUSTOM,
        Decimal("7.5"),
        None,
    )
    with pytest.raises(ValidationError, match="tax id"):
        await tax.set_treatment(client, TaxTreatment.REVERSE_CHARGE)
    await tax.set_billing_details(details(client, "GB", "GB123"))
    done = await tax.set_treatment(client, TaxTreatment.REVERSE_CHARGE)
    assert done.treatment is TaxTreatment.REVERSE_CHARGE
    with pytest.raises(ValidationError, match="tax id"):
        await tax.set_billing_details(details(client, "GB"))
    again = await tax.client_tax(client)
    assert again.details is not None
    assert again.details.tax_id == "GB123"
    assert again.details.address.printed() == ("1 Street", "12345 Town", "GB")
    with pytest.raises(NotFound):
        await tax.set_billing_details(details("nobody", "GB"))
    assert await tax.agency() is None
    await tax.set_agency(AGENCY)
    stored = await tax.agency()
    assert stored is not None
    assert replace(stored, updated_at=None) == AGENCY


async def test_closing_freezes_each_treatment_onto_its_invoice(uow: UowFactory) -> None:
    clock = FrozenClock(AFTER_APRIL)
    tax = TaxUseCases(uow, clock)
    await tax.set_agency(AGENCY)
    await tax.set_rate("DE", "", "19", date(2021, 1, 1))
    await tax.set_rate("CA", "", "5", date(2008, 1, 1))
    await tax.set_rate("CA", "QC", "14.975", date(2013, 1, 1))
    ids = {}
    for name, country, region, treatment in [
        ("standard_de", "DE", "", TaxTreatment.STANDARD),
        ("standard_qc", "CA", "QC", TaxTreatment.STANDARD),
        ("reverse", "FR", "", TaxTreatment.REVERSE_CHARGE),
        ("exempt", "DE", "", TaxTreatment.EXEMPT),
        ("custom", "", "", None),
    ]:
        client, key = await add_client(uow, PercentageMargin(Decimal(0)), tax="20")
        await call(uow, client, key, APRIL_START + timedelta(days=2), "100.005")
        if country:
            await tax.set_billing_details(details(client, country, "FR999", region))
        if treatment is not None:
            await tax.set_treatment(
                client, treatment, "Charity" if treatment is TaxTreatment.EXEMPT else None
            )
        ids[name] = client
    invoicing = InvoiceUseCases(uow, clock)
    draft = await invoicing.draft(ids["standard_qc"], "2026-04")
    assert (draft.tax_rate, draft.tax) == (Decimal("14.975"), Money("14.98"))

    result = await invoicing.close_period("2026-04")

    assert result.refused == ()
    by_client = {i.client_id: i for i in result.created}
    expected = {
        "standard_de": (Decimal("19"), "19.00", TaxTreatment.STANDARD, None),
        "standard_qc": (Decimal("14.975"), "14.98", TaxTreatment.STANDARD, None),
        "reverse": (Decimal(0), "0.00", TaxTreatment.REVERSE_CHARGE, "Reverse charge"),
        "exempt": (Decimal(0), "0.00", TaxTreatment.EXEMPT, "Tax exempt: Charity"),
        "custom": (Decimal("20"), "20.00", TaxTreatment.CUSTOM, None),
    }
    for name, (rate, tax_amount, treatment, note) in expected.items():
        invoice = await invoicing.get(by_client[ids[name]].id)
        assert invoice.subtotal == Money("100.00")  # 100.005 half-even
        assert (invoice.tax_rate, invoice.tax) == (rate, Money(tax_amount))
        assert invoice.total == invoice.subtotal + invoice.tax
        assert invoice.issued is not None
        assert (invoice.issued.treatment, invoice.issued.note) == (treatment, note)
        assert invoice.issued.agency is not None
        assert invoice.issued.agency.tax_id == "DE123456789"
        assert invoice.due_at == invoice.issued_at + timedelta(days=14)  # the agency's terms
    reverse = await invoicing.get(by_client[ids["reverse"]].id)
    assert reverse.issued is not None
    assert reverse.issued.client is not None
    assert reverse.issued.client.tax_id == "FR999"
    # Later edits leave the issued invoice alone; the database refuses to change its snapshot.
    await tax.set_billing_details(details(ids["reverse"], "BE", "BE000"))
    await tax.set_agency(replace(AGENCY, legal_name="Renamed GmbH"))
    await tax.set_rate("DE", "", "21", date(2026, 5, 1))
    assert await invoicing.get(reverse.id) == reverse
    async with uow() as tx:
        with pytest.raises(DBAPIError):
            await tx.invoices._conn.execute(
                text("UPDATE invoice_issued_details SET note = 'x' WHERE invoice_id = :id"),
                {"id": reverse.id},
            )
    assert await invoicing.verify() == []

    exports = AccountingExports(uow)
    journal = await exports.invoices("2026-04")
    assert unbalanced(journal) == []
    receivable = exact_sum(
        *(line.debit - line.credit for line in journal if line.account == "1200")
    )
    assert receivable == exact_sum(*(i.total.amount for i in result.created))
    tax_payable = exact_sum(
        *(line.credit - line.debit for line in journal if line.account == "2200")
    )
    assert tax_payable == exact_sum(*(i.tax.amount for i in result.created)) == Decimal("53.98")
    ledger = await exports.ledger("2026-05")  # the invoices' entries, posted when issued
    assert unbalanced(ledger) == []
    posted_tax = exact_sum(*(line.credit - line.debit for line in ledger if line.account == "2200"))
    assert posted_tax == tax_payable


async def test_a_standard_client_without_a_rate_is_refused_with_an_alert(uow: UowFactory) -> None:
    clock = FrozenClock(AFTER_APRIL)
    tax = TaxUseCases(uow, clock)
    lost, lost_key = await add_client(uow, PercentageMargin(Decimal(0)))
    other, _ = await add_client(uow, FixedFee(Money("10.00")))
    await call(uow, lost, lost_key, APRIL_START + timedelta(days=1), "5")
    await tax.set_billing_details(details(lost, "FR"))
    await tax.set_treatment(lost, TaxTreatment.STANDARD)
    invoicing = InvoiceUseCases(uow, clock)
    with pytest.raises(ValidationError, match="no tax rate for FR"):
        await invoicing.draft(lost, "2026-04")

    result = await invoicing.close_period("2026-04")

    assert [i.client_id for i in result.created] == [other]
    assert [(r.client_id, r.reason) for r in result.refused] == [
        (lost, "no tax rate for FR in force on 2026-05-02")
    ]
    async with uow() as tx:
        alerts = await tx.alerts.recent()
    assert [(a.kind, a.client_id, a.details["client_id"]) for a in alerts] == [
        (AlertKind.INVOICE_REFUSED, None, lost)
    ]
    await invoicing.close_period("2026-04")  # refused again: still one alert
    async with uow() as tx:
        assert len(await tx.alerts.recent()) == 1
    await tax.set_rate("FR", "", "20", date(2014, 1, 1))
    [late] = (await invoicing.close_period("2026-04")).created
    assert (late.client_id, late.tax) == (lost, Money("1.00"))
    assert await invoicing.verify() == []


async def test_a_database_before_0016_migrates_with_its_invoices_unchanged(
    empty_database_url: str,
) -> None:
    """Data written by the repositories as they were before 0016 (clients with tax rates, a
    finalized invoice with its ledger entries), migrated: the same rows, the same invoice and
    totals, and the client keeps its custom percent on its next invoice."""
    # The revision just before 0016, so the repositories of today write it as they would have.
    await upgrade(empty_database_url, "0015")
    engine = create_engine(empty_database_url)
    uow = unit_of_work_factory(engine)
    zone = ZoneInfo("UTC")
    april = month_period("2026-04", zone)
    tables = ("clients", "invoices", "invoice_lines", "ledger_entries", "usage_records")
    try:
        client, key = await add_client(uow, PercentageMargin(Decimal(10)), tax="19.5")
        await add_client(uow, PercentageMargin(Decimal(0)), tax="0")  # idle, no invoice
        await call(uow, client, key, APRIL_START + timedelta(days=3), "10.125")
        await call(uow, client, key, APRIL_START + timedelta(days=4), "2.5", model="m/b")
        # what closing wrote before 0016, step by step
        old = await finalized_by_hand(uow, client, april, zone, Decimal("19.5"))
        before = await snapshot(empty_database_url, tables)

        await upgrade(empty_database_url)

        after = await snapshot(empty_database_url, tables)
        assert after == before
        clock = FrozenClock(AFTER_APRIL)
        invoicing = InvoiceUseCases(uow, clock, zone)
        stored = await invoicing.get(old.id)
        assert stored == old  # issued None: it renders as before
        assert (stored.subtotal, stored.tax, stored.total) == (
            Money("12.62"),
            Money("2.46"),
            Money("15.08"),
        )
        assert await invoicing.verify() == []
        assert (await TaxUseCases(uow, clock).client_tax(client)).treatment is TaxTreatment.CUSTOM
        await call(uow, client, key, APRIL_START + timedelta(days=35), "10")
        clock.set(datetime(2026, 6, 2, tzinfo=UTC))
        [may] = (await invoicing.close_period("2026-05")).created
        assert (may.tax_rate, may.tax) == (Decimal("19.5"), Money("1.95"))
        assert await invoicing.verify() == []
    finally:
        await engine.dispose()
