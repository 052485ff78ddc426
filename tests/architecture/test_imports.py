"""The dependency rule of docs/architecture.md, checked on the source so it cannot rot."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
# The composition root, the package api/container/: the only api modules that may name concrete
# adapters and the runtime.
COMPOSITION_ROOT = "api/container"


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
    for package in ("domain", "formats", "runtime", "adapters", "api"):
        assert python_files(package), f"src/{package} has no modules"


@pytest.mark.parametrize("path", python_files("domain"), ids=lambda p: str(p.relative_to(SRC)))
def test_domain_imports_only_the_standard_library_and_itself(path: Path) -> None:
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        assert top in STDLIB or top == "domain", f"{path}:{line} imports {module}"


@pytest.mark.parametrize("path", python_files("formats"), ids=lambda p: str(p.relative_to(SRC)))
def test_formats_import_only_the_standard_library_the_domain_and_themselves(path: Path) -> None:
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        assert top in STDLIB or top in {"domain", "formats"}, f"{path}:{line} imports {module}"


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
    if path.relative_to(SRC).parent.as_posix() == COMPOSITION_ROOT:
        return
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        assert top not in {"adapters", "runtime"}, f"{path}:{line} imports {module}"


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import sqlalchemy\nfrom domain.billing.money import Money\n")
    assert [m for _, m in imported_modules(sample)] == ["sqlalchemy", "domain.billing.money"]


# Modules loaded by name would slip past the rules above and import-linter's contracts alike:
# no module in src loads one. importlib is used for package metadata and resources only.
IMPORTLIB_ALLOWED = {"importlib.metadata", "importlib.resources"}
LOADING_BUILTINS = {"__import__", "exec", "eval", "compile"}
LOADING_METHODS = {"import_module", "__import__"}


def loading_by_name(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(
                (node.lineno, f"import {alias.name}")
                for alias in node.names
                if alias.name.split(".")[0] == "importlib" and alias.name not in IMPORTLIB_ALLOWED
            )
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "importlib":
            modules = (
                [f"importlib.{alias.name}" for alias in node.names]
                if node.module == "importlib"
                else [node.module or ""]
            )
            found.extend(
                (node.lineno, f"from {node.module} import")
                for module in modules
                if module not in IMPORTLIB_ALLOWED
            )
        elif isinstance(node, ast.Call):
            callee = node.func
            if (isinstance(callee, ast.Name) and callee.id in LOADING_BUILTINS) or (
                isinstance(callee, ast.Attribute) and callee.attr in LOADING_METHODS
            ):
                found.append((node.lineno, f"{ast.unparse(callee)}()"))
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "modules"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            found.append((node.lineno, "sys.modules"))
    return found


@pytest.mark.parametrize(
    "path",
    [
        p
        for package in ("domain", "formats", "runtime", "adapters", "api")
        for p in python_files(package)
    ],
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_no_module_is_loaded_by_name(path: Path) -> None:
    assert loading_by_name(path) == [], path


def test_the_checker_sees_a_module_loaded_by_name(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import importlib\n"
        "from importlib import import_module, metadata\n"
        "from importlib.metadata import version\n"
        "import importlib.util\n"
        "import sys\n"
        "adapters = importlib.import_module('adapters.clock')\n"
        "api = __import__('api')\n"
        "loaded = sys.modules['adapters']\n"
    )
    assert [line for line, _ in loading_by_name(sample)] == [1, 2, 4, 6, 7, 8]


# The UnitOfWork/repository ports by name: routes and resolvers never name one (import-linter's
# routes-call-use-cases contract forbids domain.ports and every domain.*.ports there, except
# the Clock of graphql/view.py).
REPOSITORY_NAMES = ("Repository", "UnitOfWork", "UnitOfWorkFactory", "Repositories")
ROUTES_AND_RESOLVERS = [*python_files("api/rest"), *python_files("api/graphql")]


@pytest.mark.parametrize("path", ROUTES_AND_RESOLVERS, ids=lambda p: str(p.relative_to(SRC)))
def test_routes_and_resolvers_name_no_repository(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("domain"):
            for alias in node.names:
                assert not alias.name.endswith(REPOSITORY_NAMES), (
                    f"{path}:{node.lineno} imports {alias.name} from {node.module}"
                )
