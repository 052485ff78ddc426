"""`bizgraph doctor`: checks what a deployment needs before it serves (docs/operations.md,
"Doctor"): the configuration, the database and its migrations, each configured provider with a
cheap authenticated request, SMTP and Redis when configured. One line per check, saying what is
wrong and how to fix it; exit status 0 when every check passes, else 1.

Nothing printed holds a secret: provider keys travel in headers only (Gemini's too, as
`x-goog-api-key`, so no URL ever holds one), URLs are shown as scheme and host, and every line
goes through the log redaction with the configured secrets added."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from redis.asyncio import Redis

from api.container.database import database_status
from api.container.model_providers import (
    ANTHROPIC_DEFAULT_BASE,
    GEMINI_DEFAULT_BASE,
    OPENAI_DEFAULT_BASE,
)
from api.redaction import configured_secrets, install_redaction, shared_filter
from api.settings import Settings, load_settings
from api.settings_sections import EmailSettings, ProviderSettings, SmtpSecurity
from api.settings_values import SettingsError

TIMEOUT_SECONDS = 10.0  # per check; SMTP and Redis get less (they answer at once or not)
SHORT_TIMEOUT_SECONDS = 5.0
ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'problem':<8} {self.check}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ProviderProbe:
    """The cheapest authenticated request a provider answers: its model list."""

    name: str
    variable: str  # the settings' prefix, for the fix: OPENAI, ANTHROPIC, GEMINI
    url: str
    headers: dict[str, str]


def run(environ: Mapping[str, str] | None = None) -> tuple[list[Finding], int]:
    """Every check's finding, in a fixed order, and the exit status."""
    try:
        settings = load_settings(environ)
    except SettingsError as exc:
        findings = [Finding("configuration", False, f"{exc} (the other checks need a valid one)")]
        return findings, 1
    install_redaction(configured_secrets(settings))
    findings = [Finding("configuration", True, f"{settings.env.value} mode")]
    findings += asyncio.run(_checks(settings))
    return findings, 0 if all(f.ok for f in findings) else 1


def print_report(findings: list[Finding], echo: Callable[[str], None]) -> None:
    for finding in findings:
        echo(shared_filter().redact(finding.line()))


async def _checks(settings: Settings) -> list[Finding]:
    checks: list[Awaitable[Finding]] = [_database(settings)]
    checks += [_provider(probe, settings) for probe in provider_probes(settings)]
    if settings.email is not None:
        checks.append(_smtp(settings.email))
    if settings.redis_url:
        checks.append(_redis(settings.redis_url))
    return list(await asyncio.gather(*checks))


async def _database(settings: Settings) -> Finding:
    status = await database_status(settings)
    if status.is_current:
        return Finding("database", True, status.message)
    fix = ""
    if status.state.value == "unreachable":
        fix = ": check BIZGRAPH_DATABASE_URL and that the database server is running"
    return Finding("database", False, status.message + fix)


def provider_probes(settings: Settings) -> list[ProviderProbe]:
    """One probe per provider configured as `build_providers` sees it (a key or a base URL)."""
    probes = []
    if _configured(settings.openai):
        base = settings.openai.base_url or OPENAI_DEFAULT_BASE
        key = settings.openai.api_key
        headers = {"authorization": f"Bearer {key}"} if key else {}
        probes.append(ProviderProbe("openai", "OPENAI", f"{base}/models", headers))
    if _configured(settings.anthropic):
        base = settings.anthropic.base_url or ANTHROPIC_DEFAULT_BASE
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if settings.anthropic.api_key:
            headers["x-api-key"] = settings.anthropic.api_key
        probes.append(ProviderProbe("anthropic", "ANTHROPIC", f"{base}/v1/models", headers))
    if _configured(settings.gemini):
        base = settings.gemini.base_url or GEMINI_DEFAULT_BASE
        headers = {"x-goog-api-key": settings.gemini.api_key} if settings.gemini.api_key else {}
        probes.append(ProviderProbe("gemini", "GEMINI", f"{base}/v1beta/models", headers))
    return probes


