"""The `bizgraph` command line: migrate, serve, and manage clients, keys and models."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, TypeVar

import typer

from api.cli_aliases import alias_commands
from api.cli_backup import add_backup_commands
from api.cli_invoices import invoice_commands
from api.cli_reconcile import reconcile_commands
from api.container import (
    BackupError,
    Container,
    close_container,
    database_status,
    default_catalog,
    make_container,
    migrate_database,
)
from api.logs import configure_cli_logging, uvicorn_log_config
from api.metrics import prepare_metrics_dir, remove_metrics_dir
from api.redaction import install_redaction
from api.settings import LogFormat, Settings, load_settings, log_format
from api.settings_values import SettingsError
from domain.access import Role
from domain.budgets import BudgetBasis, BudgetMode, BudgetStatus
from domain.clients import ClientStatus
from domain.errors import DomainError
from domain.money import Money, input_decimal
from domain.pricing import FixedFee, FixedPrice, PercentageMargin, PricingPlan
from domain.usage import UsageRecord
from domain.usecases.budgets import BudgetInput
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey

app = typer.Typer(help="Bizgraph: the AI billing gateway.", no_args_is_help=True)
clients_app = typer.Typer(help="Clients and their pricing plans.", no_args_is_help=True)
keys_app = typer.Typer(help="Client API keys.", no_args_is_help=True)
models_app = typer.Typer(help="The model catalog.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff tokens for the management API.", no_args_is_help=True)
budgets_app = typer.Typer(help="Budgets per client or key.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")
app.add_typer(staff_app, name="staff")
app.add_typer(budgets_app, name="budgets")

T = TypeVar("T")


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def main() -> None:
    configure_cli_logging(_log_format())
    install_redaction([])  # key shapes; the app adds the configured secrets when it starts
    try:
        app()
    except (CliError, DomainError, SettingsError, BackupError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(1)


def _log_format() -> LogFormat:
    try:
        return log_format()
    except SettingsError:
        return LogFormat.TEXT  # reported by load_settings, as every other setting


def _run(work: Callable[[Container], Awaitable[T]], *, needs_schema: bool = True) -> T:
    settings = load_settings()

    async def run() -> T:
        if needs_schema:
            status = await database_status(settings)
            if not status.is_current:
                raise CliError(status.message)
        container = make_container(settings)
        try:
            return await work(container)
        finally:
            await close_container(container)

    return asyncio.run(run())


invoices_app, ledger_app = invoice_commands(_run)
app.add_typer(invoices_app, name="invoices")
app.add_typer(ledger_app, name="ledger")
add_backup_commands(app)
app.add_typer(alias_commands(_run), name="aliases")
reconcile_commands(app, _run)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema and add the bundled model catalog's missing rows."""
    _migrate()


def _migrate() -> None:
    settings = load_settings()
    asyncio.run(migrate_database(settings))

    async def seed(container: Container) -> int:
        models, prices = default_catalog()
        return await container.catalog().seed(models, prices)

    added = _run(seed)
    typer.echo(f"database is at the current schema; {added} catalog rows added")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    migrate: Annotated[
        bool,
        typer.Option(
            help="Run `bizgraph migrate` first (a container's start).",
            envvar="BIZGRAPH_MIGRATE_ON_START",
        ),
    ] = False,
) -> None:
    """Serve the gateway (uvloop + httptools, request heads bounded)."""
    import uvicorn

    from api.serving import server_options

    if migrate:  # before the workers start, so they never race each other to migrate
        _migrate()
    settings = load_settings()  # generates the secret once, before workers start
    status = asyncio.run(database_status(settings))
    if not status.is_current:
        raise CliError(status.message)
    _warn_unsafe(settings, host)
    metrics_dir = None
    if settings.metrics.enabled:
        # prometheus-client's multiprocess mode: set before a worker (or this process, with
        # one worker) imports the client; the workers inherit it.
        metrics_dir = prepare_metrics_dir(settings)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    try:
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            log_config=uvicorn_log_config(settings.log_format),  # workers apply it too
            timeout_graceful_shutdown=int(settings.drain_after_disconnect_seconds),
            log_level="info",
            **server_options(),  # uvloop, httptools with request heads bounded
        )
    finally:
        if metrics_dir is not None:
            remove_metrics_dir(metrics_dir)


@app.command()
def doctor() -> None:
    """Check the configuration, database, migrations, providers, SMTP and Redis; say what is
    wrong and how to fix it (exit status 1 when anything is)."""
    from api import doctor as checks

    findings, status = checks.run()
    checks.print_report(findings, typer.echo)
    raise typer.Exit(status)


