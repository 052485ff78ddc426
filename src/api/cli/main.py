"""The `bizgraph` command line: migrate, serve, and manage clients, keys and models."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Annotated

import typer

from api.cli.aliases import alias_commands
from api.cli.backup import add_backup_commands
from api.cli.budgets import budgets_app
from api.cli.catalog import models_app
from api.cli.clients import clients_app
from api.cli.credentials import credential_commands
from api.cli.delivery import delivery_commands
from api.cli.invoices import invoice_commands
from api.cli.keys import keys_app, staff_app
from api.cli.rates import rates_app
from api.cli.reconcile import reconcile_commands
from api.cli.running import CliError, run
from api.cli.settle import estimate_commands
from api.cli.tax import export_app, tax_app
from api.cli.wallets import wallets_app
from api.container import Container
from api.container.database import BackupError, database_status, default_catalog, migrate_database
from api.logs import configure_cli_logging, uvicorn_log_config
from api.metrics import prepare_metrics_dir, remove_metrics_dir
from api.redaction import install_redaction
from api.settings import LogFormat, Settings, load_settings, log_format
from api.settings_values import SettingsError
from domain.errors import DomainError

app = typer.Typer(help="Bizgraph: the AI billing gateway.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")
app.add_typer(staff_app, name="staff")
app.add_typer(budgets_app, name="budgets")
app.add_typer(tax_app, name="tax")
app.add_typer(rates_app, name="rates")
app.add_typer(export_app, name="export")
app.add_typer(wallets_app, name="wallets")


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


invoices_app, ledger_app = invoice_commands(run)
app.add_typer(invoices_app, name="invoices")
app.add_typer(ledger_app, name="ledger")
app.add_typer(delivery_commands(invoices_app, run), name="dunning")
add_backup_commands(app)
app.add_typer(alias_commands(run), name="aliases")
app.add_typer(credential_commands(run), name="credentials")
reconcile_commands(app, run)
app.add_typer(estimate_commands(run), name="estimates")


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

    added = run(seed)
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
