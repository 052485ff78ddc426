"""API keys: random secrets shown once, digests stored, prefixes displayed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from domain.access.bearer_secrets import display_prefix, generate_secret, looks_like_secret
from domain.access.keys import (
    KEY_PREFIX,
    ApiKey,
    IssuedKey,
)
from domain.errors import ValidationError

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DIGEST = "d1g3st" * 10


def key(**overrides: object) -> ApiKey:
    fields: dict[str, object] = {
        "id": "key-1",
        "client_id": "client-1",
        "name": "prod",
        "prefix": "bzk_live_abcdef",
        "digest": DIGEST,
        "created_at": T0,
    }
    fields.update(overrides)
    return ApiKey(**fields)  # type: ignore[arg-type]


class TestSecrets:
    def test_format(self) -> None:
        secret = generate_secret(KEY_PREFIX)
        assert secret.startswith("bzk_live_")
        body = secret.removeprefix(KEY_PREFIX)
        assert len(body) == 43  # 32 random bytes, base64url without padding
        assert re.fullmatch(r"[A-Za-z0-9_-]+", body)
        assert looks_like_secret(secret, KEY_PREFIX)

    def test_unique(self) -> None:
        secrets = {generate_secret(KEY_PREFIX) for _ in range(1000)}
        assert len(secrets) == 1000

    def test_display_prefix_is_the_key_prefix_and_six_characters(self) -> None:
        secret = "bzk_live_3f9aXYZsecretpart"
        assert display_prefix(secret, KEY_PREFIX) == "bzk_live_3f9aXY"

    def test_display_prefix_reveals_little_of_a_generated_secret(self) -> None:
        secret = generate_secret(KEY_PREFIX)
        prefix = display_prefix(secret, KEY_PREFIX)
        assert secret.startswith(prefix)
        assert len(prefix) == len(KEY_PREFIX) + 6
        assert len(secret) - len(prefix) >= 37

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "sk-proj-abcdefghijklmnopqrstuvwxyz",
            "bzk_live_",
            "bzk_live_short",
            "bzk_live_" + "x" * 200,
            "bzk_live_" + "é" * 20,
            "BZK_LIVE_" + "x" * 30,
        ],
    )
    def test_malformed_keys_do_not_look_like_keys(self, value: str) -> None:
        assert not looks_like_secret(value, KEY_PREFIX)


class TestUsability:
    def test_usable_without_expiry_or_revocation(self) -> None:
        assert key().is_usable_at(T0 + timedelta(days=3650))

    def test_expiry_is_exclusive(self) -> None:
        expires = T0 + timedelta(days=30)
        k = key(expires_at=expires)
        assert k.is_usable_at(expires - timedelta(microseconds=1))
        assert not k.is_usable_at(expires)
        assert not k.is_usable_at(expires + timedelta(days=1))

    def test_revocation_takes_effect_at_its_instant(self) -> None:
        revoked = T0 + timedelta(days=2)
        k = key(revoked_at=revoked)
        assert k.is_usable_at(revoked - timedelta(microseconds=1))
        assert not k.is_usable_at(revoked)
        assert not k.is_usable_at(revoked + timedelta(seconds=1))

    def test_revoking_twice_keeps_the_first_instant(self) -> None:
        first = key().revoked(T0 + timedelta(days=1))
        again = first.revoked(T0 + timedelta(days=5))
        assert first.revoked_at == T0 + timedelta(days=1)
        assert again == first

    def test_revoked_does_not_mutate(self) -> None:
        original = key()
        original.revoked(T0)
        assert original.revoked_at is None


class TestAllowList:
    def test_empty_allow_list_allows_every_model(self) -> None:
        k = key(allowed_models=())
        assert k.allows("openai/gpt-4o-mini")
        assert k.allows("anthropic/claude-sonnet-4-5")

    def test_non_empty_allow_list_allows_only_its_models(self) -> None:
        k = key(allowed_models=("openai/gpt-4o-mini",))
        assert k.allows("openai/gpt-4o-mini")
        assert not k.allows("anthropic/claude-sonnet-4-5")
        assert not k.allows("gpt-4o-mini")  # aliases are resolved before, not here


class TestValidation:
    def test_naive_created_at_refused(self) -> None:
        with pytest.raises(ValidationError):
            key(created_at=datetime(2026, 3, 1))

    def test_naive_expiry_refused(self) -> None:
        with pytest.raises(ValidationError):
            key(expires_at=datetime(2026, 3, 1))

    def test_long_name_refused(self) -> None:
        assert key(name="n" * 200).name == "n" * 200
        with pytest.raises(ValidationError):
            key(name="n" * 201)

    @pytest.mark.parametrize("field", ["rpm_limit", "tpm_limit"])
    @pytest.mark.parametrize("limit", [0, -5])
    def test_limits_must_be_positive(self, field: str, limit: int) -> None:
        with pytest.raises(ValidationError):
            key(**{field: limit})

    def test_positive_limits_accepted(self) -> None:
        k = key(rpm_limit=60, tpm_limit=100_000)
        assert (k.rpm_limit, k.tpm_limit) == (60, 100_000)


class TestNoSecretsInRepr:
    def test_key_repr_hides_the_digest(self) -> None:
        k = key()
        assert DIGEST not in repr(k)
        assert DIGEST not in str(k)
        assert "bzk_live_abcdef" in repr(k)

    def test_issued_key_repr_hides_the_secret_and_digest(self) -> None:
        secret = generate_secret(KEY_PREFIX)
        issued = IssuedKey(secret=secret, key=key(prefix=display_prefix(secret, KEY_PREFIX)))
        assert secret not in repr(issued)
        assert secret not in str(issued)
        assert DIGEST not in repr(issued)
        assert issued.secret == secret