async def _provider(probe: ProviderProbe, settings: Settings) -> Finding:
    where = _origin(probe.url)
    timeout = httpx.Timeout(TIMEOUT_SECONDS, connect=min(settings.timeouts.connect, 10))
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            answer = await http.get(probe.url, headers=probe.headers)
    except httpx.TimeoutException:
        return Finding(
            probe.name,
            False,
            f"no answer from {where} within {TIMEOUT_SECONDS:g}s: "
            f"check {probe.variable}_BASE_URL and the network",
        )
    except httpx.HTTPError as exc:
        return Finding(
            probe.name,
            False,
            f"{where} is unreachable ({type(exc).__name__}): "
            f"check {probe.variable}_BASE_URL and the network",
        )
    took = f"{(time.perf_counter() - started) * 1000:.0f} ms"
    status = answer.status_code
    if 200 <= status < 300:
        return Finding(probe.name, True, f"{where} answered {status} in {took}")
    if status in (401, 403) or (status == 400 and "API key not valid" in answer.text):
        # Gemini answers a wrong key with 400 "API key not valid".
        missing = "" if probe.headers.keys() - {"anthropic-version"} else " (none is set)"
        return Finding(
            probe.name,
            False,
            f"the API key was refused ({status}){missing}: check {probe.variable}_API_KEY "
            f"(in {took})",
        )
    return Finding(
        probe.name,
        False,
        f"{where} answered {status} to GET {urlsplit(probe.url).path} in {took}: "
        f"check {probe.variable}_BASE_URL",
    )


async def _smtp(email: EmailSettings) -> Finding:
    where = f"{email.host}:{email.port}"
    try:
        detail = await asyncio.to_thread(_smtp_session, email)
    except smtplib.SMTPAuthenticationError as exc:
        return Finding(
            "smtp",
            False,
            f"{where} refused the login ({exc.smtp_code}): "
            "check BIZGRAPH_SMTP_USERNAME and BIZGRAPH_SMTP_PASSWORD",
        )
    except smtplib.SMTPNotSupportedError:
        return Finding(
            "smtp",
            False,
            f"{where} does not offer STARTTLS or login: set BIZGRAPH_SMTP_SECURITY to what it "
            "supports (starttls, tls, none) or remove the username",
        )
    except (smtplib.SMTPException, OSError) as exc:
        return Finding(
            "smtp",
            False,
            f"{where} is unreachable or failed ({type(exc).__name__}): check BIZGRAPH_SMTP_HOST, "
            "BIZGRAPH_SMTP_PORT and BIZGRAPH_SMTP_SECURITY",
        )
    return Finding("smtp", True, f"{where}: {detail}")


def _smtp_session(email: EmailSettings) -> str:
    """Connect, EHLO, STARTTLS when configured, login when credentials are set; no mail sent."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if email.security is SmtpSecurity.TLS:
        smtp = smtplib.SMTP_SSL(
            email.host, email.port, timeout=SHORT_TIMEOUT_SECONDS, context=context
        )
    else:
        smtp = smtplib.SMTP(email.host, email.port, timeout=SHORT_TIMEOUT_SECONDS)
    with smtp:
        smtp.ehlo()
        done = ["EHLO accepted"]
        if email.security is SmtpSecurity.STARTTLS:
            smtp.starttls(context=context)
            smtp.ehlo()
            done.append("STARTTLS")
        if email.username:
            smtp.login(email.username, email.password or "")
            done.append("login accepted")
    return ", ".join(done)


async def _redis(url: str) -> Finding:
    client: Redis = Redis.from_url(
        url, socket_timeout=SHORT_TIMEOUT_SECONDS, socket_connect_timeout=SHORT_TIMEOUT_SECONDS
    )
    started = time.perf_counter()
    try:
        await client.ping()
    except Exception as exc:  # redis raises its own errors and OSError alike
        return Finding(
            "redis",
            False,
            f"no answer to PING ({type(exc).__name__}): check BIZGRAPH_REDIS_URL and that Redis "
            "is running (unset it to rate-limit per process)",
        )
    finally:
        await client.aclose()
    return Finding(
        "redis", True, f"PING answered in {(time.perf_counter() - started) * 1000:.0f} ms"
    )


def _configured(provider: ProviderSettings) -> bool:
    return bool(provider.api_key or provider.base_url)


def _origin(url: str) -> str:
    """scheme://host[:port]: never a path, query or user info."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
