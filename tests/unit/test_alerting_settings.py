"""Webhook, spike and secret settings from the environment: defaults, values, clear refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.settings import load_settings
from api.settings_values import SettingsError

BASE = {
    "BIZGRAPH_SECRET_KEY": "settings-test-secret-0123456789abcdef",
    "BIZGRAPH_DATABASE_URL": "sqlite:///x.db",
}


def test_defaults_are_safe() -> None:
    settings = load_settings(BASE)
    assert settings.allow_private_urls is False
    assert settings.webhooks.max_attempts == 8
    assert settings.webhooks.timeout_seconds == 5
    assert (settings.spikes.factor, settings.spikes.floor) == (Decimal(5), Decimal(10))
    assert settings.spikes.baseline_days == 7


def test_values_are_read_exactly() -> None:
    settings = load_settings(
        BASE
        | {
            "BIZGRAPH_ALLOW_PRIVATE_URLS": "true",
            "BIZGRAPH_WEBHOOK_MAX_ATTEMPTS": "3",
            "BIZGRAPH_WEBHOOK_RETRY_BASE": "0.5",
            "BIZGRAPH_SPIKE_FACTOR": "2.5",
            "BIZGRAPH_SPIKE_FLOOR": "0",
            "BIZGRAPH_SPIKE_BASELINE_DAYS": "14",
        }
    )
    assert settings.allow_private_urls is True
    assert settings.webhooks.max_attempts == 3
    assert settings.webhooks.retry_base_seconds == 0.5
    assert settings.spikes.factor == Decimal("2.5")
    assert settings.spikes.floor == Decimal(0)
    assert settings.spikes.baseline_days == 14


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BIZGRAPH_ALLOW_PRIVATE_URLS", "maybe"),
        ("BIZGRAPH_SPIKE_FACTOR", "0"),
        ("BIZGRAPH_SPIKE_FACTOR", "lots"),
        ("BIZGRAPH_SPIKE_FLOOR", "-1"),
        ("BIZGRAPH_SPIKE_FLOOR", "NaN"),
        ("BIZGRAPH_WEBHOOK_TIMEOUT", "0"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(BASE | {name: value})


def test_email_is_off_without_a_host_and_read_with_one() -> None:
    assert load_settings(BASE).email is None
    email = load_settings(
        BASE
        | {
            "BIZGRAPH_SMTP_HOST": "smtp.agency.test",
            "BIZGRAPH_SMTP_SECURITY": "tls",
            "BIZGRAPH_SMTP_USERNAME": "bizgraph",
            "BIZGRAPH_SMTP_PASSWORD": "hunter2-long-password",
        }
    ).email
    assert email is not None
    assert (email.host, email.port, email.sender) == (
        "smtp.agency.test",
        465,
        "bizgraph@smtp.agency.test",
    )
    assert "hunter2" not in repr(email)
    with pytest.raises(SettingsError, match="BIZGRAPH_SMTP_SECURITY"):
        load_settings(BASE | {"BIZGRAPH_SMTP_HOST": "h", "BIZGRAPH_SMTP_SECURITY": "ssl3"})


@pytest.mark.parametrize("name", ["BIZGRAPH_SECRET_KEY", "BIZGRAPH_ADMIN_TOKEN"])
@pytest.mark.parametrize("weak", ["x", "hunter2", "ab" * 20, "0123456" * 5])
def test_weak_configured_secrets_are_refused_in_production_only(name: str, weak: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} is too weak for production") as refused:
        load_settings(BASE | {name: weak})
    assert weak not in str(refused.value)

    development = load_settings(BASE | {name: weak, "BIZGRAPH_ENV": "development"})
    assert weak in (development.secret_key, development.admin_token)


def test_strong_configured_secrets_are_accepted_in_production() -> None:
    token = "Zq3-x9TfLw0pRk7Ua2mVb5Nc8Hd1Ge4Js6"
    settings = load_settings(BASE | {"BIZGRAPH_ADMIN_TOKEN": token})
    assert (settings.secret_key, settings.admin_token) == (BASE["BIZGRAPH_SECRET_KEY"], token)
