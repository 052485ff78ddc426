"""`bizgraph reconcile` and `bizgraph reconcile-import` (registered by api.cli.main): the drift
table of Bizgraph's records against the providers' own reports (docs/reconciliation.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from api.container import Container
from api.container.model_providers import read_report_file
from domain.errors import ValidationError
from domain.reconciliation import ReconciliationRow, ReconciliationTable, ReportOrigin, parse_day
from domain.usecases.reconciliation import ReconciliationRun

Runner = Callable[[Callable[[Container], Awaitable[Any]]], Any]
MAX_FILE_BYTES = 50 * 1024 * 1024

HEADER = (
    "day",
    "provider",
    "model",
    "requests",
    "input tokens",
    "cached",
    "cache write",
    "output tokens",
    "recorded cost",
    "reported cost",
    "drift",
    "drift %",
    "",
)


class FileFormat(StrEnum):
    INVOICE = "invoice"
    GEMINI_BILLING = "gemini-billing"


def _pair(ours: object, theirs: object) -> str:
    shown = "?" if theirs is None else str(theirs)
    return str(ours) if ours == theirs else f"{ours} / {shown}"


def _flag(row: ReconciliationRow, percent: Decimal, minimum: Decimal) -> str:
    if row.unrecorded:
        return "NOT THROUGH BIZGRAPH"
    if row.exceeds(percent, minimum):
        return "DRIFT"
    if row.reported.cost is None and row.reported.tokens is None:
        return "not reported"
    return ""


def render(table: ReconciliationTable, percent: Decimal, minimum: Decimal) -> list[str]:
    """The drift table as aligned text lines: each figure "recorded / reported" where they
    differ ("?": not reported), crash-estimated hours under their row."""
    lines: list[list[str]] = [list(HEADER)]
    notes: dict[int, list[str]] = {}
    for row in table.rows:
        mine, theirs = row.recorded, row.reported
        tokens, given = mine.tokens, theirs.tokens
        lines.append(
            [
                row.day.isoformat(),
                row.provider,
                row.model,
                _pair(mine.requests, theirs.requests),
                _pair(tokens and tokens.input_tokens, given and given.input_tokens),
                _pair(tokens and tokens.cached_input_tokens, given and given.cached_input_tokens),
                _pair(tokens and tokens.cache_write_tokens, given and given.cache_write_tokens),
                _pair(tokens and tokens.output_tokens, given and given.output_tokens),
                f"{mine.cost} {row.currency}",
                "?" if theirs.cost is None else f"{theirs.cost} {row.currency}",
                "?" if row.cost_drift is None else str(row.cost_drift),
                "-" if row.relative_drift is None else f"{row.relative_drift}%",
                _flag(row, percent, minimum),
            ]
        )
        for hour in row.estimated:
            seen = hour.reported
            provider_side = (
                "not fetched"
                if seen is None
                else f"{seen.requests if seen.requests is not None else '?'} requests, "
                f"{seen.tokens.input_tokens if seen.tokens else '?'} in / "
                f"{seen.tokens.output_tokens if seen.tokens else '?'} out"
            )
            recorded = hour.recorded
            notes.setdefault(len(lines) - 1, []).append(
                f"    estimated: {hour.estimated_requests} calls ({hour.estimated_cost} "
                f"{row.currency}) in the hour {hour.hour:%Y-%m-%d %H}:00 UTC; that hour "
                f"Bizgraph recorded {recorded.requests} requests, "
                f"{recorded.tokens.input_tokens if recorded.tokens else 0} in / "
                f"{recorded.tokens.output_tokens if recorded.tokens else 0} out; "
                f"the provider: {provider_side}"
            )
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = []
    for index, line in enumerate(lines):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        out.extend(notes.get(index, []))
    return out


def reconcile_commands(app: typer.Typer, run: Runner) -> None:
    @app.command("reconcile")
    def reconcile(
        from_: Annotated[str, typer.Option("--from", help="First UTC day, YYYY-MM-DD.")],
        to: Annotated[str, typer.Option("--to", help="Last UTC day (included), YYYY-MM-DD.")],
        provider: Annotated[
            list[str] | None,
            typer.Option(help="Only this provider (repeat for more); default: all configured."),
        ] = None,
        fetch: Annotated[
            bool,
            typer.Option(help="Fetch the providers' reports first (--no-fetch: stored only)."),
        ] = True,
    ) -> None:
        """Compare what Bizgraph recorded with what the providers report, per UTC day,
        provider and model; alert on drift above BIZGRAPH_RECONCILE_DRIFT_PERCENT."""
        start = parse_day(from_, "--from")
        end = parse_day(to, "--to") + timedelta(days=1)
        if end <= start:
            raise ValidationError("--to must not be before --from")
        chosen: Sequence[str] | None = provider or None

        async def work(c: Container) -> tuple[ReconciliationRun, Decimal, Decimal]:
            rec = c.reconciliation()
            if fetch:
                result = await rec.run(start, end, chosen)
            else:
                result = ReconciliationRun(await rec.table(start, end, chosen), (), 0)
            return result, rec.rule.percent, rec.rule.minimum

        result, percent, minimum = run(work)
        _print(result, percent, minimum)

    @app.command("reconcile-import")
    def reconcile_import(
        path: Annotated[Path, typer.Argument(help="The CSV file.")],
        provider: Annotated[
            str, typer.Option(help="The provider the file bills (as in the catalog).")
        ],
        format: Annotated[
            FileFormat, typer.Option(help="The file's columns.")
        ] = FileFormat.INVOICE,
    ) -> None:
        """Keep a provider invoice (Bizgraph's CSV columns) or a Gemini Cloud Billing export as
        the provider's report of the days it covers, and print their drift table."""
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ValidationError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"cannot read {path}: {exc}") from exc
        rows = read_report_file(format.value, text, provider)
        origin = (
            ReportOrigin.BILLING_CSV
            if format is FileFormat.GEMINI_BILLING
            else ReportOrigin.INVOICE_CSV
        )

        async def work(c: Container) -> tuple[ReconciliationRun, Decimal, Decimal]:
            rec = c.reconciliation()
            return (
                await rec.import_report(provider, rows, origin),
                rec.rule.percent,
                rec.rule.minimum,
            )

        result, percent, minimum = run(work)
        typer.secho(f"imported {len(rows)} rows for {provider}", err=True)
        _print(result, percent, minimum)


def _print(result: ReconciliationRun, percent: Decimal, minimum: Decimal) -> None:
    table = result.table
    if result.fetched:
        typer.secho(f"fetched the reports of {', '.join(result.fetched)}", err=True)
    elif not table.reconciled_through:
        typer.secho(
            "no provider report fetched: set OPENAI_ADMIN_KEY or ANTHROPIC_ADMIN_KEY, or "
            "import one with `bizgraph reconcile-import` (docs/reconciliation.md)",
            err=True,
        )
    if not table.rows:
        typer.echo(f"nothing recorded or reported from {table.start} to {table.end}")
    for line in render(table, percent, minimum):
        typer.echo(line)
    drifting = sum(1 for r in table.rows if r.exceeds(percent, minimum))
    typer.echo(
        f"{len(table.rows)} rows, {drifting} drifting above {percent}%; "
        f"{result.alerts_raised} alerts raised"
    )
    for name, day in sorted(table.reconciled_through.items()):
        typer.echo(f"{name}: reconciled through {day.isoformat()}")
