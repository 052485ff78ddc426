"""`bizgraph doctor` as an operator runs it, against local fakes only: everything right exits 0
with one `ok` line per check; a refused provider key, an unreachable database, an invalid
setting or a silent SMTP server is one clear `problem` line and exit status 1, and no key is
ever printed."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.cli.test_cli import environment, free_port, run
from tests.support.databases import sqlite_database
from tests.support.redis import REDIS_URL, require_redis
from tests.support.servers import SmtpCatcher, serve_in_thread, serve_smtp_in_thread
from tests.upstreams.anthropic_fake import AnthropicFake
from tests.upstreams.gemini_fake import GeminiScript, gemini_fake_app
from tests.upstreams.openai_fake import OpenAIScript, openai_fake_app

WRONG_OPENAI = "sk-wrong-key-0123456789abcdef"
WRONG_GEMINI = "AIzaWRONGWRONGWRONGWRONGWRONG"


@pytest.fixture(scope="module")
def upstreams() -> Iterator[dict[str, str]]:
    """The three providers' fakes, and the settings pointing at them with the right keys."""
    anthropic = AnthropicFake()
    gemini = GeminiScript()
    with (
        serve_in_thread(openai_fake_app(OpenAIScript())) as openai_url,
        serve_in_thread(anthropic.app) as anthropic_url,
        serve_in_thread(gemini_fake_app(gemini)) as gemini_url,
    ):
        yield {
            "OPENAI_API_KEY": OpenAIScript().api_key,
            "OPENAI_BASE_URL": openai_url + "/v1",
            "ANTHROPIC_API_KEY": anthropic.api_key,
            "ANTHROPIC_BASE_URL": anthropic_url,
            "GEMINI_API_KEY": gemini.api_key,
            "GEMINI_BASE_URL": gemini_url,
        }


@pytest_asyncio.fixture
async def env(tmp_path: Path, upstreams: dict[str, str]) -> AsyncIterator[dict[str, str]]:
    async with sqlite_database(tmp_path) as url:
        base = environment(url, tmp_path) | {"BIZGRAPH_ENV": "development"}
        yield base | upstreams


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(env, "doctor")


def lines_of(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Each check's line, by the check's name."""
    found = {}
    for line in result.stdout.splitlines():
        verdict, check, _ = line.split(maxsplit=2)
        found[check.rstrip(":")] = line
        assert verdict in ("ok", "problem"), line
    return found


async def test_all_good_exits_0_with_one_ok_line_per_check(env: dict[str, str]) -> None:
    await require_redis()
    with serve_smtp_in_thread(SmtpCatcher()) as smtp_port:
        result = doctor(
            env
            | {
                "BIZGRAPH_REDIS_URL": REDIS_URL,
                "BIZGRAPH_SMTP_HOST": "127.0.0.1",
                "BIZGRAPH_SMTP_PORT": str(smtp_port),
                "BIZGRAPH_SMTP_SECURITY": "none",
            }
        )

    assert result.returncode == 0, result.stdout + result.stderr
    found = lines_of(result)
    assert list(found) == [
        "configuration", "database", "openai", "anthropic", "gemini", "smtp", "redis"
    ]  # fmt: skip
    assert all(line.startswith("ok ") for line in found.values()), result.stdout
    assert "at the current schema" in found["database"]
    assert "answered 200" in found["openai"]
    assert "EHLO accepted" in found["smtp"]


async def test_a_refused_provider_key_is_reported_clearly_without_the_key(
    env: dict[str, str],
) -> None:
    result = doctor(env | {"OPENAI_API_KEY": WRONG_OPENAI, "GEMINI_API_KEY": WRONG_GEMINI})

    assert result.returncode == 1
    found = lines_of(result)
    assert found["openai"].startswith(
        "problem  openai: the API key was refused (401): check OPENAI_API_KEY"
    )
    assert found["gemini"].startswith(
        "problem  gemini: the API key was refused (400): check GEMINI_API_KEY"
    )
    assert found["anthropic"].startswith("ok ")
    output = result.stdout + result.stderr
    assert WRONG_OPENAI not in output
    assert WRONG_GEMINI not in output
    assert "WRONGWRONG" not in output


async def test_an_unreachable_database_is_reported_clearly(env: dict[str, str]) -> None:
    url = f"postgresql://bizgraph@127.0.0.1:{free_port()}/bizgraph"

    result = doctor(env | {"BIZGRAPH_DATABASE_URL": url})

    assert result.returncode == 1
    database = lines_of(result)["database"]
    assert database.startswith("problem  database: database postgresql://")
    assert "is unreachable" in database
    assert "check BIZGRAPH_DATABASE_URL and that the database server is running" in database


async def test_an_unmigrated_database_says_to_migrate(tmp_path: Path, env: dict[str, str]) -> None:
    result = doctor(env | {"BIZGRAPH_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})

    assert result.returncode == 1
    assert "run `bizgraph migrate`" in lines_of(result)["database"]


def test_an_invalid_setting_is_shown_plainly(tmp_path: Path) -> None:
    env = environment(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)

    result = doctor(env | {"BIZGRAPH_LOG_FORMAT": "xml"})

    assert result.returncode == 1
    assert result.stdout.strip() == (
        "problem  configuration: BIZGRAPH_LOG_FORMAT must be text or json, not 'xml' "
        "(the other checks need a valid one)"
    )
    assert "Traceback" not in result.stderr


async def test_unreachable_smtp_and_redis_are_problems(env: dict[str, str]) -> None:
    result = doctor(
        env
        | {
            "BIZGRAPH_SMTP_HOST": "127.0.0.1",
            "BIZGRAPH_SMTP_PORT": str(free_port()),
            "BIZGRAPH_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        }
    )

    assert result.returncode == 1
    found = lines_of(result)
    assert found["smtp"].startswith("problem  smtp: 127.0.0.1:")
    assert "check BIZGRAPH_SMTP_HOST" in found["smtp"]
    assert found["redis"].startswith("problem  redis: no answer to PING")
