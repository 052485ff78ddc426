"""`bizgraph aliases set|list|remove` (registered by api.cli.main): model aliases
(docs/aliases.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from api.container import Container
from domain.usecases.aliases import AliasInput

Runner = Callable[[Callable[[Container], Awaitable[Any]]], Any]

Client = Annotated[
    str | None, typer.Option("--client", help="A client id (omit: the agency's, every client).")
]


def alias_commands(run: Runner) -> typer.Typer:
    aliases_app = typer.Typer(
        help="Model aliases: names client apps use, mapped to catalog models.",
        no_args_is_help=True,
    )

    @aliases_app.command("set")
    def set_(
        name: Annotated[str, typer.Argument(help="The name client apps send, e.g. gpt-4o.")],
        model: Annotated[str, typer.Argument(help="The catalog model it calls (provider/model).")],
        client: Client = None,
    ) -> None:
        """Create an alias, or point an existing one at another model (effective at once)."""
        alias = run(lambda c: c.aliases().set(AliasInput(name, model, client)))
        whose = "every client" if alias.client_id is None else f"client {alias.client_id}"
        typer.echo(f"alias {alias.name} -> {alias.model_id} for {whose}")

    @aliases_app.command("list")
    def list_(client: Client = None) -> None:
        """Every alias, or those a client may call (its own over the agency's): name, model,
        client ('*': every client)."""
        for alias in run(lambda c: c.aliases().list(client)):
            typer.echo(f"{alias.name}\t{alias.model_id}\t{alias.client_id or '*'}")

    @aliases_app.command("remove")
    def remove(name: str, client: Client = None) -> None:
        """Remove an alias; calls naming it are refused as an unknown model from then on."""
        alias = run(lambda c: c.aliases().remove(client, name))
        typer.echo(f"alias {alias.name} removed")

    return aliases_app
