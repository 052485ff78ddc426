"""The composition root: the only module that names concrete adapters."""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.default_catalog import load_default_catalog
from adapters.persistence.database import create_engine
from adapters.persistence.migrate import SchemaStatus, schema_status, upgrade
from adapters.persistence.revision import SqlConfigRevision
from adapters.persistence.unit_of_work import unit_of_work_factory
from adapters.providers.anthropic import AnthropicProvider
from adapters.providers.demo import DemoProvider
from adapters.providers.gemini import GeminiProvider
from adapters.providers.openai import OpenAICompatibleProvider
from adapters.providers.registry import StaticProviderRegistry
from adapters.ratelimits.memory import InMemoryRateLimiter
from adapters.ratelimits.redis import RedisRateLimiter
from adapters.security import HmacKeyHasher
from api.rest.gateway import Gateway
from api.settings import Settings
from domain.catalog import Model, PriceVersion
from domain.providers import ModelProvider, NativeMessagesProvider
from domain.usecases.access import AccessUseCases
from domain.usecases.budgets import BudgetUseCases
from domain.usecases.calls import ModelCalls
from domain.usecases.catalog import CatalogUseCases
from domain.usecases.clients import ClientUseCases
from domain.usecases.idempotency import IdempotencyUseCases
from domain.usecases.keys import KeyUseCases
from domain.usecases.lookups import Lookups
from domain.usecases.management import UseCases
from domain.usecases.metering import Metering
from domain.usecases.ratelimits import RateLimits
from domain.usecases.reports import ReportUseCases

OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"
ANTHROPIC_DEFAULT_BASE = "https://api.anthropic.com"
GEMINI_DEFAULT_BASE = "https://generativelanguage.googleapis.com"


def build_providers(settings: Settings) -> StaticProviderRegistry:
    """The demo provider always; each real provider when its key or base URL is configured
    (a keyless base URL serves self-hosted OpenAI-compatible servers such as vLLM or Ollama)."""
    timeouts = settings.timeouts
    chat: dict[str, ModelProvider] = {"demo": DemoProvider()}
    native: dict[str, NativeMessagesProvider] = {}
    if settings.openai.api_key or settings.openai.base_url:
        base = settings.openai.base_url or OPENAI_DEFAULT_BASE
        chat["openai"] = OpenAICompatibleProvider("openai", base, settings.openai.api_key, timeouts)
    if settings.anthropic.api_key or settings.anthropic.base_url:
        base = settings.anthropic.base_url or ANTHROPIC_DEFAULT_BASE
        anthropic = AnthropicProvider("anthropic", base, settings.anthropic.api_key, timeouts)
        chat["anthropic"] = native["anthropic"] = anthropic
    if settings.gemini.api_key or settings.gemini.base_url:
        base = settings.gemini.base_url or GEMINI_DEFAULT_BASE
        chat["google"] = GeminiProvider("gemini", base, settings.gemini.api_key, timeouts)
    return StaticProviderRegistry(chat, native)


# One currency for prices and clients until exchange rates come with invoicing (issue 6): the
# bundled catalog is in USD, and sums across currencies would be meaningless.
BILLING_CURRENCIES = frozenset({"USD"})


def build_rate_limits(settings: Settings) -> RateLimits:
    """Shared buckets in Redis when configured (per-process buckets while it is down), else
    this process's own."""
    if settings.redis_url:
        return RateLimits(RedisRateLimiter(settings.redis_url), fallback=InMemoryRateLimiter())
    return RateLimits(InMemoryRateLimiter())


def longest_call(settings: Settings) -> timedelta:
    """No call can run longer than this (its total deadline plus the post-disconnect drain):
    a journal row or idempotency claim older than that belongs to a crashed process."""
    return timedelta(seconds=settings.timeouts.total + settings.drain_after_disconnect_seconds)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    hasher = providers.Singleton(HmacKeyHasher, server_secret=settings.provided.secret_key)
    engine = providers.Singleton(create_engine, settings.provided.database_url)
    uow = providers.Singleton(unit_of_work_factory, engine)
    reads = providers.Singleton(unit_of_work_factory, engine, read_only=True)
    provider_registry = providers.Singleton(build_providers, settings)

    config_revision = providers.Singleton(SqlConfigRevision, engine)
    lookups = providers.Singleton(Lookups, reads=reads, revision=config_revision)

    keys = providers.Singleton(KeyUseCases, uow=uow, clock=clock, hasher=hasher, lookups=lookups)
    clients = providers.Singleton(
        ClientUseCases,
        uow=uow,
        clock=clock,
        zone=settings.provided.timezone,
        currencies=BILLING_CURRENCIES,
    )
    catalog = providers.Singleton(CatalogUseCases, uow=uow, currencies=BILLING_CURRENCIES)
    reports = providers.Singleton(
        ReportUseCases, reads=reads, clock=clock, zone=settings.provided.timezone
    )
    access = providers.Singleton(
        AccessUseCases,
        uow=uow,
        clock=clock,
        hasher=hasher,
        bootstrap_token=settings.provided.admin_token,
        reads=reads,
    )
    budgets = providers.Singleton(
        BudgetUseCases, uow=uow, clock=clock, zone=settings.provided.timezone, reads=reads
    )
    management = providers.Singleton(
        UseCases,
        clients=clients,
        keys=keys,
        catalog=catalog,
        reports=reports,
        access=access,
        budgets=budgets,
    )
    metering = providers.Singleton(
        Metering, uow=uow, clock=clock, keys=keys, reads=reads, zone=settings.provided.timezone
    )
    calls = providers.Singleton(
        ModelCalls,
        metering=metering,
        providers=provider_registry,
        drain_seconds=settings.provided.drain_after_disconnect_seconds,
    )
    idempotency = providers.Singleton(
        IdempotencyUseCases,
        uow=uow,
        clock=clock,
        stale_after=providers.Callable(longest_call, settings),
    )
    rate_limits = providers.Singleton(build_rate_limits, settings)
    gateway = providers.Singleton(
        Gateway,
        rate_limits=rate_limits,
        metering=metering,
        calls=calls,
        idempotency=idempotency,
        max_body_bytes=settings.provided.max_body_bytes,
    )


async def database_status(settings: Settings) -> SchemaStatus:
    return await schema_status(settings.database_url)


async def migrate_database(settings: Settings) -> None:
    await upgrade(settings.database_url)


def default_catalog() -> tuple[list[Model], list[PriceVersion]]:
    return load_default_catalog()


def make_container(settings: Settings) -> Container:
    return Container(settings=settings)


async def close_container(container: Container) -> None:
    """Release pooled connections (provider clients and the database engine). Each provider
    owns its HTTP client, whose connection pool opens on first use only."""
    await container.provider_registry().aclose()
    await container.rate_limits().aclose()
    await container.engine().dispose()
