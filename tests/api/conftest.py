"""The whole gateway over real HTTP: uvicorn on loopback in front of strict fake upstreams
(OpenAI, Anthropic, Gemini), on SQLite and on PostgreSQL. Tests drive it with the official SDKs
and read the usage records and ledger back through the use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
import pytest_asyncio
from google import genai

from api.app import create_app
from api.container import Container, close_container, make_container
from api.container.database import default_catalog
from api.serving import server_options
from api.settings import Environment, Settings
from api.settings_sections import ProviderSettings, WebhookSettings
from api.throttle import ThrottlePolicy
from domain.billing.money import Money
from domain.billing.plans import FixedFee, FixedPrice, PercentageMargin, PricingPlan
from domain.catalog.models import Model, PriceVersion
from domain.invoicing.ledger import LedgerEntry
from domain.metering.usage import UsageRecord
from domain.providers import Timeouts
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.support.config_changes import as_the_served_process
from tests.support.databases import postgres_database, require_postgres, sqlite_database
from tests.support.servers import serve_in_thread
from tests.upstreams.anthropic_fake import AnthropicFake
from tests.upstreams.gemini_fake import GeminiScript, gemini_fake_app
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app

SINCE = datetime(2025, 1, 1, tzinfo=UTC)
ADMIN_TOKEN = "test-bootstrap-owner-token-" + "o" * 24
# Test models with prices chosen so every class has a distinct price.
EXTRA_MODELS = [
    (
        Model(
            "openai/reasoner",
            "openai",
            "o-reasoner",
            max_output_tokens=1000,
            fallbacks=("anthropic/claude-haiku-4-5",),
        ),
        PriceVersion(
            "openai/reasoner",
            SINCE,
            input=Decimal("1.1"),
            output=Decimal("4.4"),
            cached_input=Decimal("0.275"),
            reasoning=Decimal("3.3"),
            id="test:reasoner",
        ),
    ),
    (
        Model(
            "openai/flaky",
            "openai",
            "gpt-flaky",
            fallbacks=("openai/missing", "anthropic/claude-haiku-4-5"),
        ),
        PriceVersion(
            "openai/flaky", SINCE, input=Decimal("0.5"), output=Decimal("1.5"), id="test:flaky"
        ),
    ),
]


@dataclass
class Upstreams:
    openai: OpenAIScript
    anthropic: AnthropicFake
    gemini: GeminiScript
    urls: dict[str, str] = field(default_factory=dict)

    def reset(self) -> None:
        self.openai.__init__()  # type: ignore[misc]
        self.gemini.__init__()  # type: ignore[misc]
        self.anthropic.reset()


@pytest.fixture(scope="session")
def upstreams() -> Iterator[Upstreams]:
    fakes = Upstreams(OpenAIScript(), AnthropicFake(), GeminiScript())
    with (
        serve_in_thread(openai_fake_app(fakes.openai)) as openai_url,
        serve_in_thread(fakes.anthropic.app) as anthropic_url,
        serve_in_thread(gemini_fake_app(fakes.gemini)) as gemini_url,
    ):
        fakes.urls = {"openai": openai_url, "anthropic": anthropic_url, "gemini": gemini_url}
        yield fakes


@pytest.fixture(autouse=True)
def _fresh_scripts(request: pytest.FixtureRequest) -> None:
    if "upstreams" in request.fixturenames:
        request.getfixturevalue("upstreams").reset()


def gateway_settings(database_url: str, fakes: Upstreams) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-server-secret-" + "x" * 32,
        admin_token=ADMIN_TOKEN,
        env=Environment.DEVELOPMENT,
        openai=ProviderSettings(
            fakes.openai.api_key, fakes.urls["openai"] + "/v1", native_responses=True
        ),
        anthropic=ProviderSettings(fakes.anthropic.api_key, fakes.urls["anthropic"]),
        gemini=ProviderSettings(fakes.gemini.api_key, fakes.urls["gemini"]),
        timeouts=Timeouts(connect=2, first_byte=2, idle=2, total=2.5),
        drain_after_disconnect_seconds=10,
        max_body_bytes=64 * 1024,
        allow_private_urls=True,  # webhook receivers in the tests listen on loopback
        webhooks=WebhookSettings(
            timeout_seconds=1, max_attempts=5, retry_base_seconds=0.2, poll_seconds=0.1
        ),
        # One gateway serves the whole session from 127.0.0.1, and many tests present wrong
        # tokens on purpose; tests/api/test_auth_throttle.py runs the default policy.
        auth_throttle=ThrottlePolicy(burst=1_000_000),
        budget_lease_idle_seconds=0.2,  # leases go back fast: tests read `reserved` back at 0
    )


@dataclass
class Gateway:
    url: str
    settings: Settings
    backend: str
    container: Container  # the served app's, in the server thread: never call its use cases


async def _seed(settings: Settings) -> None:
    container = make_container(settings)
    try:
        models, prices = default_catalog()
        await container.catalog().seed(
            [*models, *(m for m, _ in EXTRA_MODELS)], [*prices, *(p for _, p in EXTRA_MODELS)]
        )
    finally:
        await close_container(container)


# The backends a module's own gateway runs on (the `own_gateway` fixtures' params).
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@asynccontextmanager
async def own_gateway(
    backend: str, tmp_path_factory: pytest.TempPathFactory, **settings: Any
) -> AsyncIterator[Gateway]:
    """A gateway of a module's own, on a fresh database of `backend`, with the catalog seeded
    and no upstreams (the demo provider answers): for figures no other test may touch."""
    if backend == "postgres":
        await require_postgres()
        database = postgres_database()
    else:
        database = sqlite_database(Path(tmp_path_factory.mktemp("own")))
    async with database as url:
        configured = Settings(
            database_url=url,
            secret_key="test-server-secret-" + "o" * 32,
            admin_token=ADMIN_TOKEN,
            env=Environment.DEVELOPMENT,
            **settings,
        )
        await _seed(configured)
        app = create_app(configured)
        with serve_in_thread(app) as base_url:
            yield Gateway(base_url, configured, backend, app.state.container)


@pytest_asyncio.fixture(
    scope="session",
    loop_scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def gateway(
    request: pytest.FixtureRequest, upstreams: Upstreams, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    """One running gateway per backend for the session; tests isolate by client."""
    if request.param == "postgres":
        await require_postgres()
        database = postgres_database()
    else:
        database = sqlite_database(Path(tmp_path_factory.mktemp("gateway")))
    async with database as url:
        settings = gateway_settings(url, upstreams)
        await _seed(settings)
        app = create_app(settings)
        with serve_in_thread(app, **server_options()) as base_url:
            yield Gateway(base_url, settings, request.param, app.state.container)


@dataclass
class Admin:
    """Operator actions and read-backs, through the use cases (as the GraphQL API will)."""

    container: Container

    async def client_with_key(
        self, plan: PricingPlan | None = None, **key: object
    ) -> tuple[str, str]:
        plan = plan or PercentageMargin(Decimal(30))
        created, _ = await self.container.clients().create(
            NewClient(name="Test client", plan=plan, plan_effective_from=SINCE)
        )
        issued = await self.container.keys().issue(NewKey(created.id, **key))  # type: ignore[arg-type]
        return created.id, issued.secret

    async def usage(self, client_id: str) -> list[UsageRecord]:
        async with self.container.uow()() as uow:
            now = datetime.now(UTC)
            return list(await uow.usage.for_client(client_id, SINCE, now + timedelta(days=1)))

    async def ledger(self, client_id: str) -> list[LedgerEntry]:
        async with self.container.uow()() as uow:
            return list(await uow.ledger.entries(client_id))

    async def balance(self, client_id: str) -> Money:
        async with self.container.uow()() as uow:
            return await uow.ledger.balance(client_id, "USD")


@pytest_asyncio.fixture
async def admin(gateway: Gateway) -> AsyncIterator[Admin]:
    container = make_container(gateway.settings)
    as_the_served_process(container, gateway.container)  # its changes apply on the next call
    # Calls journaled through this container are this live "process"'s: the gateway's
    # recovery loop must not take them over as a dead process's mid-test.
    await container.process_leases().renew()
    try:
        yield Admin(container)
    finally:
        await container.process_leases().release()
        await close_container(container)


PLANS = {
    "margin": PercentageMargin(Decimal("30")),
    "fixed_fee": FixedFee(Money(Decimal("100"))),
    "fixed_price": FixedPrice(Money(Decimal("500"))),
}


@dataclass
class Sdks:
    """Official SDK clients pointed at the gateway, closed after the test (no leaked sockets)."""

    gateway: Gateway
    opened: list[openai.OpenAI | anthropic.Anthropic | genai.Client] = field(default_factory=list)

    def openai(self, secret: str) -> openai.OpenAI:
        client = openai.OpenAI(base_url=self.gateway.url + "/v1", api_key=secret, max_retries=0)
        self.opened.append(client)
        return client

    def anthropic(self, secret: str) -> anthropic.Anthropic:
        client = anthropic.Anthropic(base_url=self.gateway.url, api_key=secret, max_retries=0)
        self.opened.append(client)
        return client

    def gemini(self, secret: str, version: str = "v1beta") -> genai.Client:
        """google-genai pointed at the gateway, as docs/gemini.md shows."""
        options = genai.types.HttpOptions(base_url=self.gateway.url, api_version=version)
        client = genai.Client(api_key=secret, http_options=options)
        self.opened.append(client)
        return client


@pytest.fixture
def sdks(gateway: Gateway) -> Iterator[Sdks]:
    made = Sdks(gateway)
    yield made
    for client in made.opened:
        client.close()
