"""`bizgraph credentials set|list|remove|settings|rotate` (registered by api.cli.main):
clients' own provider keys (docs/byok.md). A key is never an argument (shell history, process
lists): it is typed at a hidden prompt or read from an environment variable, and only its last
four characters are ever printed."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from api.cli.running import CliError
from api.container import Container
from api.container.byok import rotation
from domain.billing.money import input_decimal
from domain.byok.credentials import BudgetBasis, ByokSettings, CredentialInput, OnRevoke
from domain.byok.fees import ByokFee, FeeKind

Runner = Callable[[Callable[[Container], Awaitable[Any]]], Any]


def _from_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise CliError(f"the environment variable {name} is not set")
    return value


def credential_commands(run: Runner) -> typer.Typer:
    app = typer.Typer(
        help="Clients' own provider keys (BYOK): stored encrypted, shown masked.",
        no_args_is_help=True,
    )

    @app.command("set")
    def set_(
        client: Annotated[str, typer.Argument(help="The client id.")],
        provider: Annotated[str, typer.Argument(help="openai, anthropic or google.")],
        key_env: Annotated[
            str | None,
            typer.Option("--key-env", help="Read the key from this variable (else a prompt)."),
        ] = None,
        base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL.")] = None,
        organization: Annotated[str | None, typer.Option(help="OpenAI organization id.")] = None,
        project: Annotated[str | None, typer.Option(help="OpenAI project id.")] = None,
        model: Annotated[
            list[str] | None, typer.Option("--model", help="Only these models (repeat).")
        ] = None,
    ) -> None:
        """Check the key with the provider (one list-models request), then store it
        encrypted, replacing the client's key for the same provider and models."""
        key = _from_env(key_env) if key_env else typer.prompt("API key", hide_input=True)
        new = CredentialInput(
            client, provider, key, base_url, organization, project, tuple(model or ())
        )
        stored = run(lambda c: c.byok().set_credential(new))
        typer.echo(f"credential {stored.id} stored for {client}: {provider} …{stored.last4}")

    @app.command("list")
    def list_(client: Annotated[str, typer.Argument(help="The client id.")]) -> None:
        """id, provider, key (masked), models ('*': all), last used, removed."""
        for c in run(lambda container: container.byok().credentials(client)):
            used = c.last_used_at.isoformat() if c.last_used_at else "never"
            removed = c.revoked_at.isoformat() if c.revoked_at else "-"
            models = " ".join(c.models) or "*"
            typer.echo(f"{c.id}\t{c.provider}\t…{c.last4}\t{models}\t{used}\t{removed}")

    @app.command("remove")
    def remove(client: str, credential: str) -> None:
        """Remove a credential: its ciphertext is wiped; calls then use the agency's key or
        are refused, as the client's BYOK settings say."""
        removed = run(lambda c: c.byok().remove_credential(client, credential))
        typer.echo(f"credential {removed.id} removed")

    @app.command("settings")
    def settings(
        client: str,
        fee: Annotated[
            FeeKind, typer.Option(help="How BYOK calls are charged.")
        ] = FeeKind.INCLUDED,
        amount: Annotated[str, typer.Option(help="Percent, or amount per request/million.")] = "0",
        budget_basis: Annotated[BudgetBasis, typer.Option()] = BudgetBasis.FEE,
        fallback_to_agency: Annotated[bool, typer.Option()] = False,
        on_revoke: Annotated[OnRevoke, typer.Option()] = OnRevoke.AGENCY,
    ) -> None:
        """Set the client's BYOK fee, budget basis, fallback rule and removal behaviour."""
        chosen = ByokSettings(
            client,
            ByokFee(fee, input_decimal(amount, what="the fee amount")),
            budget_basis,
            fallback_to_agency,
            on_revoke,
        )
        run(lambda c: c.byok().set_settings(chosen))
        typer.echo(f"BYOK settings of {client}: {fee.value} {chosen.fee.amount}")

    @app.command("rotate")
    def rotate(
        old_secret_env: Annotated[
            str,
            typer.Option(help="The variable holding the previous BIZGRAPH_SECRET_KEY."),
        ],
    ) -> None:
        """Re-encrypt every stored credential under the key of the current
        BIZGRAPH_SECRET_KEY, in one transaction (all or nothing)."""
        old = _from_env(old_secret_env)
        count = run(lambda c: rotation(c, [old]).rotate())
        typer.echo(f"{count} credentials re-encrypted under the current key")

    return app