def _warn_unsafe(settings: Settings, host: str) -> None:
    if settings.is_development and host not in ("127.0.0.1", "localhost", "::1"):
        # A log line, not a print: with BIZGRAPH_LOG_FORMAT=json it is JSON like the rest.
        logging.getLogger("bizgraph.cli").warning("development mode on a public interface")


def _plan(
    margin: str | None, monthly_fee: str | None, monthly_price: str | None, currency: str
) -> PricingPlan:
    given = [v for v in (margin, monthly_fee, monthly_price) if v is not None]
    if len(given) != 1:
        raise CliError("give exactly one of --margin, --monthly-fee, --monthly-price")
    if margin is not None:
        return PercentageMargin(_decimal(margin, "--margin"))
    if monthly_fee is not None:
        return FixedFee(Money(_decimal(monthly_fee, "--monthly-fee"), currency))
    assert monthly_price is not None
    return FixedPrice(Money(_decimal(monthly_price, "--monthly-price"), currency))


def _decimal(value: str, option: str) -> Decimal:
    """Parsed by the same helper as GraphQL's inputs: too large or too precise to store is a
    one-line error (InvalidAmount) and exit status 1."""
    try:
        Decimal(value)
    except InvalidOperation:
        raise CliError(f"{option} must be a decimal number, not {value!r}") from None
    return input_decimal(value, what=option)


def _instant(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option} must be an ISO 8601 instant, not {value!r}") from None
    if parsed.tzinfo is None:
        raise CliError(f"{option} needs a time zone offset, e.g. 2026-01-01T00:00:00+00:00")
    return parsed


Margin = Annotated[str | None, typer.Option(help="percentage_margin: percent on top of cost.")]
Fee = Annotated[str | None, typer.Option(help="fixed_fee: monthly fee on top of cost.")]
Price = Annotated[str | None, typer.Option(help="fixed_price: monthly price, usage included.")]


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
        plan=_plan(margin, monthly_fee, monthly_price, currency),
        currency=currency,
        billing_email=email,
        tax_rate=_decimal(tax_rate, "--tax-rate"),
        plan_effective_from=_instant(plan_from, "--plan-from"),
    )
    client, version = _run(lambda c: c.clients().create(new))
    typer.echo(
        f"client {client.id} {client.name!r}: {version.plan.kind} from "
        f"{version.effective_from.isoformat()}"
    )


@clients_app.command("list")
def clients_list() -> None:
    """List clients."""
    for client in _run(lambda c: c.clients().list()):
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
        plan = _plan(margin, monthly_fee, monthly_price, client.currency)
        version = await c.clients().set_plan(
            client_id, plan, _instant(effective_from, "--effective-from")
        )
        return f"{version.plan.kind} from {version.effective_from.isoformat()}"

    typer.echo(_run(work))


@clients_app.command("suspend")
def clients_suspend(client_id: str) -> None:
    """Suspend a client: its keys stop working within a second (docs/metering.md)."""
    _run(lambda c: c.clients().set_status(client_id, ClientStatus.SUSPENDED))
    typer.echo(f"client {client_id} suspended")


@clients_app.command("resume")
def clients_resume(client_id: str) -> None:
    """Resume a suspended client."""
    _run(lambda c: c.clients().set_status(client_id, ClientStatus.ACTIVE))
    typer.echo(f"client {client_id} active")


@clients_app.command("usage")
def clients_usage(
    client_id: str,
    period: Annotated[
        str | None, typer.Option(help="Month YYYY-MM, default the current one.")
    ] = None,
) -> None:
    """A client's usage, cost, revenue and profit for a month so far (the draft invoice)."""
    draft = _run(lambda c: c.clients().draft(client_id, period))
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

    records = _run(work)
    typer.echo(f"{len(records)} estimated calls")
    for r in records:
        typer.echo(
            f"{r.started_at.isoformat()}  {r.request_id}#{r.attempt}  {r.model_id}  {r.status}  "
            f"in {r.usage.input_tokens} out {r.usage.output_tokens}  charge {r.charge}"
        )


@keys_app.command("issue")
def keys_issue(
    client_id: str,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    expires_at: Annotated[str | None, typer.Option(help="Expiry (ISO 8601).")] = None,
    model: Annotated[list[str] | None, typer.Option(help="Allowed model (repeat).")] = None,
    rpm: Annotated[int | None, typer.Option(help="Requests per minute.")] = None,
    tpm: Annotated[int | None, typer.Option(help="Tokens per minute.")] = None,
) -> None:
    """Issue an API key for a client. The key is printed once and never again."""
    new = NewKey(
        client_id, name, _instant(expires_at, "--expires-at"), tuple(model or ()), rpm, tpm
    )
    issued = _run(lambda c: c.keys().issue(new))
    typer.echo(issued.secret)
    typer.secho(
        f"key {issued.key.id} ({issued.key.prefix}...): store it now, it is not shown again",
        err=True,
    )


