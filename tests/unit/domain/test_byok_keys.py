"""Which key an attempt uses (domain/usecases/byok_calls.py) and the cipher's guarantees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.byok.cipher import AesGcmCipher
from domain.byok.credentials import (
    ByokSettings,
    ClientByok,
    OnRevoke,
    StoredCredential,
    UpstreamCredential,
)
from domain.byok.errors import ByokCredentialRevoked, CredentialUnreadable
from domain.catalog.models import Model
from domain.usecases.byok_calls import key_for, refuse_revoked

AT = datetime(2026, 1, 1, tzinfo=UTC)
GPT = Model("openai/gpt", "openai", "gpt")
CLAUDE = Model("anthropic/claude", "anthropic", "claude")


def stored(cid: str, models: tuple[str, ...] = (), revoked: bool = False) -> StoredCredential:
    return StoredCredential(
        cid, "c", "openai", b"x", "k", "1234", None, None, None, models, AT,
        revoked_at=AT if revoked else None,
    )  # fmt: skip


def upstream(cid: str) -> UpstreamCredential:
    return UpstreamCredential(cid, "openai", "sk-" + cid)


def config(settings: ByokSettings, *pairs: tuple[StoredCredential, bool]) -> ClientByok:
    return ClientByok(
        settings,
        tuple((s, None if s.revoked_at or not live else upstream(s.id)) for s, live in pairs),
    )


def test_a_credential_naming_the_model_wins_over_one_for_every_model() -> None:
    byok = config(ByokSettings("c"), (stored("all"), True), (stored("one", ("openai/gpt",)), True))
    assert key_for(byok, GPT, GPT, 0).credential == upstream("one")
    other = Model("openai/other", "openai", "other")
    assert key_for(byok, other, other, 0).credential == upstream("all")
    assert key_for(byok, CLAUDE, CLAUDE, 0).credential is None


def test_fallbacks_to_agency_paid_models_follow_the_setting() -> None:
    forbid = config(ByokSettings("c"), (stored("all"), True))
    allow = config(ByokSettings("c", fallback_to_agency=True), (stored("all"), True))
    assert not key_for(forbid, GPT, CLAUDE, 1).allowed
    choice = key_for(allow, GPT, CLAUDE, 1)
    assert choice.allowed
    assert choice.credential is None


def test_a_removed_credential_refuses_or_falls_back_as_configured() -> None:
    refuse = config(ByokSettings("c", on_revoke=OnRevoke.REFUSE), (stored("x", revoked=True), True))
    agency = config(ByokSettings("c"), (stored("x", revoked=True), True))
    with pytest.raises(ByokCredentialRevoked):
        refuse_revoked(refuse, GPT)
    refuse_revoked(agency, GPT)
    refuse_revoked(refuse, CLAUDE)  # never covered by the removed one
    assert key_for(agency, GPT, GPT, 0).credential is None
    assert not key_for(refuse, CLAUDE, GPT, 1).allowed


def test_the_cipher_binds_ciphertext_to_its_row_and_key() -> None:
    cipher = AesGcmCipher("secret-" + "s" * 40)
    sealed = cipher.encrypt("sk-live", "row-1")
    assert b"sk-live" not in sealed
    assert cipher.decrypt(sealed, cipher.key_id, "row-1") == "sk-live"
    assert cipher.encrypt("sk-live", "row-1") != sealed  # a fresh nonce each time
    with pytest.raises(CredentialUnreadable):
        cipher.decrypt(sealed, cipher.key_id, "row-2")
    with pytest.raises(CredentialUnreadable):
        cipher.decrypt(sealed[:-1] + bytes([sealed[-1] ^ 1]), cipher.key_id, "row-1")
    with pytest.raises(CredentialUnreadable):
        AesGcmCipher("other-" + "o" * 40).decrypt(sealed, cipher.key_id, "row-1")
