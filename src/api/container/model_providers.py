"""The providers the gateway relays to and the reports they bill by, built from the settings:
the registry of model providers, their usage-report APIs, the drift rule, report files."""

from __future__ import annotations

from adapters.providers.anthropic import AnthropicProvider
from adapters.providers.demo import DemoProvider
from adapters.providers.gemini import GeminiProvider
from adapters.providers.openai import OpenAICompatibleProvider
from adapters.providers.registry import StaticProviderRegistry
from adapters.reconciliation.anthropic_usage import ANTHROPIC_ADMIN_BASE, AnthropicUsageReports
from adapters.reconciliation.csv_imports import gemini_billing_rows, invoice_rows
from adapters.reconciliation.openai_usage import OPENAI_ADMIN_BASE, OpenAIUsageReports
from api.settings import Settings
from domain.providers import (
    ModelProvider,
    NativeGeminiProvider,
    NativeMessagesProvider,
    NativeResponsesProvider,
)
from domain.reconciliation import ProviderFigures
from domain.usecases.reconciliation import DriftRule, ProviderUsageReports

OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"


ANTHROPIC_DEFAULT_BASE = "https://api.anthropic.com"


GEMINI_DEFAULT_BASE = "https://generativelanguage.googleapis.com"


def build_providers(settings: Settings) -> StaticProviderRegistry:
    """The demo provider always; each real provider when its key or base URL is configured
    (a keyless base URL serves self-hosted OpenAI-compatible servers such as vLLM or Ollama)."""
    timeouts = settings.timeouts
    chat: dict[str, ModelProvider] = {"demo": DemoProvider()}
    native: dict[str, NativeMessagesProvider] = {}
    responses: dict[str, NativeResponsesProvider] = {}
    native_gemini: dict[str, NativeGeminiProvider] = {}
    if settings.openai.api_key or settings.openai.base_url:
        base = settings.openai.base_url or OPENAI_DEFAULT_BASE
        openai = OpenAICompatibleProvider("openai", base, settings.openai.api_key, timeouts)
        chat["openai"] = openai
        if settings.openai.native_responses:
            responses["openai"] = openai
    if settings.anthropic.api_key or settings.anthropic.base_url:
        base = settings.anthropic.base_url or ANTHROPIC_DEFAULT_BASE
        anthropic = AnthropicProvider("anthropic", base, settings.anthropic.api_key, timeouts)
        chat["anthropic"] = native["anthropic"] = anthropic
    if settings.gemini.api_key or settings.gemini.base_url:
        base = settings.gemini.base_url or GEMINI_DEFAULT_BASE
        gemini = GeminiProvider("gemini", base, settings.gemini.api_key, timeouts)
        chat["google"] = gemini
        native_gemini["google"] = gemini
    return StaticProviderRegistry(chat, native, responses, native_gemini)


def build_usage_reports(settings: Settings) -> dict[str, ProviderUsageReports]:
    """The providers' reporting APIs whose admin credential is configured (their `provider`
    is the catalog's provider name, so the reports meet the usage records)."""
    sources: dict[str, ProviderUsageReports] = {}
    if key := settings.openai.admin_key:
        base = settings.openai.admin_base_url or OPENAI_ADMIN_BASE
        sources["openai"] = OpenAIUsageReports(key, base, provider="openai")
    if key := settings.anthropic.admin_key:
        base = settings.anthropic.admin_base_url or ANTHROPIC_ADMIN_BASE
        sources["anthropic"] = AnthropicUsageReports(key, base, provider="anthropic")
    return sources


def drift_rule(settings: Settings) -> DriftRule:
    given = settings.reconcile
    return DriftRule(percent=given.drift_percent, minimum=given.drift_minimum)


def read_report_file(kind: str, text: str, provider: str) -> list[ProviderFigures]:
    """`bizgraph reconcile import`: "invoice" (Bizgraph's CSV columns, any provider) or
    "gemini-billing" (a Cloud Billing CSV export)."""
    if kind == "gemini-billing":
        return gemini_billing_rows(text, provider)
    return invoice_rows(text, provider)
