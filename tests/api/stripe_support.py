"""A gateway served with Stripe configured (its API base the fake Stripe) and everything else
as `bizgraph serve` wires it: the real wallets (WalletUseCases) are the processor's
WalletCredits, on SQLite or PostgreSQL. The fake Stripe delivers signed events to
POST /webhooks/stripe; `operator()` is a second container on the same database (a test-side
"process", as tests/api/conftest.py's Admin) for the use cases a test calls directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from api.app import create_app
from api.container import Container, close_container, make_container
from api.payment_settings import StripeSettings
from tests.api.conftest import Gateway, Upstreams, _seed, gateway_settings
from tests.api.graphql_support import Gql
from tests.support.config_changes import as_the_served_process
from tests.support.databases import postgres_database, require_postgres, sqlite_database
from tests.support.servers import serve_in_thread
from tests.upstreams.stripe_fake import StripeFake

PORTAL = """
mutation($id: ID!) { createPortalToken(clientId: $id) {
  ... on CreatePortalTokenSuccess { secret } } }"""
START = """
mutation($amount: Decimal!, $id: ID) { startWalletTopUp(amount: $amount, clientId: $id) {
  __typename
  ... on StartTopUpSuccess { url }
  ... on ValidationError { message code }
  ... on NotFoundError { message }
  ... on NotAllowedError { message }
} }"""
WALLET = """
query($id: ID!) { wallet(clientId: $id) {
  mode currency balance { amount currency } held { amount }
  statement(limit: 50) { total entries { kind amount { amount } reference source note } }
} }"""
MODE = """
mutation($id: ID!, $mode: BillingMode!) { setBillingMode(clientId: $id, mode: $mode) {
  __typename } }"""


@dataclass
class Paying:
    gateway: Gateway
    fake: StripeFake

    @property
    def hook(self) -> str:
        return self.gateway.url + "/webhooks/stripe"

    @asynccontextmanager
    async def operator(self) -> AsyncIterator[Container]:
        container = make_container(self.gateway.settings)
        as_the_served_process(container, self.gateway.container)
        try:
            yield container
        finally:
            await close_container(container)


@asynccontextmanager
async def paying_gateway(
    backend: str, directory: Path, upstreams: Upstreams
) -> AsyncIterator[Paying]:
    fake = StripeFake()
    if backend == "postgres":
        await require_postgres()
        database = postgres_database()
    else:
        database = sqlite_database(directory)
    with serve_in_thread(fake.app) as stripe_base:
        async with database as url:
            settings = replace(
                gateway_settings(url, upstreams),
                stripe=StripeSettings(
                    fake.secret_key, fake.webhook_secret, "https://billing.example", stripe_base
                ),
                secret_key="test-server-secret-" + "y" * 32,
                wallet_check_seconds=3600.0,  # the tests run the wallet keeper themselves
            )
            await _seed(settings)
            container = make_container(settings)  # as `bizgraph serve` wires it: no override
            app = create_app(settings, container)
            with serve_in_thread(app) as base:
                yield Paying(Gateway(base, settings, backend, container), fake)


def portal(gql: Gql, client_id: str) -> Gql:
    return gql.as_token(gql.data(PORTAL, id=client_id)["createPortalToken"]["secret"])


def wallet(gql: Gql, client_id: str) -> dict[str, Any]:
    found: dict[str, Any] = gql.data(WALLET, id=client_id)["wallet"]
    return found


def balance(gql: Gql, client_id: str) -> Decimal:
    return Decimal(wallet(gql, client_id)["balance"]["amount"])


def session_of(url: str) -> str:
    assert url.startswith("https://checkout.stripe.com/"), url
    return url.rsplit("/", 1)[-1]
