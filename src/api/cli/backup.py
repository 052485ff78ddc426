"""`bizgraph backup PATH` and `bizgraph restore PATH` (registered by api.cli.main; see
docs/operations.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from api.container.database import backup_database, describe_counts, restore_database
from api.settings import load_settings

# A failure raises BackupError, which api.cli.main prints as a message with exit status 1.


def add_backup_commands(app: typer.Typer) -> None:
    @app.command()
    def backup(
        path: Annotated[Path, typer.Argument(help="The backup file to write.")],
        force: Annotated[bool, typer.Option(help="Overwrite PATH if it exists.")] = False,
    ) -> None:
        """Back up the configured database to PATH while the gateway keeps serving (SQLite: a
        consistent copy; PostgreSQL: pg_dump's custom format)."""
        settings = load_settings()
        report = asyncio.run(backup_database(settings, path, force=force))
        typer.echo(
            f"backup written to {report.path}: {_size(report.size)}, schema {report.revision}, "
            f"{describe_counts(report.counts)}"
        )

    @app.command()
    def restore(
        path: Annotated[Path, typer.Argument(help="A file written by `bizgraph backup`.")],
        force: Annotated[
            bool, typer.Option(help="Replace the configured database even if it holds data.")
        ] = False,
    ) -> None:
        """Restore a backup into the configured database (refused if that database holds data,
        unless --force). Stop the gateway first."""
        settings = load_settings()
        report = asyncio.run(restore_database(settings, path, force=force))
        if report.replaced is not None:
            typer.secho(
                f"replaced what {report.target} held: {describe_counts(report.replaced)}",
                err=True,
                fg=typer.colors.YELLOW,
            )
        typer.echo(
            f"restored {path} into {report.target}: schema {report.revision}, "
            f"{describe_counts(report.counts)}"
        )
        if report.behind:
            typer.secho(
                "the backup is at an older schema: run `bizgraph migrate` before serving",
                err=True,
                fg=typer.colors.YELLOW,
            )


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    scaled = size / 1024
    for unit in ("KiB", "MiB"):
        if scaled < 1024:
            return f"{scaled:.1f} {unit} ({size} bytes)"
        scaled /= 1024
    return f"{scaled:.1f} GiB ({size} bytes)"
