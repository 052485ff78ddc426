"""KeyUseCases against the in-memory fakes: issue once, store a digest, authenticate."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.access.bearer_secrets import display_prefix, looks_like_secret
from domain.access.keys import KEY_PREFIX
from domain.billing.plans import PercentageMargin
from domain.catalog.models import Model
from domain.errors import InvalidApiKey, NotFound, ValidationError
from domain.usecases.clients import ClientUseCases, NewClient
from domain.usecases.keys import KeyUseCases, NewKey
from runtime.lookups import Lookups
from tests.fakes import FakeKeyHasher, FakeUnitOfWorkFactory, FrozenClock

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


async def setup() -> tuple[KeyUseCases, FakeUnitOfWorkFactory, FrozenClock, str]:
    """Key use cases over a store holding one client and two models; returns the client id."""
    factory, clock = FakeUnitOfWorkFactory(), FrozenClock(NOW)
    client, _ = await ClientUseCases(factory, clock).create(
        NewClient("Acme", PercentageMargin(Decimal(30)))
    )
    async with factory() as uow:
        await uow.catalog.save_model(Model("openai/gpt-4o-mini", "openai", "gpt-4o-mini"))
        await uow.catalog.save_model(Model("anthropic/claude-x", "anthropic", "claude-x"))
        await uow.commit()
    return KeyUseCases(factory, clock, FakeKeyHasher(), Lookups(factory)), factory, clock, client.id


def store_dump(factory: FakeUnitOfWorkFactory) -> str:
    """Every stored field, including those hidden from repr (digests)."""
    return str(dataclasses.asdict(factory.store))


class TestIssue:
    async def test_secret_is_returned_once_and_only_its_digest_is_stored(self) -> None:
        keys, factory, _, client_id = await setup()

        issued = await keys.issue(NewKey(client_id=client_id, name="prod"))

        assert looks_like_secret(issued.secret, KEY_PREFIX)
        [stored] = factory.store.keys.values()
        assert stored == issued.key
        assert stored.digest == FakeKeyHasher().digest(issued.secret)
        assert stored.digest != issued.secret
        assert stored.prefix == display_prefix(issued.secret, KEY_PREFIX)
        dump = store_dump(factory)
        assert issued.secret not in dump
        assert issued.secret.removeprefix(stored.prefix) not in dump
        assert (stored.client_id, stored.name, stored.created_at) == (client_id, "prod", NOW)

    async def test_each_key_gets_its_own_secret(self) -> None:
        keys, _, _, client_id = await setup()
        first = await keys.issue(NewKey(client_id))
        second = await keys.issue(NewKey(client_id))
        assert first.secret != second.secret
        assert first.key.id != second.key.id
        assert {k.id for k in await keys.for_client(client_id)} == {first.key.id, second.key.id}

    async def test_unknown_client(self) -> None:
        keys, factory, _, _ = await setup()
        with pytest.raises(NotFound):
            await keys.issue(NewKey("nobody"))
        assert factory.store.keys == {}

    @pytest.mark.parametrize("delta", [timedelta(0), timedelta(seconds=-1)])
    async def test_expiry_must_be_in_the_future(self, delta: timedelta) -> None:
        keys, factory, _, client_id = await setup()
        with pytest.raises(ValidationError, match="future"):
            await keys.issue(NewKey(client_id, expires_at=NOW + delta))
        assert factory.store.keys == {}

    async def test_naive_expiry_is_a_validation_error(self) -> None:
        keys, _, _, client_id = await setup()
        with pytest.raises(ValidationError):
            await keys.issue(NewKey(client_id, expires_at=datetime(2027, 1, 1)))

    async def test_allow_list_of_catalog_models(self) -> None:
        keys, _, _, client_id = await setup()
        issued = await keys.issue(NewKey(client_id, allowed_models=("openai/gpt-4o-mini",)))
        assert issued.key.allows("openai/gpt-4o-mini")
        assert not issued.key.allows("anthropic/claude-x")

    @pytest.mark.parametrize(
        "allowed", [("openai/gpt-5",), ("openai/gpt-4o-mini", "google/gemini-x"), ("gpt-4o-mini",)]
    )
    async def test_allow_list_with_an_unknown_model_refused(self, allowed: tuple[str, ...]) -> None:
        keys, factory, _, client_id = await setup()
        with pytest.raises(ValidationError, match="allow-list"):
            await keys.issue(NewKey(client_id, allowed_models=allowed))
        assert factory.store.keys == {}

    async def test_limits_are_kept_and_validated(self) -> None:
        keys, factory, _, client_id = await setup()
        issued = await keys.issue(NewKey(client_id, rpm_limit=60, tpm_limit=10_000))
        assert (issued.key.rpm_limit, issued.key.tpm_limit) == (60, 10_000)
        with pytest.raises(ValidationError):
            await keys.issue(NewKey(client_id, rpm_limit=0))
        assert len(factory.store.keys) == 1


class TestAuthenticate:
    async def test_good_key(self) -> None:
        keys, _, clock, client_id = await setup()
        issued = await keys.issue(NewKey(client_id))
        clock.advance(days=30)

        assert await keys.authenticate(issued.secret) == issued.key

    async def test_unknown_key(self) -> None:
        keys, _, _, client_id = await setup()
        await keys.issue(NewKey(client_id))
        unknown = "bzk_live_" + "A" * 43

        with pytest.raises(InvalidApiKey) as caught:
            await keys.authenticate(unknown)

        assert unknown not in str(caught.value)
        assert "A" * 43 not in caught.value.message

    async def test_revoked_key(self) -> None:
        keys, _, clock, client_id = await setup()
        issued = await keys.issue(NewKey(client_id))
        await keys.revoke(issued.key.id)

        with pytest.raises(InvalidApiKey) as caught:
            await keys.authenticate(issued.secret)

        assert issued.secret not in str(caught.value)
        clock.advance(days=1)
        with pytest.raises(InvalidApiKey):
            await keys.authenticate(issued.secret)

    async def test_expired_key(self) -> None:
        keys, _, clock, client_id = await setup()
        expires = NOW + timedelta(days=7)
        issued = await keys.issue(NewKey(client_id, expires_at=expires))

        clock.set(expires - timedelta(microseconds=1))
        assert await keys.authenticate(issued.secret) == issued.key

        clock.set(expires)
        with pytest.raises(InvalidApiKey) as caught:
            await keys.authenticate(issued.secret)
        assert issued.secret not in str(caught.value)

    @pytest.mark.parametrize(
        "given",
        [
            "",
            "Bearer bzk_live_abcdefghijklmnopqrstuvwxyz",
            "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
            "bzk_live_short",
            "bzk_live_" + "x" * 300,
            "bzk_live_ünïcödé-but-long-enough",
        ],
    )
    async def test_malformed_string(self, given: str) -> None:
        keys, _, _, client_id = await setup()
        await keys.issue(NewKey(client_id))

        with pytest.raises(InvalidApiKey) as caught:
            await keys.authenticate(given)

        assert caught.value.message == "invalid API key"
        if given:
            assert given not in str(caught.value)

    async def test_a_key_with_one_character_changed_is_refused(self) -> None:
        keys, _, _, client_id = await setup()
        issued = await keys.issue(NewKey(client_id))
        last = issued.secret[-1]
        tampered = issued.secret[:-1] + ("A" if last != "A" else "B")

        with pytest.raises(InvalidApiKey):
            await keys.authenticate(tampered)

    async def test_a_digest_under_another_server_secret_is_refused(self) -> None:
        keys, factory, clock, client_id = await setup()
        issued = await keys.issue(NewKey(client_id))
        other_server = KeyUseCases(
            factory, clock, FakeKeyHasher(b"another server secret"), Lookups(factory)
        )

        with pytest.raises(InvalidApiKey):
            await other_server.authenticate(issued.secret)

    async def test_every_refusal_says_the_same_thing(self) -> None:
        keys, _, clock, client_id = await setup()
        revoked = await keys.issue(NewKey(client_id))
        await keys.revoke(revoked.key.id)
        expired = await keys.issue(NewKey(client_id, expires_at=NOW + timedelta(hours=1)))
        clock.advance(hours=2)

        messages = set()
        for secret in (revoked.secret, expired.secret, "bzk_live_" + "z" * 43, "garbage"):
            with pytest.raises(InvalidApiKey) as caught:
                await keys.authenticate(secret)
            messages.add(caught.value.message)

        assert messages == {"invalid API key"}


class TestRevoke:
    async def test_revoke_is_idempotent(self) -> None:
        keys, factory, clock, client_id = await setup()
        issued = await keys.issue(NewKey(client_id))
        revoked_at = clock.advance(hours=1)

        first = await keys.revoke(issued.key.id)
        clock.advance(days=1)
        second = await keys.revoke(issued.key.id)

        assert first.revoked_at == revoked_at
        assert second == first
        assert factory.store.keys[issued.key.id].revoked_at == revoked_at
        assert factory.store.keys[issued.key.id].digest == issued.key.digest

    async def test_revoking_one_key_leaves_the_others_usable(self) -> None:
        keys, _, _, client_id = await setup()
        revoked = await keys.issue(NewKey(client_id))
        kept = await keys.issue(NewKey(client_id))

        await keys.revoke(revoked.key.id)

        assert await keys.authenticate(kept.secret) == kept.key

    async def test_unknown_key(self) -> None:
        keys, _, _, _ = await setup()
        with pytest.raises(NotFound):
            await keys.revoke("nope")


async def test_keys_of_many_clients_come_from_one_read() -> None:
    uow, clock = FakeUnitOfWorkFactory(), FrozenClock(datetime(2026, 3, 1, tzinfo=UTC))
    clients, keys = (
        ClientUseCases(uow, clock),
        KeyUseCases(uow, clock, FakeKeyHasher(), Lookups(uow)),
    )
    a, _ = await clients.create(NewClient("A", PercentageMargin(Decimal(1))))
    b, _ = await clients.create(NewClient("B", PercentageMargin(Decimal(1))))
    first = await keys.issue(NewKey(a.id, "one"))
    clock.advance(timedelta(seconds=1))  # keys list oldest first
    second = await keys.issue(NewKey(a.id, "two"))
    made_before = len(uow.made)

    found = await keys.for_clients([a.id, b.id])

    assert len(uow.made) == made_before + 1
    assert [k.id for k in found[a.id]] == [first.key.id, second.key.id]
    assert found[b.id] == []
