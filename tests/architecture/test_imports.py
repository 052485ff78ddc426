"""The dependency rule of docs/architecture.md, checked on the source so it cannot rot."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
# The composition root: the only api modules that may name concrete adapters and the runtime.
COMPOSITION_ROOT = {"api/container.py"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append((node.lineno, f"<relative level {node.level}>"))
    return found


def python_files(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def test_the_packages_exist() -> None:
    for package in ("domain", "runtime", "adapters", "api"):
        assert python_files(package), f"src/{package} has no modules"


@pytest.mark.parametrize("path", python_files("domain"), ids=lambda p: str(p.relative_to(SRC)))
def test_domain_imports_only_the_standard_library_and_itself(path: Path) -> None:
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        assert top in STDLIB or top == "domain", f"{path}:{line} imports {module}"


@pytest.mark.parametrize("path", python_files("runtime"), ids=lambda p: str(p.relative_to(SRC)))
def test_the_runtime_imports_only_the_standard_library_the_domain_and_itself(path: Path) -> None:
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        assert top in STDLIB or top in {"domain", "runtime"}, f"{path}:{line} imports {module}"


@pytest.mark.parametrize("path", python_files("adapters"), ids=lambda p: str(p.relative_to(SRC)))
def test_adapters_never_import_api_or_the_runtime(path: Path) -> None:
    for line, module in imported_modules(path):
        assert module.split(".")[0] not in {"api", "runtime"}, f"{path}:{line} imports {module}"


@pytest.mark.parametrize("path", python_files("api"), ids=lambda p: str(p.relative_to(SRC)))
def test_only_the_composition_root_names_adapters_and_the_runtime(path: Path) -> None:
    if str(path.relative_to(SRC)) in COMPOSITION_ROOT:
        return
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        assert top not in {"adapters", "runtime"}, f"{path}:{line} imports {module}"


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import sqlalchemy\nfrom domain.money import Money\n")
    assert [m for _, m in imported_modules(sample)] == ["sqlalchemy", "domain.money"]
