"""`bizgraph keys ...` and `bizgraph staff ...`: client API keys and their limits, staff tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.options import instant_option
from api.cli.running import run
from domain.access.principals import Role
from domain.usecases.keys import NewKey

keys_app = typer.Typer(help="Client API keys.", no_args_is_help=True)


staff_app = typer.Typer(help="Staff tokens for the management API.", no_args_is_help=True)


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
        client_id, name, instant_option(expires_at, "--expires-at"), tuple(model or ()), rpm, tpm
    )
    issued = run(lambda c: c.keys().issue(new))
    typer.echo(issued.secret)
    typer.secho(
        f"key {issued.key.id} ({issued.key.prefix}...): store it now, it is not shown again",
        err=True,
    )


@keys_app.command("list")
def keys_list(client_id: str) -> None:
    """List a client's keys (prefixes only)."""
    for key in run(lambda c: c.keys().for_client(client_id)):
        state = "revoked" if key.revoked_at else "active"
        typer.echo(f"{key.id}\t{key.prefix}...\t{state}\t{key.name}")


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key; it stops working within a second (docs/metering.md)."""
    run(lambda c: c.keys().revoke(key_id))
    typer.echo(f"key {key_id} revoked")


@keys_app.command("limits")
def keys_limits(
    key_id: str,
    rpm: Annotated[int | None, typer.Option(help="Requests per minute (omit: none).")] = None,
    tpm: Annotated[int | None, typer.Option(help="Tokens per minute (omit: none).")] = None,
) -> None:
    """Set a key's rate limits; effective within a second (docs/metering.md)."""
    key = run(lambda c: c.keys().set_rate_limits(key_id, rpm, tpm))
    typer.echo(f"key {key.id}: rpm {key.rpm_limit or '-'}, tpm {key.tpm_limit or '-'}")


@staff_app.command("issue")
def staff_issue(
    name: Annotated[str, typer.Option(help="Whose token it is.")],
    role: Annotated[Role, typer.Option(help="owner, admin or viewer.")] = Role.OWNER,
    email: Annotated[str | None, typer.Option(help="The staff member's email.")] = None,
) -> None:
    """Issue a staff token for /graphql (and the admin web app). Printed once, never again."""
    issued = run(lambda c: c.access().create_staff_token(name, role, email))
    typer.echo(issued.secret)
    typer.secho(
        f"staff token {issued.token.id} ({issued.token.prefix}..., {issued.token.role}): "
        "store it now, it is not shown again",
        err=True,
    )


@staff_app.command("list")
def staff_list() -> None:
    """List staff tokens (prefixes only)."""
    for token in run(lambda c: c.access().staff_tokens()):
        state = "revoked" if token.revoked_at else "active"
        typer.echo(f"{token.id}\t{token.prefix}...\t{token.role}\t{state}\t{token.name}")


@staff_app.command("revoke")
def staff_revoke(token_id: str) -> None:
    """Revoke a staff token; it stops working on its next request."""
    run(lambda c: c.access().revoke_staff_token(token_id))
    typer.echo(f"staff token {token_id} revoked")
