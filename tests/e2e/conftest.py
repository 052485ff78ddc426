"""Browser tests: headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against
one real server per session (SQLite, fake upstream providers, the built web apps), seeded
through the GraphQL API. Screenshots go to test-output/.

Without a build (`make web`) or Chromium these tests skip loudly; `make test` sets
BIZGRAPH_REQUIRE_WEB=1 so they fail instead."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from api.app import create_app
from api.container.database import migrate_database
from api.settings import DEFAULT_WEB_DIR, Settings
from tests.api.conftest import ADMIN_TOKEN, Upstreams, _seed, gateway_settings, upstreams
from tests.api.graphql_support import Gql
from tests.support.servers import serve_in_thread

__all__ = ["upstreams"]  # the fake providers, shared with the API tests

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output"
CHROMIUM = os.environ.get("BIZGRAPH_CHROMIUM", "/usr/bin/chromium")
REQUIRE_WEB = os.environ.get("BIZGRAPH_REQUIRE_WEB") == "1"
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


def _missing_reason() -> str | None:
    if not (DEFAULT_WEB_DIR / "index.html").is_file():
        return f"the web apps are not built ({DEFAULT_WEB_DIR}): run `make web`"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}: install Debian's `chromium` package"
    return None


@pytest.fixture(scope="session", autouse=True)
def _web_ready() -> None:
    reason = _missing_reason()
    if reason is None:
        return
    if REQUIRE_WEB:
        pytest.fail(f"{reason} (but BIZGRAPH_REQUIRE_WEB=1)")
    pytest.skip(f"browser tests skipped: {reason}")


@dataclass
class App:
    url: str
    settings: Settings  # for seeding what the API cannot make yet (alerts), as the API tests do

    def gql(self, token: str = ADMIN_TOKEN) -> Gql:
        return Gql(self.url + "/graphql", token)


def _serve_fresh(upstreams: Upstreams, directory: Path) -> Iterator[App]:
    """A server on a new SQLite file, seeded with the staff token only (no clients)."""
    database = directory / "bizgraph.db"
    settings = replace(
        gateway_settings(f"sqlite:///{database}", upstreams), web_dir=DEFAULT_WEB_DIR
    )
    asyncio.run(migrate_database(settings))
    asyncio.run(_seed(settings))
    with serve_in_thread(create_app(settings)) as base_url:
        yield App(base_url, settings)


@pytest.fixture(scope="session")
def app(
    _web_ready: None, upstreams: Upstreams, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[App]:
    """One server for the whole session on a fresh SQLite file; tests isolate by client."""
    yield from _serve_fresh(upstreams, tmp_path_factory.mktemp("e2e"))


@pytest.fixture
def empty_app(_web_ready: None, upstreams: Upstreams, tmp_path: Path) -> Iterator[App]:
    """A server of its own with no clients, for what a fresh install shows, whatever other
    tests (in any file, in any order) put in the shared one."""
    yield from _serve_fresh(upstreams, tmp_path)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(_web_ready: None) -> AsyncIterator[Browser]:
    SCREENSHOTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        # --no-sandbox: Chromium refuses its sandbox when run as root (CI containers).
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test, at laptop width, in en-US."""
    made = await browser.new_context(viewport=LAPTOP, locale="en-US", timezone_id="UTC")
    made.set_default_timeout(15_000)
    yield made
    await made.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def screenshot(page: Page, name: str) -> None:
    await page.wait_for_load_state("networkidle")
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