@keys_app.command("list")
def keys_list(client_id: str) -> None:
    """List a client's keys (prefixes only)."""
    for key in _run(lambda c: c.keys().for_client(client_id)):
        state = "revoked" if key.revoked_at else "active"
        typer.echo(f"{key.id}\t{key.prefix}...\t{state}\t{key.name}")


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key; it stops working within a second (docs/metering.md)."""
    _run(lambda c: c.keys().revoke(key_id))
    typer.echo(f"key {key_id} revoked")


@keys_app.command("limits")
def keys_limits(
    key_id: str,
    rpm: Annotated[int | None, typer.Option(help="Requests per minute (omit: none).")] = None,
    tpm: Annotated[int | None, typer.Option(help="Tokens per minute (omit: none).")] = None,
) -> None:
    """Set a key's rate limits; effective within a second (docs/metering.md)."""
    key = _run(lambda c: c.keys().set_rate_limits(key_id, rpm, tpm))
    typer.echo(f"key {key.id}: rpm {key.rpm_limit or '-'}, tpm {key.tpm_limit or '-'}")


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
    new = BudgetInput(_decimal(limit, "--limit"), mode, basis, tuple(threshold or (50, 80, 100)))

    async def work(c: Container) -> BudgetStatus:
        if key is None:
            return await c.budgets().set_for_client(client_id, new)
        return await c.budgets().set_for_key(key, new)

    _print_budget(_run(work))


@budgets_app.command("show")
def budgets_show(
    client_id: str, key: Annotated[str | None, typer.Option(help="A key's budget.")] = None
) -> None:
    """Where a budget stands this period."""

    async def work(c: Container) -> BudgetStatus | None:
        if key is None:
            return await c.budgets().of_client(client_id)
        return await c.budgets().of_key(client_id, key)

    found = _run(work)
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

    removed = _run(work)
    typer.echo("budget removed" if removed else "there was no budget")


def _print_budget(status: BudgetStatus) -> None:
    budget = status.budget
    typer.echo(
        f"{budget.scope} {budget.mode} {budget.limit} for {status.period.label}: "
        f"spent {status.spent}, reserved {status.reserved}, remaining {status.remaining} "
        f"({status.used_percent}%), thresholds {','.join(map(str, budget.thresholds))}"
    )


@models_app.command("list")
def models_list() -> None:
    """List the models in the catalog."""
    for model in _run(lambda c: c.catalog().models()):
        fallbacks = f"\tfallbacks: {','.join(model.fallbacks)}" if model.fallbacks else ""
        typer.echo(f"{model.id}\t{model.kind}\t{model.upstream_name}{fallbacks}")


@models_app.command("fallbacks")
def models_fallbacks(
    model_id: str,
    fallback: Annotated[list[str] | None, typer.Argument(help="Fallback models, in order.")] = None,
) -> None:
    """Set the models tried when MODEL_ID fails before answering (none given: clear them)."""
    model = _run(lambda c: c.catalog().set_fallbacks(model_id, fallback or []))
    typer.echo(f"{model.id} falls back to: {', '.join(model.fallbacks) or 'nothing'}")


@staff_app.command("issue")
def staff_issue(
    name: Annotated[str, typer.Option(help="Whose token it is.")],
    role: Annotated[Role, typer.Option(help="owner, admin or viewer.")] = Role.OWNER,
    email: Annotated[str | None, typer.Option(help="The staff member's email.")] = None,
) -> None:
    """Issue a staff token for /graphql (and the admin web app). Printed once, never again."""
    issued = _run(lambda c: c.access().create_staff_token(name, role, email))
    typer.echo(issued.secret)
    typer.secho(
        f"staff token {issued.token.id} ({issued.token.prefix}..., {issued.token.role}): "
        "store it now, it is not shown again",
        err=True,
    )


@staff_app.command("list")
def staff_list() -> None:
    """List staff tokens (prefixes only)."""
    for token in _run(lambda c: c.access().staff_tokens()):
        state = "revoked" if token.revoked_at else "active"
        typer.echo(f"{token.id}\t{token.prefix}...\t{token.role}\t{state}\t{token.name}")


@staff_app.command("revoke")
def staff_revoke(token_id: str) -> None:
    """Revoke a staff token; it stops working on its next request."""
    _run(lambda c: c.access().revoke_staff_token(token_id))
    typer.echo(f"staff token {token_id} revoked")
