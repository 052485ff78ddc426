"""The running version, for the `version` query."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version


def version() -> str:
    try:
        return package_version("bizgraph")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"
