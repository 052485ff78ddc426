"""Invoice delivery and dunning on SQLite and PostgreSQL, against a local SMTP sink
(aiosmtpd): a finalized invoice is emailed with its PDF, resent on demand, retried with backoff
while SMTP is down and then recorded failed; a client without a billing email is recorded as
such; without SMTP, sending is a typed error; overdue invoices are alerted once, reminded once
per configured day and, when asked, their client suspended after a warning."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.notifications.email import SmtpSettings
from adapters.notifications.invoice_mail import SmtpInvoiceMailer
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from adapters.rendering import InvoiceFiles
from domain.access.principals import BOOTSTRAP_OWNER
from domain.alerting.alerts import AlertKind
from domain.alerting.webhooks import RetryPolicy
from domain.billing.clients import ClientStatus
from domain.billing.money import Money
from domain.billing.plans import FixedFee, PlanVersion
from domain.delivery.dunning import DunningPolicy
from domain.delivery.outbox import EmailNotConfigured, MailKind, MailStatus
from domain.errors import Conflict
from domain.ids import new_id
from domain.invoicing.invoices import Invoice
from domain.invoicing.ports import AgencyDetails
from domain.usecases.dunning import Dunning
from domain.usecases.invoice_desk import DocumentFormat, Documents, InvoiceDesk
from domain.usecases.invoice_mail import InvoiceMailing, MailTerms
from domain.usecases.invoicing import InvoiceUseCases
from tests.fakes import FrozenClock
from tests.fakes.pay_links import FakePaymentLinks
from tests.integration.persistence import builders
from tests.support.smtp_sink import SmtpSink, free_port, smtp_sink

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
APRIL_START = datetime(2026, 4, 1, tzinfo=UTC)
AFTER_APRIL = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
DOCUMENTS = Documents(InvoiceFiles(), AgencyDetails("Northwind Agency"))
POLICY = RetryPolicy(max_attempts=3, base_seconds=10, cap_seconds=60, jitter=0)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as running:
        yield running


def mailer(port: int) -> SmtpInvoiceMailer:
    settings = SmtpSettings("127.0.0.1", port, sender="billing@northwind.test", starttls=False)
    return SmtpInvoiceMailer(settings, timeout_seconds=2)


def mailing(
    uow: UowFactory,
    clock: FrozenClock,
    port: int | None,
    *,
    links: FakePaymentLinks | None = None,
    auto: bool = True,
    dunning: DunningPolicy | None = None,
) -> InvoiceMailing:
    terms = MailTerms(policy=POLICY, auto_send=auto, dunning=dunning or DunningPolicy())
    sender = None if port is None else mailer(port)
    return InvoiceMailing(
        uow, clock, DOCUMENTS, sender, links=links, terms=terms, spread=lambda: 0.0
    )


async def add_client(uow: UowFactory, email: str | None = "ap@client.test") -> str:
    client = builders.client(
        currency="USD", tax_rate=Decimal(0), created_at=APRIL_START, billing_email=email
    )
    plan = PlanVersion(new_id(), client.id, FixedFee(Money("100.00")), APRIL_START, APRIL_START)
    async with uow() as tx:
        await tx.clients.add(client)
        await tx.plans.add(plan)
        await tx.commit()
    return client.id


async def close_april(uow: UowFactory, clock: FrozenClock, mail: InvoiceMailing) -> Invoice:
    invoicing = InvoiceUseCases(uow, clock, on_finalized=mail.finalized)
    result = await invoicing.close_period("2026-04")
    assert len(result.created) == 1
    return result.created[0]


def text_of(message: object) -> tuple[str, str, bytes, str]:
    from email.message import EmailMessage

    assert isinstance(message, EmailMessage)
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    [attachment] = list(message.iter_attachments())
    assert isinstance(attachment, EmailMessage)
    assert attachment.get_content_type() == "application/pdf"
    return (
        plain.get_content(),
        html.get_content(),
        attachment.get_content(),
        attachment.get_filename() or "",
    )


async def test_a_finalized_invoice_is_emailed_with_its_pdf(uow: UowFactory, sink: SmtpSink) -> None:
    clock = FrozenClock(AFTER_APRIL)
    links = FakePaymentLinks()
    mail = mailing(uow, clock, sink.port, links=links)
    await add_client(uow)
    invoice = await close_april(uow, clock, mail)

    assert await mail.deliver_due() == 1
    [got] = sink.received
    assert got.recipients == ["ap@client.test"]
    assert got.message["To"] == "ap@client.test"
    assert got.message["From"] == "billing@northwind.test"
    assert invoice.number in got.message["Subject"]
    text, html, pdf, filename = text_of(got.message)
    assert "100.00 USD" in text
    assert invoice.due_at.date().isoformat() in text
    assert f"https://pay.example.test/i/{invoice.id}" in text
    assert "Pay online" in html
    assert pdf.startswith(b"%PDF")
    assert filename == f"{invoice.number}.pdf"
    [record] = await mail.history(invoice.id)
    assert (record.status, record.recipient, record.attempts) == (
        MailStatus.SENT,
        "ap@client.test",
        1,
    )
    assert record.sent_at == AFTER_APRIL
    assert await mail.deliver_due() == 0  # sent once


async def test_send_once_then_resend(uow: UowFactory, sink: SmtpSink) -> None:
    clock = FrozenClock(AFTER_APRIL)
    mail = mailing(uow, clock, sink.port, auto=False)  # BIZGRAPH_INVOICE_EMAIL=off
    await add_client(uow)
    invoice = await close_april(uow, clock, mail)
    assert await mail.history(invoice.id) == []  # nothing queued by itself

    first = await mail.send(invoice.id, by="ops")
    with pytest.raises(Conflict, match="resend"):
        await mail.send(invoice.id)
    await mail.deliver_due()
    again = await mail.send(invoice.id, resend=True)
    await mail.deliver_due()

    assert len(sink.received) == 2
    assert all(r.message["Subject"] == sink.received[0].message["Subject"] for r in sink.received)
    history = await mail.history(invoice.id)
    assert {m.id for m in history} == {first.id, again.id}
    assert all(m.status is MailStatus.SENT for m in history)
    assert first.requested_by == "ops"


async def test_smtp_down_is_retried_with_backoff_then_failed(uow: UowFactory) -> None:
    clock = FrozenClock(AFTER_APRIL)
    mail = mailing(uow, clock, free_port())  # nothing listens there
    await add_client(uow)
    invoice = await close_april(uow, clock, mail)

    assert await mail.deliver_due() == 1
    [pending] = await mail.history(invoice.id)
    assert pending.status is MailStatus.PENDING
    assert pending.attempts == 1
    assert pending.next_attempt_at == AFTER_APRIL + timedelta(seconds=10)
    assert pending.last_error
    assert "could not reach the SMTP server" in pending.last_error
    assert await mail.deliver_due() == 0  # not due yet
    clock.advance(seconds=10)
    assert await mail.deliver_due() == 1
    [second] = await mail.history(invoice.id)
    assert second.next_attempt_at == clock.now() + timedelta(seconds=20)  # doubled
    clock.advance(seconds=20)
    assert await mail.deliver_due() == 1
    [failed] = await mail.history(invoice.id)
    assert (failed.status, failed.attempts) == (MailStatus.FAILED, 3)
    clock.advance(hours=1)
    assert await mail.deliver_due() == 0


async def test_a_client_without_billing_email_is_recorded_not_dropped(
    uow: UowFactory, sink: SmtpSink
) -> None:
    clock = FrozenClock(AFTER_APRIL)
    mail = mailing(uow, clock, sink.port)
    await add_client(uow, email=None)
    invoice = await close_april(uow, clock, mail)
    assert await mail.deliver_due() == 0
    [record] = await mail.history(invoice.id)
    assert (record.status, record.recipient) == (MailStatus.NO_BILLING_EMAIL, None)
    assert sink.received == []


async def test_without_smtp_sending_is_a_typed_error(uow: UowFactory) -> None:
    clock = FrozenClock(AFTER_APRIL)
    mail = mailing(uow, clock, None)
    status = mail.status()
    assert not status.enabled
    assert status.reason
    assert "BIZGRAPH_SMTP_HOST" in status.reason
    await add_client(uow)
    invoice = await close_april(uow, clock, mail)
    assert await mail.history(invoice.id) == []
    with pytest.raises(EmailNotConfigured) as raised:
        await mail.send(invoice.id)
    assert raised.value.code == "email_not_configured"


async def alerts_of(uow: UowFactory, kind: AlertKind) -> int:
    async with uow() as tx:
        return sum(a.kind is kind for a in await tx.alerts.recent(limit=100))


async def test_an_overdue_invoice_is_alerted_once_and_reminded_once_per_day(
    uow: UowFactory, sink: SmtpSink
) -> None:
    clock = FrozenClock(AFTER_APRIL)
    mail = mailing(uow, clock, sink.port, auto=False)
    dunning = Dunning(uow, clock, mail, DunningPolicy(reminder_days=(3, 10, 30)))
    await add_client(uow)
    invoice = await close_april(uow, clock, mail)
    assert await dunning.overdue() == []

    sent_on: list[int] = []
    for day in [0, 1, 3, 3, 4, 9, 10, 10, 12, 29, 30, 31, 45]:
        clock.set(invoice.due_at + timedelta(days=day, hours=1))
        await dunning.run()
        await dunning.run()  # a second process, or a restart, at the same time
        before = len(sink.received)
        await mail.deliver_due()
        sent_on += [day] * (len(sink.received) - before)
    assert sent_on == [3, 10, 30]
    assert await alerts_of(uow, AlertKind.INVOICE_OVERDUE) == 1
    [overdue] = await dunning.overdue()
    assert (overdue.invoice.id, overdue.days_overdue) == (invoice.id, 45)
    reminders = [m for m in await mail.history(invoice.id) if m.kind is MailKind.REMINDER]
    assert sorted(m.days_overdue or 0 for m in reminders) == [3, 10, 30]
    text, *_ = text_of(sink.received[0].message)
    assert "3 days past its due date" in text
    assert "100.00 USD" in text

    await InvoiceUseCases(uow, clock).mark_paid(invoice.id)
    assert await dunning.overdue() == []


async def test_a_reminder_queued_before_payment_is_cancelled(
    uow: UowFactory, sink: SmtpSink
) -> None:
    clock = FrozenClock(AFTER_APRIL)
    mail = mailing(uow, clock, sink.port, auto=False)
    dunning = Dunning(uow, clock, mail, DunningPolicy(reminder_days=(3,)))
    await add_client(uow)
    invoice = await close_april(uow, clock, mail)
    clock.set(invoice.due_at + timedelta(days=3, hours=1))
    await dunning.run()
    await InvoiceUseCases(uow, clock).mark_paid(invoice.id)
    await mail.deliver_due()
    assert sink.received == []
    [reminder] = await mail.history(invoice.id)
    assert reminder.status is MailStatus.CANCELLED


async def client_status(uow: UowFactory, client_id: str) -> ClientStatus:
    async with uow() as tx:
        client = await tx.clients.get(client_id)
    assert client is not None
    return client.status


async def test_suspension_after_n_days_is_warned_first_and_happens_once(
    uow: UowFactory, sink: SmtpSink
) -> None:
    clock = FrozenClock(AFTER_APRIL)
    policy = DunningPolicy(reminder_days=(), suspend_after_days=14, warn_days_before=3)
    mail = mailing(uow, clock, sink.port, auto=False, dunning=policy)
    dunning = Dunning(uow, clock, mail, policy)
    client_id = await add_client(uow)
    invoice = await close_april(uow, clock, mail)

    clock.set(invoice.due_at + timedelta(days=10, hours=1))
    assert (await dunning.run()).suspended == []
    assert await alerts_of(uow, AlertKind.SUSPENSION_WARNING) == 0
    clock.set(invoice.due_at + timedelta(days=11, hours=1))
    await dunning.run()
    await mail.deliver_due()
    assert await alerts_of(uow, AlertKind.SUSPENSION_WARNING) == 1
    [warning] = sink.received
    suspend_on = (invoice.due_at + timedelta(days=14)).date().isoformat()
    assert "suspended on " + suspend_on in text_of(warning.message)[0]
    assert await client_status(uow, client_id) is ClientStatus.ACTIVE

    clock.set(invoice.due_at + timedelta(days=14, hours=1))
    assert (await dunning.run()).suspended == [client_id]
    assert await client_status(uow, client_id) is ClientStatus.SUSPENDED
    assert await alerts_of(uow, AlertKind.CLIENT_SUSPENDED) == 1

    # An operator reinstates the client: the same invoice does not suspend it again.
    async with uow() as tx:
        client = await tx.clients.get(client_id)
        assert client is not None
        await tx.clients.update(client.with_status(ClientStatus.ACTIVE))
        await tx.commit()
    clock.advance(days=1)
    assert (await dunning.run()).suspended == []
    assert await client_status(uow, client_id) is ClientStatus.ACTIVE


async def test_a_late_job_warns_before_it_suspends(uow: UowFactory) -> None:
    clock = FrozenClock(AFTER_APRIL)
    policy = DunningPolicy(reminder_days=(), suspend_after_days=5)
    mail = mailing(uow, clock, None, dunning=policy)  # no SMTP: alerts still raised
    dunning = Dunning(uow, clock, mail, policy)
    client_id = await add_client(uow)
    invoice = await close_april(uow, clock, mail)
    clock.set(invoice.due_at + timedelta(days=20))
    assert (await dunning.run()).suspended == []  # the warning comes first
    assert await alerts_of(uow, AlertKind.SUSPENSION_WARNING) == 1
    clock.advance(hours=1)
    assert (await dunning.run()).suspended == [client_id]


async def test_concurrent_runs_and_senders_remind_and_send_once(
    uow: UowFactory, sink: SmtpSink
) -> None:
    """Two processes' jobs at the same moment: one alert, one reminder row, one email."""
    clock = FrozenClock(AFTER_APRIL)
    first = mailing(uow, clock, sink.port, auto=False)
    second = mailing(uow, clock, sink.port, auto=False)
    policy = DunningPolicy(reminder_days=(3,))
    await add_client(uow)
    invoice = await close_april(uow, clock, first)
    clock.set(invoice.due_at + timedelta(days=3, hours=1))
    await asyncio.gather(
        Dunning(uow, clock, first, policy).run(), Dunning(uow, clock, second, policy).run()
    )
    await asyncio.gather(first.deliver_due(), second.deliver_due())
    assert len(sink.received) == 1
    assert await alerts_of(uow, AlertKind.INVOICE_OVERDUE) == 1
    [reminder] = await first.history(invoice.id)
    assert (reminder.status, reminder.attempts) == (MailStatus.SENT, 1)


@pytest.mark.parametrize("hang", [False, True], ids=["answering", "hanging"])
async def test_an_invoice_document_never_waits_long_for_its_pay_link(
    uow: UowFactory, hang: bool
) -> None:
    """A processor that never answers costs an invoice page a bounded wait, not Stripe's
    20-second timeout: the document renders without the link (the portal's Pay asks again)."""
    clock = FrozenClock(AFTER_APRIL)
    await add_client(uow)
    invoice = await close_april(uow, clock, mailing(uow, clock, None))
    links = FakePaymentLinks(hang=hang)
    documents = replace(DOCUMENTS, links=links, link_wait_seconds=0.05)
    desk = InvoiceDesk(BOOTSTRAP_OWNER, InvoiceUseCases(uow, clock), documents)

    page = (await desk.render(invoice.id, DocumentFormat.HTML)).body.decode()

    assert links.asked == [invoice.id]
    assert invoice.number in page
    assert ("https://pay.example.test/i/" + invoice.id in page) is not hang
