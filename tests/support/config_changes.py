"""A test's operator container standing in for the served gateway's own management API.

Tests that serve the gateway app in a thread (tests/api) make their configuration changes
through a second container, a second "process" in the gateway's eyes, which would see them
only within a second (docs/metering.md). Product rules such as "a revoked key is refused on
the next request" hold at once within the process that made the change, which is what these
tests stand for, so the operator container's configuration commits also tell the served app's
RevisionWatch. Real separate processes (tests/processes) get no such help.
"""

from __future__ import annotations

from dependency_injector import providers

from adapters.persistence.unit_of_work import unit_of_work_factory
from api.container import Container


def as_the_served_process(operator: Container, served: Container) -> None:
    """Call before `operator` has made any use case (they capture its unit of work)."""
    watches = (operator.config_revision(), served.config_revision())

    def changed() -> None:
        for watch in watches:
            watch.changed()  # safe from this thread: RevisionWatch.changed

    operator.uow.override(
        providers.Singleton(unit_of_work_factory, operator.engine, on_config_change=changed)
    )
