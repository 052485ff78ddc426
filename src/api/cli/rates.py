"""`bizgraph rates set|list|remove|import` and `bizgraph rates client-currency`
(docs/currencies.md), registered by api.cli.main."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from api.cli.running import CliError, run
from domain.billing.exchange import ExchangeRate
from domain.usecases.rates import MAX_IMPORT_BYTES

rates_app = typer.Typer(help="Exchange rates (docs/currencies.md).", no_args_is_help=True)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CliError(f"not a date (YYYY-MM-DD): {text[:40]!r}") from error


def _line(rate: ExchangeRate) -> str:
    return f"{rate.base}\t{rate.quote}\t{rate.rate}\t{rate.effective_on}\t{rate.source}"


@rates_app.command("list")
def list_rates(
    base: Annotated[str | None, typer.Option(help="One base currency.")] = None,
    quote: Annotated[str | None, typer.Option(help="One quote currency.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (1 to 1000).")] = 100,
) -> None:
    """Rates newest first: base, quote, rate (1 base = rate quote), effective day, source."""
    for rate in run(lambda c: c.rates().list(base, quote, limit)):
        typer.echo(_line(rate))


@rates_app.command("set")
def set_rate(
    base: str,
    quote: str,
    rate: str,
    effective: Annotated[str, typer.Option("--effective", help="First day, YYYY-MM-DD.")],
    source: Annotated[str, typer.Option(help="Where the rate comes from.")] = "manual",
) -> None:
    """Add (or replace) the rate of a pair from a day on: 1 BASE = RATE QUOTE."""
    day = _day(effective)
    typer.echo(_line(run(lambda c: c.rates().set(base, quote, rate, day, source))))


@rates_app.command("remove")
def remove_rate(
    base: str,
    quote: str,
    effective: Annotated[str, typer.Option("--effective", help="Its first day.")],
) -> None:
    """Remove one rate of the table."""
    day = _day(effective)
    if not run(lambda c: c.rates().remove(base, quote, day)):
        raise CliError("no such rate")
    typer.echo("removed")


@rates_app.command("import")
def import_rates(
    path: Annotated[Path, typer.Argument(help="eurofxref.csv or eurofxref-hist.csv.")],
    base: Annotated[
        list[str] | None,
        typer.Option("--base", help="Derive rates from this currency (repeat; default USD)."),
    ] = None,
    source: Annotated[str, typer.Option(help="Recorded with each rate.")] = "ECB",
) -> None:
    """Import the ECB's euro reference rates, downloaded by you (nothing is fetched)."""
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise CliError(f"{path} is larger than {MAX_IMPORT_BYTES // 1_000_000} MB")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read {path}: {error}") from error
    bases = base or ["USD"]
    result = run(lambda c: c.rates().import_reference(text, bases, source))
    typer.echo(
        f"imported {result.written} rates for {result.days} days ({result.first} to {result.last})"
    )


@rates_app.command("client-currency")
def client_currency(client_id: str, currency: str) -> None:
    """Set a client's billing currency (only before anything is billed or paid)."""
    client = run(lambda c: c.rates().set_client_currency(client_id, currency))
    typer.echo(f"{client.id}\t{client.currency}")
