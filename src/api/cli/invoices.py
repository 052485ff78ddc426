"""`bizgraph invoices close|list` and `bizgraph ledger verify` (registered by api.cli.main)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from api.container import Container
from domain.invoicing.invoices import InvoiceStatus
from domain.invoicing.ports import InvoiceFilter

Runner = Callable[[Callable[[Container], Awaitable[Any]]], Any]


def invoice_commands(run: Runner) -> tuple[typer.Typer, typer.Typer]:
    invoices_app = typer.Typer(help="Invoices: close billing periods, list.", no_args_is_help=True)
    ledger_app = typer.Typer(help="The ledger.", no_args_is_help=True)

    @invoices_app.command("close")
    def close(
        period: Annotated[str, typer.Option(help="The month to close, YYYY-MM.")],
        early: Annotated[
            bool, typer.Option(help="Close a month that has not ended (a client leaving).")
        ] = False,
    ) -> None:
        """Finalize one invoice per client that owes something for the month (idempotent)."""
        result = run(lambda c: c.invoicing().close_period(period, early))
        for invoice in result.created:
            typer.echo(f"{invoice.number}\t{invoice.client_id}\t{invoice.total}")
        for refused in result.refused:
            typer.secho(f"not issued: {refused.client_id}: {refused.reason}", err=True, fg="red")
        typer.secho(f"{result.period.label}: {len(result.created)} invoices finalized", err=True)

    @invoices_app.command("list")
    def list_(
        period: Annotated[str | None, typer.Option(help="Month YYYY-MM.")] = None,
        client: Annotated[str | None, typer.Option(help="A client id.")] = None,
        status: Annotated[InvoiceStatus | None, typer.Option(help="Invoice status.")] = None,
    ) -> None:
        """List invoices: number, period, client, status, total."""
        where = InvoiceFilter(None if client is None else [client], period, status)
        for i in run(lambda c: c.invoicing().find(where)):
            typer.echo(
                f"{i.number}\t{i.period.label}\t{i.client_id}\t{i.status}\t{i.total}\t{i.id}"
            )

    @invoices_app.command("grant-credit")
    def grant_credit(
        client_id: str,
        amount: Annotated[str, typer.Option(help="The credit, e.g. 25.00.")],
        reason: Annotated[str, typer.Option(help="Why (printed on the invoice).")],
    ) -> None:
        """Grant an account credit, applied as a negative line on the client's next invoices."""
        credit = run(lambda c: c.invoicing().grant_credit(client_id, amount, reason))
        typer.echo(f"credit {credit.id}: {credit.amount} for {client_id}")

    @ledger_app.command("verify")
    def verify() -> None:
        """Check that every invoice equals the sum of its lines, that lines equal the usage
        behind them, that balances equal the sum of entries, and that every prepaid wallet's
        balance equals the sum of its statement. Exit status 1 on a mismatch."""

        async def work(c: Container) -> list[str]:
            return [*await c.invoicing().verify(), *await c.wallets().verify()]

        problems = run(work)
        for problem in problems:
            typer.secho(problem, err=True, fg=typer.colors.RED)
        if problems:
            raise typer.Exit(1)
        typer.echo("ledger verified: invoices, lines, usage, balances and wallets agree")

    return invoices_app, ledger_app
