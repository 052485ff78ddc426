"""`bizgraph models ...`: the model catalog and its fallbacks."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.running import run

models_app = typer.Typer(help="The model catalog.", no_args_is_help=True)


@models_app.command("list")
def models_list() -> None:
    """List the models in the catalog."""
    for model in run(lambda c: c.catalog().models()):
        fallbacks = f"\tfallbacks: {','.join(model.fallbacks)}" if model.fallbacks else ""
        typer.echo(f"{model.id}\t{model.kind}\t{model.upstream_name}{fallbacks}")


@models_app.command("fallbacks")
def models_fallbacks(
    model_id: str,
    fallback: Annotated[list[str] | None, typer.Argument(help="Fallback models, in order.")] = None,
) -> None:
    """Set the models tried when MODEL_ID fails before answering (none given: clear them)."""
    model = run(lambda c: c.catalog().set_fallbacks(model_id, fallback or []))
    typer.echo(f"{model.id} falls back to: {', '.join(model.fallbacks) or 'nothing'}")
