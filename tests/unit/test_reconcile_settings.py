"""Reconciliation settings from the environment: the admin keys (never in a repr, always among
the secrets a log line may not show), the drift threshold, the job, clear refusals."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from api.container.model_providers import build_usage_reports
from api.redaction import MASK, RedactingFilter, configured_secrets
from api.settings import load_settings
from api.settings_values import SettingsError

BASE = {
    "BIZGRAPH_SECRET_KEY": "settings-test-secret-0123456789abcdef",
    "BIZGRAPH_DATABASE_URL": "sqlite:///x.db",
}
OPENAI_ADMIN = "sk-admin-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
ANTHROPIC_ADMIN = "sk-ant-admin01-abcdefghijklmnopqrstuvwxyz012345"


def test_defaults() -> None:
    settings = load_settings(BASE)
    assert settings.reconcile.drift_percent == Decimal(1)
    assert settings.reconcile.drift_minimum == Decimal("0.01")
    assert settings.reconcile.enabled is True
    assert settings.openai.admin_key is None
    assert build_usage_reports(settings) == {}


async def test_admin_keys_configure_the_reports_and_stay_secret() -> None:
    settings = load_settings(
        BASE
        | {
            "OPENAI_ADMIN_KEY": OPENAI_ADMIN,
            "ANTHROPIC_ADMIN_KEY": ANTHROPIC_ADMIN,
            "ANTHROPIC_ADMIN_BASE_URL": "http://127.0.0.1:9/",
            "BIZGRAPH_RECONCILE_DRIFT_PERCENT": "2.5",
            "BIZGRAPH_RECONCILE_DRIFT_MINIMUM": "0",
            "BIZGRAPH_RECONCILE": "off",
        }
    )
    sources = build_usage_reports(settings)
    try:
        assert sorted(sources) == ["anthropic", "openai"]
        assert settings.anthropic.admin_base_url == "http://127.0.0.1:9"
        assert (settings.reconcile.drift_percent, settings.reconcile.drift_minimum) == (
            Decimal("2.5"),
            Decimal(0),
        )
        assert settings.reconcile.enabled is False
        assert OPENAI_ADMIN not in repr(settings)
        assert ANTHROPIC_ADMIN not in repr(settings)
        secrets = configured_secrets(settings)
        assert OPENAI_ADMIN in secrets
        assert ANTHROPIC_ADMIN in secrets
        record = logging.LogRecord("x", logging.INFO, "x", 1, "key %s", (ANTHROPIC_ADMIN,), None)
        RedactingFilter(secrets).filter(record)
        assert record.getMessage() == f"key {MASK}"
    finally:
        for source in sources.values():
            await source.aclose()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BIZGRAPH_RECONCILE_DRIFT_PERCENT", "-1"),
        ("BIZGRAPH_RECONCILE_DRIFT_PERCENT", "lots"),
        ("BIZGRAPH_RECONCILE_DRIFT_MINIMUM", "NaN"),
        ("BIZGRAPH_RECONCILE_INTERVAL", "0"),
        ("BIZGRAPH_RECONCILE", "maybe"),
    ],
)
def test_bad_values_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(BASE | {name: value})
