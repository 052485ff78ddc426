"""Lease, heartbeat and checkpoint settings: defaults settle a dead process's calls within
30 s, values are read exactly, and a lease shorter than two heartbeats is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.container.terms import lease_terms
from api.settings import load_settings
from api.settings_values import SettingsError

BASE = {
    "BIZGRAPH_SECRET_KEY": "lease-settings-secret-0123456789abcdef",
    "BIZGRAPH_DATABASE_URL": "sqlite:///x.db",
}


def test_defaults_settle_a_dead_process_calls_within_30_seconds() -> None:
    settings = load_settings(BASE)
    terms = lease_terms(settings)
    assert terms.settled_within <= timedelta(seconds=30)
    assert settings.stream_checkpoint_seconds <= 5


def test_values_are_read_exactly() -> None:
    settings = load_settings(
        BASE
        | {
            "BIZGRAPH_LEASE_SECONDS": "3",
            "BIZGRAPH_HEARTBEAT_SECONDS": "0.5",
            "BIZGRAPH_STREAM_CHECKPOINT": "0.2",
        }
    )
    terms = lease_terms(settings)
    assert (terms.lease, terms.heartbeat) == (timedelta(seconds=3), timedelta(seconds=0.5))
    assert settings.stream_checkpoint_seconds == 0.2


def test_a_lease_shorter_than_two_heartbeats_is_refused() -> None:
    with pytest.raises(SettingsError, match="twice"):
        load_settings(BASE | {"BIZGRAPH_LEASE_SECONDS": "5", "BIZGRAPH_HEARTBEAT_SECONDS": "3"})
