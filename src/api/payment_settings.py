"""Stripe's settings (docs/payments.md, docs/configuration.md): off unless
BIZGRAPH_STRIPE_SECRET_KEY is set; then the webhook secret and a public URL are required, so
a half-configured processor fails at start instead of losing payments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from api.settings_values import SettingsError

DEFAULT_STRIPE_API = "https://api.stripe.com"


@dataclass(frozen=True, slots=True)
class StripeSettings:
    secret_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    public_url: str  # where clients reach Bizgraph (the portal), for Checkout's return URLs
    api_base: str | None = None  # BIZGRAPH_STRIPE_API_BASE: the tests' fake Stripe

    @property
    def success_url(self) -> str:
        return f"{self.public_url}/portal?payment=success"

    @property
    def cancel_url(self) -> str:
        return f"{self.public_url}/portal?payment=cancelled"


def read_stripe(env: Mapping[str, str]) -> StripeSettings | None:
    key = env.get("BIZGRAPH_STRIPE_SECRET_KEY", "").strip()
    if not key:
        return None
    if not key.startswith(("sk_", "rk_")):
        raise SettingsError(
            "BIZGRAPH_STRIPE_SECRET_KEY must be a Stripe secret or restricted key "
            "(sk_... or rk_...)"
        )
    webhook = env.get("BIZGRAPH_STRIPE_WEBHOOK_SECRET", "").strip()
    if not webhook.startswith("whsec_"):
        raise SettingsError(
            "BIZGRAPH_STRIPE_WEBHOOK_SECRET (whsec_..., from the webhook endpoint in Stripe's "
            "dashboard) is required with BIZGRAPH_STRIPE_SECRET_KEY"
        )
    public = _url(env.get("BIZGRAPH_PUBLIC_URL", ""), "BIZGRAPH_PUBLIC_URL")
    if public is None:
        raise SettingsError(
            "BIZGRAPH_PUBLIC_URL (e.g. https://billing.example.com) is required with "
            "BIZGRAPH_STRIPE_SECRET_KEY: Checkout sends clients back to the portal there"
        )
    api_base = _url(env.get("BIZGRAPH_STRIPE_API_BASE", ""), "BIZGRAPH_STRIPE_API_BASE")
    return StripeSettings(key, webhook, public, api_base)


def _url(raw: str, name: str) -> str | None:
    value = raw.strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, not {value!r}")
    return value
