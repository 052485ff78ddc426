"""`bizgraph wallets show|top-up|adjust|mode`: prepaid wallets (docs/wallets.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.options import decimal_option
from api.cli.running import run
from api.container import Container
from domain.usecases.wallets import WalletView
from domain.wallets.statement import StatementPage
from domain.wallets.wallets import BillingMode

wallets_app = typer.Typer(help="Prepaid wallets: mode, balance, top-ups.", no_args_is_help=True)
ACTOR = "command line"


@wallets_app.command("show")
def wallets_show(
    client_id: str,
    entries: Annotated[int, typer.Option(help="Statement entries to list (newest first).")] = 20,
) -> None:
    """The client's billing mode, balance and latest statement entries."""

    async def work(c: Container) -> tuple[WalletView, StatementPage]:
        wallets = c.wallets()
        return await wallets.view(client_id), await wallets.statement(client_id, 0, entries)

    view, page = run(work)
    _print(view)
    for entry in page.entries:
        when = entry.occurred_at.isoformat(timespec="seconds")
        typer.echo(
            f"{when}\t{entry.kind.value}\t{entry.amount.amount}\t{entry.reference}\t"
            f"{entry.source}\t{entry.note}"
        )
    typer.echo(f"{page.total} entries in all")


@wallets_app.command("top-up")
def wallets_top_up(
    client_id: str,
    amount: Annotated[str, typer.Option(help="In the wallet's currency.")],
    reference: Annotated[
        str | None, typer.Option(help="The payment's reference (credited once).")
    ] = None,
    note: Annotated[str, typer.Option(help="Shown on the statement.")] = "",
) -> None:
    """Credit money received (a bank transfer, say)."""
    value = decimal_option(amount, "--amount")

    async def work(c: Container) -> tuple[bool, WalletView]:
        credited = await c.wallets().top_up(client_id, value, reference, note, ACTOR)
        return credited, await c.wallets().view(client_id)

    credited, view = run(work)
    if not credited:
        typer.echo("already credited: nothing added")
    _print(view)


@wallets_app.command("adjust")
def wallets_adjust(
    client_id: str,
    amount: Annotated[str, typer.Option(help="Signed: negative takes money out.")],
    reason: Annotated[str, typer.Option(help="Why (on the statement).")],
) -> None:
    """Post a correction to the wallet."""
    value = decimal_option(amount, "--amount")

    async def work(c: Container) -> WalletView:
        await c.wallets().adjust(client_id, value, reason, ACTOR)
        return await c.wallets().view(client_id)

    _print(run(work))


@wallets_app.command("mode")
def wallets_mode(client_id: str, mode: BillingMode) -> None:
    """postpaid (the monthly invoice) or prepaid (calls draw down the wallet)."""
    _print(run(lambda c: c.wallets().set_mode(client_id, mode, ACTOR)))


def _print(view: WalletView) -> None:
    wallet, balance = view.wallet, view.balance
    typer.echo(
        f"{wallet.client_id} {wallet.mode.value} balance {balance.balance.amount} "
        f"{wallet.currency}, held {balance.held.amount}, available {balance.available.amount}"
    )
