"""compose.yaml, checked without a container daemon: the services, their health checks and
volumes, the start order, the published port, and every variable Bizgraph gets (documented in
docs/configuration.md, read by the settings or the CLI, and a configuration they accept)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main
import yaml

from api.cli.main import app
from api.settings import load_settings
from api.settings_values import SettingsError

ROOT = Path(__file__).resolve().parents[2]
STRONG = "Zq8vN2xK5pL0rT7wY3bC6dF9gH1jM4sA"  # 32 characters, all different
# What an operator puts in `.env`.
OPERATOR = {"POSTGRES_PASSWORD": "0123456789abcdef", "BIZGRAPH_SECRET_KEY": STRONG}
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}")


class MissingVariable(Exception):
    """Compose's `${NAME:?message}`: the stack refuses to start."""


def interpolate(value: str, shell: Mapping[str, str]) -> str:
    """Compose's variable substitution, the forms this file uses."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group("name", "op", "arg")
        if shell.get(name):
            return shell[name]
        if op == ":?":
            raise MissingVariable(f"{name}: {arg}")
        return arg or ""

    return VARIABLE.sub(one, value)


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def bizgraph_environment(shell: Mapping[str, str]) -> dict[str, str]:
    environment = compose()["services"]["bizgraph"]["environment"]
    assert isinstance(environment, dict)  # a mapping, so each name is visible to this test
    return {name: interpolate(str(value), shell) for name, value in environment.items()}


def documented() -> set[str]:
    """The variable names in the first column of docs/configuration.md's table."""
    names: set[str] = set()
    for line in (ROOT / "docs" / "configuration.md").read_text().splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) > 2:
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[1]))
    return names


class Recording(dict[str, str]):
    """An environment that notes which names the settings read."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)


def cli_variables() -> set[str]:
    """Environment variables the `serve` command's options read (BIZGRAPH_MIGRATE_ON_START)."""
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)
    return {p.envvar for p in command.commands["serve"].params if isinstance(p.envvar, str)}


def test_the_stack_is_bizgraph_postgres_and_redis_with_health_checks() -> None:
    services = compose()["services"]

    assert set(services) == {"bizgraph", "postgres", "redis"}
    assert services["bizgraph"]["build"] == "."
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    # Bizgraph's own health check is the image's HEALTHCHECK (tests/deploy/test_container.py).
    assert "healthcheck" not in services["bizgraph"]


def test_bizgraph_starts_after_its_stores_are_healthy() -> None:
    depends_on = compose()["services"]["bizgraph"]["depends_on"]

    assert depends_on == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


def test_the_stores_keep_their_data_in_named_volumes_and_are_not_published() -> None:
    stack = compose()
    declared = set(stack["volumes"])

    for name, path in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        service = stack["services"][name]
        assert "ports" not in service  # reached by Bizgraph on the compose network only
        [volume] = service["volumes"]
        source, target = volume.split(":")
        assert source in declared
        assert target == path


def test_bizgraph_is_published_on_the_port_it_serves() -> None:
    [published] = compose()["services"]["bizgraph"]["ports"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    exposed = re.search(r"^EXPOSE (\d+)$", dockerfile, re.M)

    assert exposed is not None
    assert published == f"127.0.0.1:{exposed.group(1)}:{exposed.group(1)}"


def test_every_variable_is_documented_and_read() -> None:
    environment = bizgraph_environment(OPERATOR)
    recording = Recording(environment)

    load_settings(recording)
    cli = cli_variables()

    assert cli == {"BIZGRAPH_MIGRATE_ON_START"}
    assert set(environment) - documented() == set()
    assert set(environment) - recording.read - cli == set()


def test_the_configuration_is_accepted_in_production_and_points_at_the_stack() -> None:
    settings = load_settings(bizgraph_environment(OPERATOR))
    postgres = compose()["services"]["postgres"]["environment"]

    assert not settings.is_development
    assert settings.secret_key == STRONG
    assert settings.admin_token is None  # optional; staff tokens come from the CLI
    assert settings.database_url == (
        f"postgresql://{postgres['POSTGRES_USER']}:{OPERATOR['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert settings.redis_url == "redis://redis:6379/0"
    assert interpolate(postgres["POSTGRES_PASSWORD"], OPERATOR) == OPERATOR["POSTGRES_PASSWORD"]


@pytest.mark.parametrize("secret", ["POSTGRES_PASSWORD", "BIZGRAPH_SECRET_KEY"])
def test_the_stack_refuses_to_start_without_a_secret(secret: str) -> None:
    shell = {k: v for k, v in OPERATOR.items() if k != secret}

    with pytest.raises(MissingVariable, match=secret):
        bizgraph_environment(shell)


@pytest.mark.parametrize("secret", ["BIZGRAPH_SECRET_KEY", "BIZGRAPH_ADMIN_TOKEN"])
def test_bizgraph_refuses_a_weak_secret(secret: str) -> None:
    shell = {**OPERATOR, secret: "change-me"}

    with pytest.raises(SettingsError, match=secret):
        load_settings(bizgraph_environment(shell))
