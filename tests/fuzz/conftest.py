"""One gateway on SQLite, over real HTTP, in front of the strict fake upstreams, with one client
key, for the fuzzing stage (a module's tests share it; each checks it is healthy afterwards)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.container import close_container, make_container
from api.settings import Settings
from domain.billing.plans import PercentageMargin
from domain.usecases.clients import NewClient
from domain.usecases.keys import NewKey
from tests.api.conftest import ADMIN_TOKEN, SINCE, Upstreams, _seed, gateway_settings
from tests.support.databases import sqlite_database
from tests.support.servers import serve_in_thread
from tests.upstreams.anthropic_fake import AnthropicFake
from tests.upstreams.gemini_fake import GeminiScript, gemini_fake_app
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app


@dataclass(frozen=True)
class Target:
    url: str
    secret: str  # a client's API key
    owner_token: str
    http: httpx.Client

    @property
    def bearer(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.secret}"}

    def healthy(self) -> bool:
        answer = self.http.get(self.url + "/healthz")
        chat = self.http.post(
            self.url + "/v1/chat/completions",
            json={"model": "demo/chat", "messages": [{"role": "user", "content": "hi"}]},
            headers=self.bearer,
        )
        return answer.status_code == 200 and chat.status_code == 200


async def _client_key(settings: Settings) -> str:
    await _seed(settings)
    container = make_container(settings)
    try:
        created, _ = await container.clients().create(
            NewClient(name="Fuzz", plan=PercentageMargin(Decimal(10)), plan_effective_from=SINCE)
        )
        return (await container.keys().issue(NewKey(created.id))).secret
    finally:
        await close_container(container)


async def _database(directory: Path) -> str:
    async with sqlite_database(directory) as url:
        return url


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    fakes = Upstreams(OpenAIScript(), AnthropicFake(), GeminiScript())
    url = asyncio.run(_database(Path(tmp_path_factory.mktemp("fuzz"))))
    with (
        serve_in_thread(openai_fake_app(fakes.openai)) as openai_url,
        serve_in_thread(fakes.anthropic.app) as anthropic_url,
        serve_in_thread(gemini_fake_app(fakes.gemini)) as gemini_url,
    ):
        fakes.urls = {"openai": openai_url, "anthropic": anthropic_url, "gemini": gemini_url}
        settings = gateway_settings(url, fakes)
        secret = asyncio.run(_client_key(settings))
        with (
            serve_in_thread(create_app(settings)) as base_url,
            httpx.Client(timeout=httpx.Timeout(15.0)) as http,
        ):
            yield Target(base_url, secret, ADMIN_TOKEN, http)
