"""Invoice emails and dunning rules: addresses that cannot smuggle a header, the message a
client gets, and reminders (each configured day once, whatever the job's timing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.notifications.invoice_mail import build_message
from api.settings_sections import read_delivery
from api.settings_values import SettingsError
from domain.billing.money import Money
from domain.billing.periods import month_period
from domain.delivery.dunning import (
    DunningPolicy,
    days_overdue,
    reminder_due,
    suspension_due,
    warning_due,
)
from domain.delivery.messages import InvoiceEmail, check_address, compose, header_text
from domain.delivery.outbox import MailKind
from domain.errors import ValidationError
from domain.invoicing.invoices import BillingDetails, Invoice, InvoiceStatus

DUE = datetime(2026, 6, 1, tzinfo=UTC)


def invoice(**changes: Any) -> Invoice:
    values: dict[str, Any] = {
        "id": "inv-1",
        "client_id": "c-1",
        "period": month_period("2026-04", ZoneInfo("UTC")),
        "number": "INV-2026-0007",
        "status": InvoiceStatus.FINALIZED,
        "currency": "USD",
        "tax_rate": Decimal(0),
        "lines": (),
        "subtotal": Money("120.50"),
        "tax": Money("0.00"),
        "total": Money("120.50"),
        "issued_at": DUE - timedelta(days=30),
        "due_at": DUE,
        "bill_to": BillingDetails("Acme", "ap@acme.test"),
    }
    return Invoice(**(values | changes))


@pytest.mark.parametrize(
    "address",
    [
        "ap@acme.test\r\nBcc: spy@evil.test",
        "ap@acme.test\nBcc: spy@evil.test",
        "Acme <ap@acme.test>",
        "ap@acme.test, spy@evil.test",
        "ap@acme",
        "@acme.test",
        "ap@@acme.test",
        "ap@acme..test",
        "a" * 320 + "@acme.test",
    ],
)
def test_an_address_is_one_plain_address(address: str) -> None:
    with pytest.raises(ValidationError):
        check_address(address)


def test_header_text_has_no_line_breaks() -> None:
    assert header_text("Agency\r\nBcc: spy@evil.test") == "Agency Bcc: spy@evil.test"


def test_the_message_carries_amount_due_date_pay_link_and_the_pdf() -> None:
    subject, text, html = compose(
        MailKind.INVOICE, invoice(), "Agency\r\nBcc: x@y.test", "https://pay.test/i?a=1&b=<2>"
    )
    assert "\n" not in subject
    assert "INV-2026-0007" in subject
    assert "Amount due: 120.50 USD" in text
    assert "Due date: 2026-06-01" in text
    assert "https://pay.test/i?a=1&b=<2>" in text
    assert "&lt;2&gt;" in html
    assert "<2>" not in html
    email = InvoiceEmail("ap@acme.test", subject, text, html, "INV-2026-0007.pdf", b"%PDF-1.4")
    built = build_message(email, "billing@agency.test")
    parsed = message_from_bytes(built.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["To"] == "ap@acme.test"
    assert parsed.get_all("Bcc") is None
    [attachment] = list(parsed.iter_attachments())
    assert isinstance(attachment, EmailMessage)
    assert attachment.get_content() == b"%PDF-1.4"
    assert attachment.get_filename() == "INV-2026-0007.pdf"


def test_a_message_to_a_forged_recipient_is_not_built() -> None:
    email = InvoiceEmail("ap@acme.test\r\nBcc: spy@evil.test", "s", "t", "<p>h</p>", "a.pdf", b"")
    with pytest.raises(ValidationError):
        build_message(email, "billing@agency.test")


def test_no_pay_link_no_pay_line() -> None:
    _, text, html = compose(MailKind.REMINDER, invoice(), "Agency", None, days_overdue=10)
    assert "Pay online" not in text
    assert "Pay online" not in html
    assert "10 days past its due date" in text


@given(
    days=st.lists(st.integers(0, 60), min_size=1, max_size=5, unique=True).map(sorted),
    runs=st.lists(st.floats(0, 90, allow_nan=False), min_size=1, max_size=60),
)
def test_each_reminder_day_is_sent_at_most_once_and_never_early(
    days: list[int], runs: list[float]
) -> None:
    """The job may run at any times, many times: a reminder key is queued once (the outbox
    keeps one row per key) and never before its day."""
    rule = DunningPolicy(reminder_days=tuple(days))
    queued: dict[int, float] = {}
    for at in sorted(runs):
        late = days_overdue(invoice(), DUE + timedelta(days=at))
        day = reminder_due(rule, late)
        if day is not None:
            queued.setdefault(day, at)
    assert all(day in days and at >= day for day, at in queued.items())


@given(days=st.lists(st.integers(0, 60), min_size=1, max_size=5, unique=True).map(sorted))
def test_a_daily_job_sends_every_reminder_day(days: list[int]) -> None:
    rule = DunningPolicy(reminder_days=tuple(days))
    sent = {
        day
        for at in range(91)
        if (day := reminder_due(rule, days_overdue(invoice(), DUE + timedelta(days=at, hours=1))))
        is not None
    }
    assert sent == set(days)


def test_the_warning_comes_before_the_suspension() -> None:
    rule = DunningPolicy(reminder_days=(), suspend_after_days=14, warn_days_before=3)
    assert [d for d in range(20) if warning_due(rule, d)] == [11, 12, 13]
    assert [d for d in range(20) if suspension_due(rule, d)] == list(range(14, 20))
    assert not any(suspension_due(DunningPolicy(), d) for d in range(1000))


def test_delivery_settings() -> None:
    assert read_delivery({}).reminder_days == (3, 10, 30)
    assert read_delivery({}).suspend_after_days is None
    given = read_delivery(
        {
            "BIZGRAPH_INVOICE_EMAIL": "off",
            "BIZGRAPH_DUNNING_REMINDER_DAYS": "10, 3",
            "BIZGRAPH_DUNNING_SUSPEND_AFTER_DAYS": "45",
        }
    )
    assert (given.invoice_email.value, given.reminder_days, given.suspend_after_days) == (
        "off",
        (3, 10),
        45,
    )
    assert read_delivery({"BIZGRAPH_DUNNING_REMINDER_DAYS": "off"}).reminder_days == ()
    for bad in [
        {"BIZGRAPH_INVOICE_EMAIL": "sometimes"},
        {"BIZGRAPH_DUNNING_REMINDER_DAYS": "3,x"},
        {"BIZGRAPH_DUNNING_REMINDER_DAYS": "-1"},
        {"BIZGRAPH_DUNNING_SUSPEND_AFTER_DAYS": "0"},
    ]:
        with pytest.raises(SettingsError):
            read_delivery(bad)
