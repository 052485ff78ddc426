"""`bizgraph budgets ...`: budgets per client or key."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.options import decimal_option
from api.cli.running import CliError, run
from api.container import Container
from domain.budgets.limits import BudgetBasis, BudgetMode, BudgetStatus
from domain.usecases.budgets import BudgetInput

budgets_app = typer.Typer(help="Budgets per client or key.", no_args_is_help=True)


@budgets_app.command("set")
def budgets_set(
    client_id: str,
    limit: Annotated[str, typer.Option(help="Per billing month, in the client's currency.")],
    key: Annotated[str | None, typer.Option(help="A key's own budget instead.")] = None,
    mode: Annotated[BudgetMode, typer.Option(help="hard refuses, soft alerts.")] = BudgetMode.HARD,
    basis: Annotated[
        BudgetBasis | None, typer.Option(help="charge or cost (default: by the plan).")
    ] = None,
    threshold: Annotated[list[int] | None, typer.Option(help="Alert percent (repeat).")] = None,
) -> None:
    """Set (or replace) the budget of a client, or of one of its keys with --key."""
    new = BudgetInput(
        decimal_option(limit, "--limit"), mode, basis, tuple(threshold or (50, 80, 100))
    )

    async def work(c: Container) -> BudgetStatus:
        if key is None:
            return await c.budgets().set_for_client(client_id, new)
        return await c.budgets().set_for_key(key, new)

    _print_budget(run(work))


@budgets_app.command("show")
def budgets_show(
    client_id: str, key: Annotated[str | None, typer.Option(help="A key's budget.")] = None
) -> None:
    """Where a budget stands this period."""

    async def work(c: Container) -> BudgetStatus | None:
        if key is None:
            return await c.budgets().of_client(client_id)
        return await c.budgets().of_key(client_id, key)

    found = run(work)
    if found is None:
        raise CliError("no budget")
    _print_budget(found)


@budgets_app.command("remove")
def budgets_remove(
    client_id: str, key: Annotated[str | None, typer.Option(help="A key's budget.")] = None
) -> None:
    """Remove a budget."""

    async def work(c: Container) -> bool:
        if key is None:
            return await c.budgets().remove_for_client(client_id)
        return await c.budgets().remove_for_key(key)

    removed = run(work)
    typer.echo("budget removed" if removed else "there was no budget")


def _print_budget(status: BudgetStatus) -> None:
    budget = status.budget
    typer.echo(
        f"{budget.scope} {budget.mode} {budget.limit} for {status.period.label}: "
        f"spent {status.spent}, reserved {status.reserved}, remaining {status.remaining} "
        f"({status.used_percent}%), thresholds {','.join(map(str, budget.thresholds))}"
    )
