"""`bizgraph clients ...`: clients, their pricing plans, usage and estimated bills."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.options import Fee, Margin, Price, decimal_option, instant_option, pricing_plan
from api.cli.running import CliError, run
from api.container import Container
from domain.billing.clients import ClientStatus
from domain.metering.usage import UsageRecord
from domain.usecases.clients import NewClient

clients_app = typer.Typer(help="Clients and their pricing plans.", no_args_is_help=True)


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="The client's name.")],
    margin: Margin = None,
    monthly_fee: Fee = None,
    monthly_price: Price = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 billing currency.")] = "USD",
    email: Annotated[str | None, typer.Option(help="Billing email.")] = None,
    tax_rate: Annotated[str, typer.Option(help="Tax rate in percent, e.g. 20.")] = "0",
    plan_from: Annotated[
        str | None, typer.Option(help="Plan start (ISO 8601), default now.")
    ] = None,
) -> None:
    """Create a client with its pricing plan; prints the client id."""
    new = NewClient(
        name=name,
        plan=pricing_plan(margin, monthly_fee, monthly_price, currency),
        currency=currency,
        billing_email=email,
        tax_rate=decimal_option(tax_rate, "--tax-rate"),
        plan_effective_from=instant_option(plan_from, "--plan-from"),
    )
    client, version = run(lambda c: c.clients().create(new))
    typer.echo(
        f"client {client.id} {client.name!r}: {version.plan.kind} from "
        f"{version.effective_from.isoformat()}"
    )


@clients_app.command("list")
def clients_list() -> None:
    """List clients."""
    for client in run(lambda c: c.clients().list()):
        typer.echo(f"{client.id}\t{client.status}\t{client.currency}\t{client.name}")


@clients_app.command("set-plan")
def clients_set_plan(
    client_id: str,
    margin: Margin = None,
    monthly_fee: Fee = None,
    monthly_price: Price = None,
    effective_from: Annotated[str | None, typer.Option(help="ISO 8601, default now.")] = None,
) -> None:
    """Give a client a new plan version from an instant (default now)."""

    async def work(c: Container) -> str:
        client = await c.clients().get(client_id)
        plan = pricing_plan(margin, monthly_fee, monthly_price, client.currency)
        version = await c.clients().set_plan(
            client_id, plan, instant_option(effective_from, "--effective-from")
        )
        return f"{version.plan.kind} from {version.effective_from.isoformat()}"

    typer.echo(run(work))


@clients_app.command("suspend")
def clients_suspend(client_id: str) -> None:
    """Suspend a client: its keys stop working within a second (docs/metering.md)."""
    run(lambda c: c.clients().set_status(client_id, ClientStatus.SUSPENDED))
    typer.echo(f"client {client_id} suspended")


@clients_app.command("resume")
def clients_resume(client_id: str) -> None:
    """Resume a suspended client."""
    run(lambda c: c.clients().set_status(client_id, ClientStatus.ACTIVE))
    typer.echo(f"client {client_id} active")


@clients_app.command("usage")
def clients_usage(
    client_id: str,
    period: Annotated[
        str | None, typer.Option(help="Month YYYY-MM, default the current one.")
    ] = None,
) -> None:
    """A client's usage, cost, revenue and profit for a month so far (the draft invoice)."""
    draft = run(lambda c: c.clients().draft(client_id, period))
    tokens = draft.tokens
    rows = [
        ("period", draft.period.label),
        ("requests", str(draft.requests)),
        (
            "input tokens",
            f"{tokens.input_tokens} ({tokens.cached_input_tokens} cached, "
            f"{tokens.cache_write_tokens} cache write)",
        ),
        ("output tokens", f"{tokens.output_tokens} ({tokens.reasoning_tokens} reasoning)"),
        ("provider cost", str(draft.usage_cost)),
        ("usage charge", str(draft.usage_charge)),
        *((f"{f.kind} {f.start.date()}..{f.end.date()}", str(f.amount)) for f in draft.fixed),
        ("revenue", str(draft.revenue)),
        ("profit", str(draft.profit) + ("  (negative)" if draft.profit.amount < 0 else "")),
    ]
    for label, value in rows:
        typer.echo(f"{label:<28}{value}")


@clients_app.command("estimated")
def clients_estimated(
    client_id: str,
    period: Annotated[
        str | None, typer.Option(help="Month YYYY-MM, default the current one.")
    ] = None,
    first: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
) -> None:
    """A client's calls billed on an estimate this month (cut streams, crashed processes), to
    reconcile against the provider's console."""
    if not 1 <= first <= 1000:
        raise CliError("--first must be between 1 and 1000")

    async def work(c: Container) -> list[UsageRecord]:
        await c.clients().get(client_id)  # an unknown client is an error, not an empty list
        return await c.reports().estimated(client_id, period, first)

    records = run(work)
    typer.echo(f"{len(records)} estimated calls")
    for r in records:
        typer.echo(
            f"{r.started_at.isoformat()}  {r.request_id}#{r.attempt}  {r.model_id}  {r.status}  "
            f"in {r.usage.input_tokens} out {r.usage.output_tokens}  charge {r.charge}"
        )
