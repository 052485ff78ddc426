"""`bizgraph invoices send|resend|deliveries N` (N: an invoice number or id) and
`bizgraph dunning run|overdue` (registered by api.cli.main). A CLI has no background loop, so
send and run also deliver what is due at once and print each outcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

import typer

from api.cli.running import CliError
from api.container import Container
from domain.delivery.outbox import InvoiceMail
from domain.invoicing.invoices import Invoice
from domain.invoicing.ports import InvoiceFilter

Runner = Callable[[Callable[[Container], Awaitable[Any]]], Any]


async def _invoice(c: Container, number_or_id: str) -> Invoice:
    """An invoice by its number (INV-2026-0001) or its id."""
    wanted = number_or_id.strip()
    for invoice in await c.invoicing().find(InvoiceFilter()):
        if wanted in (invoice.number, invoice.id):
            return invoice
    raise CliError(f"no invoice {wanted!r} (give its number, e.g. INV-2026-0001, or its id)")


def _line(mail: InvoiceMail) -> str:
    when = mail.sent_at or mail.created_at
    return "\t".join(
        [
            when.isoformat(timespec="seconds"),
            mail.kind.value,
            mail.status.value,
            mail.recipient or "-",
            f"attempts={mail.attempts}",
            mail.last_error or "",
        ]
    ).rstrip()


def delivery_commands(invoices_app: typer.Typer, run: Runner) -> typer.Typer:
    """Add send, resend and deliveries to the invoices group; the dunning group."""
    dunning_app = typer.Typer(help="Dunning: overdue invoices.", no_args_is_help=True)

    def send(number: str, resend: bool) -> None:
        async def work(c: Container) -> Sequence[InvoiceMail]:
            invoice = await _invoice(c, number)
            queued = await c.invoice_mail().send(invoice.id, resend=resend, by="cli")
            await c.invoice_mail().deliver_due()
            found = await c.invoice_mail().history(invoice.id)
            return [m for m in found if m.id == queued.id]

        for mail in run(work):
            typer.echo(_line(mail))
            if mail.status.value != "sent":
                typer.secho("not sent yet: `bizgraph serve` retries it with backoff", err=True)

    @invoices_app.command("send")
    def send_command(
        number: Annotated[str, typer.Argument(help="The invoice number or id.")],
    ) -> None:
        """Email the invoice to the client's billing email (once; then use resend)."""
        send(number, resend=False)

    @invoices_app.command("resend")
    def resend_command(
        number: Annotated[str, typer.Argument(help="The invoice number or id.")],
    ) -> None:
        """Email the invoice again."""
        send(number, resend=True)

    @invoices_app.command("deliveries")
    def deliveries(
        number: Annotated[str, typer.Argument(help="The invoice number or id.")],
    ) -> None:
        """The emails about an invoice, newest first: when, kind, status, to, attempts."""

        async def work(c: Container) -> Sequence[InvoiceMail]:
            return await c.invoice_mail().history((await _invoice(c, number)).id)

        for mail in run(work):
            typer.echo(_line(mail))

    @dunning_app.command("run")
    def run_dunning() -> None:
        """Alert overdue invoices, queue their reminders and warnings, suspend where the
        policy says (each step once), then send the due emails."""

        async def work(c: Container) -> Any:
            report = await c.dunning().run()
            await c.invoice_mail().deliver_due()
            return report

        report = run(work)
        typer.echo(
            f"{report.overdue} overdue, {report.alerts} alerts raised, "
            f"{report.reminders} emails queued, {len(report.suspended)} clients suspended"
        )
        for client_id in report.suspended:
            typer.echo(f"suspended\t{client_id}")

    @dunning_app.command("overdue")
    def overdue(
        client: Annotated[str | None, typer.Option(help="A client id.")] = None,
    ) -> None:
        """Overdue invoices: number, client, total, due date, days overdue."""
        found = run(lambda c: c.dunning().overdue(None if client is None else [client]))
        for item in found:
            i = item.invoice
            typer.echo(
                f"{i.number}\t{i.client_id}\t{i.total}\t{i.due_at.date().isoformat()}\t"
                f"{item.days_overdue}"
            )

    return dunning_app
