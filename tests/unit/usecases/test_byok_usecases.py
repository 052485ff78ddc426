"""Storing a client's own credential (domain/usecases/byok.py, adapters/byok/checks.py): base
URLs pass the webhooks' outbound-address rule (https, public hosts, also after resolution)
unless private URLs are allowed; nothing is stored or sent when a check fails; roles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from adapters.byok.checks import HttpCredentialCheck
from adapters.byok.cipher import AesGcmCipher
from domain.access.principals import NotAllowed, PortalPrincipal, Role, StaffPrincipal
from domain.billing.periods import period_containing
from domain.byok.credentials import ByokSettings, ByokUsage, CredentialInput, StoredCredential
from domain.byok.errors import CredentialRejected
from domain.errors import ValidationError
from domain.usecases.byok import ByokDesk, ByokUseCases
from tests.fakes import FrozenClock

NOW = datetime(2026, 12, 7, tzinfo=UTC)
BASES = {"openai": "https://api.openai.example/v1"}


class MemoryStore:
    """Just enough of the ByokStore port: what was added."""

    def __init__(self) -> None:
        self.added: list[StoredCredential] = []

    async def credentials(self, client_id: str | None = None) -> Sequence[StoredCredential]:
        return [c for c in self.added if client_id in (None, c.client_id)]

    async def add_credential(self, credential: StoredCredential) -> None:
        self.added.append(credential)

    async def revoke_credential(self, client_id: str, credential_id: str, at: datetime) -> bool:
        return False

    async def settings(self, client_id: str | None = None) -> Sequence[ByokSettings]:
        return []

    async def put_settings(self, settings: ByokSettings) -> None:
        return None

    async def touch(self, used: dict[str, datetime]) -> None:
        return None

    async def usage(self, client_id: str, start: datetime, end: datetime) -> Sequence[ByokUsage]:
        return []

    async def rekey(self, reencrypt: Callable[[StoredCredential], bytes], key_id: str) -> int:
        return 0


def provider(seen: list[httpx.Request], status: int = 200) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json={"data": []})

    return httpx.MockTransport(answer)


def use_cases(
    store: MemoryStore, seen: list[httpx.Request], *, allow_private: bool, resolves_to: str
) -> ByokUseCases:
    async def resolver(host: str, port: int) -> list[str]:
        return [resolves_to]

    check = HttpCredentialCheck(
        BASES, allow_private=allow_private, transport=provider(seen), resolver=resolver
    )
    cipher = AesGcmCipher("unit-secret-" + "u" * 40)
    return ByokUseCases(store, cipher, check, FrozenClock(NOW), allow_private=allow_private)


@pytest.mark.parametrize(
    ("base_url", "resolves_to", "refused"),
    [
        ("https://llm.example.com/v1", "203.0.113.10", CredentialRejected),  # TEST-NET: not global
        ("https://llm.example.com/v1", "10.0.0.5", CredentialRejected),
        ("https://127.0.0.1:8000/v1", "127.0.0.1", ValidationError),
        ("http://llm.example.com/v1", "8.8.8.8", ValidationError),
        ("ftp://llm.example.com/v1", "8.8.8.8", ValidationError),
    ],
)
async def test_base_urls_must_reach_public_hosts(
    base_url: str, resolves_to: str, refused: type[Exception]
) -> None:
    store, seen = MemoryStore(), []
    byok = use_cases(store, seen, allow_private=False, resolves_to=resolves_to)

    with pytest.raises(refused):
        await byok.set_credential(CredentialInput("c", "openai", "sk-secret-1234", base_url))

    assert store.added == []
    assert seen == []  # the key was never sent


async def test_a_public_base_url_is_checked_with_the_clients_headers() -> None:
    store, seen = MemoryStore(), []
    byok = use_cases(store, seen, allow_private=False, resolves_to="8.8.8.8")
    new = CredentialInput(
        "c", "openai", "sk-secret-1234", "https://LLM.example.com/v1", "org-1", "proj-2"
    )

    masked = await byok.set_credential(new)

    [request] = seen
    assert str(request.url) == "https://llm.example.com/v1/models"
    assert request.headers["authorization"] == "Bearer sk-secret-1234"
    assert request.headers["openai-organization"] == "org-1"
    assert request.headers["openai-project"] == "proj-2"
    assert masked.base_url == "https://llm.example.com/v1"
    assert masked.last4 == "1234"
    [stored] = store.added
    assert b"sk-secret-1234" not in stored.ciphertext


async def test_private_base_urls_when_allowed() -> None:
    store, seen = MemoryStore(), []
    byok = use_cases(store, seen, allow_private=True, resolves_to="127.0.0.1")
    await byok.set_credential(
        CredentialInput("c", "openai", "sk-secret-1234", "http://127.0.0.1:8000/v1")
    )
    assert len(store.added) == len(seen) == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"api_key": "short"},
        {"api_key": "sk-with\nnewline"},
        {"api_key": "sk-ünïcode-key"},
        {"organization": "org\x00"},
        {"models": ("anthropic/claude",)},
    ],
)
def test_inputs_that_cannot_be_sent_are_refused(bad: dict[str, object]) -> None:
    values: dict[str, object] = {"client_id": "c", "provider": "openai", "api_key": "sk-1234567"}
    with pytest.raises(ValidationError):
        CredentialInput(**(values | bad))  # type: ignore[arg-type]  # each bad value on purpose


async def test_viewers_read_and_portal_tokens_see_no_credentials() -> None:
    store, seen = MemoryStore(), []
    byok = use_cases(store, seen, allow_private=False, resolves_to="8.8.8.8")

    def desk(principal: StaffPrincipal | PortalPrincipal) -> ByokDesk:
        return ByokDesk(principal, byok, lambda label: period_containing(NOW, ZoneInfo("UTC")))

    viewer = desk(StaffPrincipal("v", Role.VIEWER))
    portal = desk(PortalPrincipal("c", "t"))
    assert await viewer.credentials("c") == []
    with pytest.raises(NotAllowed):
        await viewer.set_credential(CredentialInput("c", "openai", "sk-secret-1234"))
    with pytest.raises(NotAllowed):
        await portal.credentials("c")
    with pytest.raises(NotAllowed):
        await portal.settings("c")
    assert seen == []
