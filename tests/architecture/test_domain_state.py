"""No module-level mutable state in the domain: whatever a running application changes lives
in an instance its container owns (src/runtime/), so two applications in one process share
nothing. Every module-level name assigned in src/domain must hold a value that cannot change
(numbers, strings, tuples and frozensets of such, read-only mappings, frozen dataclasses,
enums, types and type aliases, stateless objects), and no `global` statement may rebind one."""

from __future__ import annotations

import ast
import dataclasses
import datetime
import decimal
import enum
import fractions
import importlib
import logging
import re
import types
import typing
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# Module-level objects of a mutable type kept on purpose, each with its reason.
ALLOWED = {
    # decimal offers no frozen context: its precision and traps are set here once and never
    # changed; the flags an operation records on it are never read (the traps raise instead).
    ("domain.billing.money", "EXACT"),
}
# Mutable by type, but holding no application state: a logger is the logging module's
# process-wide registry entry (configured once, by the entry point); a ContextVar's value
# belongs to each context (each request's task), not to the module.
SHARED_BY_DESIGN = (logging.Logger, ContextVar)
IMMUTABLE = (
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
    decimal.Decimal,
    fractions.Fraction,
    datetime.timedelta,
    datetime.date,
    datetime.time,
    datetime.tzinfo,
    range,
    re.Pattern,
    enum.Enum,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.GenericAlias,
    types.UnionType,
    typing.TypeVar,
    typing.ParamSpec,
)


def immutable(value: Any) -> bool:
    if isinstance(value, tuple | frozenset):
        return all(immutable(item) for item in value)
    if isinstance(value, types.MappingProxyType):
        return all(immutable(k) and immutable(v) for k, v in value.items())
    if isinstance(value, IMMUTABLE) or type(value).__module__ == "typing":
        return True  # the last: typing's aliases (Callable[...], Literal[...], ...)
    if dataclasses.is_dataclass(value):
        frozen: bool = getattr(type(value), "__dataclass_params__").frozen  # noqa: B009
        return frozen and all(immutable(getattr(value, f.name)) for f in dataclasses.fields(value))
    return stateless(value)


def stateless(value: Any) -> bool:
    """An object with no room for state: every class it is made of declares empty
    `__slots__` (a no-op implementation of a port; `object()` as a sentinel). Built-in
    containers (list, dict, set, bytearray, deque, ...) declare none."""
    return all(vars(c).get("__slots__", None) == () for c in type(value).__mro__[:-1])


def module_level_names(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Names bound by an assignment at module level (in if/try blocks too)."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.If | ast.Try):
            pending.extend(node.body + node.orelse)
            if isinstance(node, ast.Try):
                pending.extend(node.finalbody)
                for handler in node.handlers:
                    pending.extend(handler.body)
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and (
            not isinstance(node, ast.AnnAssign) or node.value is not None
        ):
            targets = [node.target]
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    yield node.lineno, name.id


def problems(tree: ast.Module, namespace: dict[str, Any], module: str) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.append(f"line {node.lineno}: global {', '.join(node.names)}")
        if isinstance(node, ast.AugAssign) and node in tree.body:
            found.append(f"line {node.lineno}: a module-level name is changed in place")
    for line, name in module_level_names(tree):
        if name not in namespace or (module, name) in ALLOWED:
            continue  # TYPE_CHECKING-only names
        value = namespace[name]
        if isinstance(value, SHARED_BY_DESIGN) or immutable(value):
            continue
        found.append(f"line {line}: {name} holds a mutable {type(value).__name__}")
    return found


def domain_modules() -> list[Path]:
    return sorted((SRC / "domain").rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("path", domain_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_the_domain_keeps_no_module_level_mutable_state(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    module = importlib.import_module(name)
    assert problems(tree, vars(module), name) == [], path


def scan(source: str) -> list[str]:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<sample>", "exec"), namespace)  # the sample below, nothing else
    return problems(ast.parse(source), namespace, "<sample>")


def test_the_scan_sees_mutable_state() -> None:
    sample = """
import asyncio
from dataclasses import dataclass

@dataclass
class Box:
    items: tuple[int, ...] = ()

class Counter:
    def __init__(self) -> None:
        self.count = 0

RUNNING: set[asyncio.Task[None]] = set()
CACHE = {}
LIMITS = [1, 2]
BUFFER = bytearray(4)
BOX = Box()
COUNTER = Counter()
TOTAL = 0

def bump() -> None:
    global TOTAL
    TOTAL += 1
"""
    found = scan(sample)
    flagged = {problem.split(": ", 1)[1].split(" ")[0] for problem in found}
    assert {"RUNNING", "CACHE", "LIMITS", "BUFFER", "BOX", "COUNTER", "global"} <= flagged, found


def test_the_scan_lets_constants_through() -> None:
    sample = """
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import TypeVar

class Kind(Enum):
    A = "a"

@dataclass(frozen=True)
class Point:
    x: int
    kind: Kind

class NoOp:
    __slots__ = ()

T = TypeVar("T")
JSON = dict[str, int]
Either = int | str
RATE = Decimal("0.1")
KINDS = frozenset({Kind.A})
NAMES = MappingProxyType({"a": 1})
PATTERN = re.compile("[a-z]+")
ORIGIN = Point(0, Kind.A)
NOTHING = NoOp()
END = object()
PAIRS = ((1, "a"), (2, "b"))
"""
    assert scan(sample) == []
