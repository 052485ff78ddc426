"""import-linter's contracts (pyproject.toml, `lint-imports` in `make lint`) hold on the source,
and they are not vacuous: each deliberately broken import below, made in a copy of src/, fails
the contract that forbids it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def copy_of_the_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(REPO / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tree / "pyproject.toml")
    return tree


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on `tree`: its src/ comes first on the path (before the project's own)."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "COLUMNS": "240"}  # one line each
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def broken(contract: str, output: str) -> bool:
    return any(contract in line and "BROKEN" in line for line in output.splitlines())


def test_the_contracts_hold_on_the_source(tmp_path: Path) -> None:
    result = lint(copy_of_the_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


LAYERS = (
    "api above adapters and runtime (independent of each other), both above formats, above domain"
)
PURE_CORE = "domain, formats and runtime import the standard library and domain only"
COMPOSITION_ROOT = (
    "in api, only the composition root (api.container) names adapters and the runtime"
)
ROUTES = "routes and resolvers call use cases, never repositories, adapters or the runtime"


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("domain/billing/money.py", "import sqlalchemy", PURE_CORE),
        ("runtime/relay.py", "import orjson", PURE_CORE),
        ("formats/chat.py", "import orjson", PURE_CORE),
        ("formats/gemini/answers.py", "import aiohttp", PURE_CORE),
        ("formats/anthropic/tables.py", "from adapters.providers.http import Upstream", LAYERS),
        ("formats/chat.py", "from api.rest.errors import ApiError", LAYERS),
        ("domain/billing/money.py", "from formats.chat import usage_to_openai", LAYERS),
        ("domain/billing/money.py", "import api.settings", LAYERS),
        ("domain/usecases/calls.py", "from runtime.relay import RelayPool", LAYERS),
        ("runtime/relay.py", "from adapters.clock import SystemClock", LAYERS),
        ("adapters/clock.py", "from api.settings import Settings", LAYERS),
        ("api/app.py", "from adapters.clock import SystemClock", COMPOSITION_ROOT),
        ("api/cli/main.py", "from runtime.lookups import Lookups", COMPOSITION_ROOT),
        ("api/rest/chat.py", "from domain.ports import UnitOfWorkFactory", ROUTES),
        ("api/graphql/schema.py", "from api.container import Container", ROUTES),
        ("api/rest/gateway.py", "from domain.billing.ports import ClientRepository", ROUTES),
        (
            "api/graphql/clients.py",
            "from domain.invoicing.ports import InvoiceRepository",
            ROUTES,
        ),
    ],
)
def test_a_broken_import_fails_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    tree = copy_of_the_tree(tmp_path)
    path = tree / "src" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")

    result = lint(tree)

    assert result.returncode != 0, result.stdout
    assert broken(contract, result.stdout), result.stdout
