"""Stripe's settings: off by default; once a secret key is set, the webhook secret and the
public URL are required (a half-configured processor fails at start), and the secrets never
show in the settings' repr."""

from __future__ import annotations

import pytest

from api.payment_settings import read_stripe
from api.redaction import configured_secrets
from api.settings import load_settings
from api.settings_values import SettingsError

ON = {
    "BIZGRAPH_STRIPE_SECRET_KEY": "sk_test_abc",
    "BIZGRAPH_STRIPE_WEBHOOK_SECRET": "whsec_abc",
    "BIZGRAPH_PUBLIC_URL": "https://billing.example/",
}


def test_off_by_default() -> None:
    assert read_stripe({}) is None


def test_on_with_return_urls_from_the_public_url() -> None:
    found = read_stripe(ON | {"BIZGRAPH_STRIPE_API_BASE": "http://127.0.0.1:12111"})
    assert found is not None
    assert found.success_url == "https://billing.example/portal?payment=success"
    assert found.cancel_url == "https://billing.example/portal?payment=cancelled"
    assert found.api_base == "http://127.0.0.1:12111"
    assert "sk_test_abc" not in repr(found)
    assert "whsec_abc" not in repr(found)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"BIZGRAPH_STRIPE_SECRET_KEY": "pk_test_abc"}, "BIZGRAPH_STRIPE_SECRET_KEY"),
        ({"BIZGRAPH_STRIPE_WEBHOOK_SECRET": ""}, "BIZGRAPH_STRIPE_WEBHOOK_SECRET"),
        ({"BIZGRAPH_PUBLIC_URL": ""}, "BIZGRAPH_PUBLIC_URL"),
        ({"BIZGRAPH_PUBLIC_URL": "billing.example"}, "BIZGRAPH_PUBLIC_URL"),
        ({"BIZGRAPH_STRIPE_API_BASE": "ftp://x"}, "BIZGRAPH_STRIPE_API_BASE"),
    ],
)
def test_a_half_configuration_is_refused(change: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        read_stripe(ON | change)


def test_the_secrets_are_redacted_from_logs(tmp_path: object) -> None:
    settings = load_settings(
        ON | {"BIZGRAPH_ENV": "development", "BIZGRAPH_DATA_DIR": str(tmp_path)}
    )
    secrets = configured_secrets(settings)
    assert "sk_test_abc" in secrets
    assert "whsec_abc" in secrets
