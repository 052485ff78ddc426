"""Clients' own provider keys (docs/byok.md): the store, the cipher, the check on save, the
use cases and the hot path's per-revision cache."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from adapters.byok.checks import HttpCredentialCheck
from adapters.byok.cipher import AesGcmCipher
from api.container.model_providers import (
    ANTHROPIC_DEFAULT_BASE,
    GEMINI_DEFAULT_BASE,
    OPENAI_DEFAULT_BASE,
)
from api.settings import Settings
from domain.usecases.byok import ByokUseCases

if TYPE_CHECKING:
    from api.container import Container


def build_credential_check(settings: Settings) -> HttpCredentialCheck:
    """Each provider's default base URL is the agency's own setting, else the public one."""
    bases = {
        "openai": settings.openai.base_url or OPENAI_DEFAULT_BASE,
        "anthropic": settings.anthropic.base_url or ANTHROPIC_DEFAULT_BASE,
        "google": settings.gemini.base_url or GEMINI_DEFAULT_BASE,
    }
    return HttpCredentialCheck(bases, allow_private=settings.allow_private_urls)


def build_cipher(settings: Settings, older: Iterable[str] = ()) -> AesGcmCipher:
    """Keys derived from BIZGRAPH_SECRET_KEY (and, for a rotation, the secrets before it)."""
    return AesGcmCipher(settings.secret_key, older)


def rotation(container: Container, older: Iterable[str]) -> ByokUseCases:
    """The BYOK use cases with a cipher that also opens what the `older` secrets encrypted
    (`bizgraph credentials rotate`)."""
    settings = container.settings()
    return ByokUseCases(
        container.byok_store(),
        build_cipher(settings, older),
        build_credential_check(settings),
        container.clock(),
        allow_private=settings.allow_private_urls,
    )
