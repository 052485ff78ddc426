"""BIZGRAPH_CONFIG_CHECK_SECONDS: 0.25 s by default, 0 turns the background check off, and a
value that would let a check expire before the next one is refused."""

from __future__ import annotations

import pytest

from api.settings import load_settings
from api.settings_values import SettingsError
from runtime.lookups import TRUSTED_FOR_SECONDS

BASE = {
    "BIZGRAPH_SECRET_KEY": "config-check-settings-secret-0123456789",
    "BIZGRAPH_DATABASE_URL": "sqlite:///x.db",
}


def test_the_default_checks_four_times_within_the_trusted_second() -> None:
    seconds = load_settings(BASE).config_check_seconds
    assert seconds == 0.25
    assert seconds * 4 <= TRUSTED_FOR_SECONDS


@pytest.mark.parametrize(("given", "read"), [("0.1", 0.1), ("0.5", 0.5), ("0", 0.0)])
def test_values_are_read_exactly(given: str, read: float) -> None:
    settings = load_settings(BASE | {"BIZGRAPH_CONFIG_CHECK_SECONDS": given})
    assert settings.config_check_seconds == read


@pytest.mark.parametrize("given", ["0.6", "2", "-1", "soon"])
def test_other_values_are_refused(given: str) -> None:
    with pytest.raises(SettingsError, match="BIZGRAPH_CONFIG_CHECK_SECONDS"):
        load_settings(BASE | {"BIZGRAPH_CONFIG_CHECK_SECONDS": given})
