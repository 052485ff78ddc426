"""`bizgraph estimates list|settle` (registered by api.cli.main): calls billed on an estimate,
and settling one at the provider's figures (docs/reconciliation.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Annotated, Any

import typer

from api.container import Container
from domain.errors import ValidationError
from domain.metering.estimate_settlements import EstimateSettlement
from domain.metering.tokens import TokenUsage
from domain.reconciliation import parse_day
from domain.usecases.estimate_settlements import EstimatedCall

Runner = Callable[[Callable[[Container], Awaitable[Any]]], Any]
ACTOR = "command line"


def _tokens(tokens: TokenUsage) -> str:
    return (
        f"{tokens.input_tokens} in ({tokens.cached_input_tokens} cached, "
        f"{tokens.cache_write_tokens} cache write) / {tokens.output_tokens} out"
    )


def _settled(settlement: EstimateSettlement) -> str:
    return (
        f"settled {settlement.settled_at.isoformat(timespec='seconds')} by {settlement.actor}: "
        f"{settlement.outcome.value} {settlement.amount}; actual {_tokens(settlement.actual)}; "
        f"{settlement.reason}"
    )


def render(calls: Sequence[EstimatedCall]) -> list[str]:
    lines = []
    for call in calls:
        record = call.record
        lines.append(
            f"{record.id}  {record.started_at.isoformat(timespec='seconds')}  "
            f"{call.client_name or record.client_id}  {record.model_id}  "
            f"estimated {_tokens(record.usage)}  charge {record.charge}"
        )
        if call.settlement is not None:
            lines.append(f"    {_settled(call.settlement)}")
        elif call.suggested is not None:
            lines.append(f"    the provider's hour implies {_tokens(call.suggested)}")
    return lines


def estimate_commands(run: Runner) -> typer.Typer:
    app = typer.Typer(
        help="Calls billed on an estimate (a crashed process, a cut stream): list, settle.",
        no_args_is_help=True,
    )

    @app.command("list")
    def list_(
        from_: Annotated[str, typer.Option("--from", help="First UTC day, YYYY-MM-DD.")],
        to: Annotated[str, typer.Option("--to", help="Last UTC day (included), YYYY-MM-DD.")],
        provider: Annotated[
            list[str] | None, typer.Option(help="Only this provider (repeat for more).")
        ] = None,
    ) -> None:
        """The estimated calls of the days, oldest first: settled ones with their settlement,
        the others with what the provider's stored hourly report implies they used."""
        start = parse_day(from_, "--from")
        end = parse_day(to, "--to") + timedelta(days=1)
        if end <= start:
            raise ValidationError("--to must not be before --from")
        chosen = provider or None

        async def work(c: Container) -> list[EstimatedCall]:
            table = await c.reconciliation().table(start, end, chosen)
            return await c.settlements().estimated_calls(start, end, chosen, table)

        calls = run(work)
        for line in render(calls):
            typer.echo(line)
        typer.secho(f"{len(calls)} estimated calls", err=True)

    @app.command("settle")
    def settle(
        usage_record_id: Annotated[str, typer.Argument(help="The estimated call's record id.")],
        input_tokens: Annotated[int, typer.Option("--input", help="Actual input tokens.")],
        output_tokens: Annotated[int, typer.Option("--output", help="Actual output tokens.")],
        reason: Annotated[
            str, typer.Option(help="Why (kept with it, printed on its credit or invoice line).")
        ],
        cached_input: Annotated[int, typer.Option(help="Of the input, cached.")] = 0,
        cache_write: Annotated[int, typer.Option(help="Of the input, cache writes.")] = 0,
        reasoning: Annotated[int, typer.Option(help="Of the output, reasoning.")] = 0,
        bill_shortfall: Annotated[
            bool, typer.Option(help="Bill an under-estimate to the client (default: absorb).")
        ] = False,
    ) -> None:
        """Settle an estimated call at the provider's actual tokens, once: an over-estimate
        goes back to the client (an account credit, or its prepaid wallet); an under-estimate
        is absorbed, or with --bill-shortfall billed on the next invoice (or drawn from the
        wallet)."""
        actual = TokenUsage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached_input,
            cache_write_tokens=cache_write,
            reasoning_tokens=reasoning,
        )
        settled = run(
            lambda c: c.settlements().settle(usage_record_id, actual, reason, ACTOR, bill_shortfall)
        )
        typer.echo(
            f"{settled.outcome.value} {settled.amount} "
            f"(charge {settled.charge_delta}, cost {settled.cost_delta})"
        )

    return app
