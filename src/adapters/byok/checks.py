"""The check of a client's own credential on save: one cheap authenticated request to its
provider (list the models, as `bizgraph doctor` probes the agency's keys). Anything but a 2xx
refuses the credential, and nothing is stored. A base URL's host must resolve to public
addresses only (the webhooks' rule), unless private URLs are allowed."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

import httpx

from adapters.notifications.webhooks import Resolver, resolve
from domain.alerting.webhooks import is_public_address
from domain.byok.credentials import CredentialInput
from domain.byok.errors import CredentialRejected
from domain.byok.ports import CredentialCheck

TIMEOUT_SECONDS = 10.0
ANTHROPIC_VERSION = "2023-06-01"


def probe(credential: CredentialInput, bases: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The URL and headers of the provider's list-models request with this credential."""
    provider = credential.provider
    base = (credential.base_url or bases.get(provider) or "").rstrip("/")
    if not base:
        raise CredentialRejected(f"no base URL known for {provider}: give one")
    if provider == "anthropic":
        headers = {"x-api-key": credential.api_key, "anthropic-version": ANTHROPIC_VERSION}
        return f"{base}/v1/models", headers
    if provider == "google":
        return f"{base}/v1beta/models", {"x-goog-api-key": credential.api_key}
    headers = {"authorization": f"Bearer {credential.api_key}"}  # OpenAI-compatible
    if credential.organization:
        headers["openai-organization"] = credential.organization
    if credential.project:
        headers["openai-project"] = credential.project
    return f"{base}/models", headers


class HttpCredentialCheck(CredentialCheck):
    def __init__(
        self,
        bases: Mapping[str, str],
        *,
        allow_private: bool,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = resolve,
    ) -> None:
        """`bases`: each provider's default base URL (the agency's setting or the public
        one), used when the credential names none."""
        self._bases = dict(bases)
        self._allow_private = allow_private
        self._transport = transport
        self._resolver = resolver

    async def verify(self, credential: CredentialInput) -> None:
        url, headers = probe(credential, self._bases)
        if credential.base_url is not None and not self._allow_private:
            try:
                target = httpx.URL(url)
            except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
                raise CredentialRejected("the base URL is not a valid URL") from exc
            await self._public(target)
        try:
            async with httpx.AsyncClient(
                timeout=httpx.Timeout(TIMEOUT_SECONDS),
                transport=self._transport,
                follow_redirects=False,
                trust_env=False,
            ) as http:
                answer = await http.get(url, headers=headers)
        except httpx.TimeoutException as exc:
            raise CredentialRejected(f"{credential.provider} did not answer in time") from exc
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise CredentialRejected(
                f"{credential.provider} could not be reached ({type(exc).__name__})"
            ) from exc
        status = answer.status_code
        if status in (401, 403) or (status == 400 and "API key not valid" in answer.text):
            raise CredentialRejected(f"{credential.provider} refused the key ({status})")
        if not 200 <= status < 300:
            raise CredentialRejected(
                f"{credential.provider} answered {status} to the check (list models)"
            )

    async def _public(self, url: httpx.URL) -> None:
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = await self._resolver(url.host, port)
        except (OSError, UnicodeError) as exc:
            raise CredentialRejected(f"could not resolve {url.host}") from exc
        if not addresses or not all(
            is_public_address(ipaddress.ip_address(a.split("%")[0])) for a in addresses
        ):
            raise CredentialRejected(f"{url.host} resolves to a non-public address; refused")
