"""Alias names and the resolution of the model a call names (domain/catalog/aliases.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog.aliases import AliasTable, ModelAlias, Resolution, check_alias_name, resolve
from domain.errors import ValidationError

T0 = datetime(2026, 12, 1, tzinfo=UTC)
names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}", fullmatch=True)
clients = st.sampled_from(["acme", "globex", "initech"])
model_ids = st.sampled_from(
    ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "google/gemini-2.5-flash", "demo/chat"]
)
CATALOG = [
    "openai/gpt-4o-mini",
    "anthropic/claude-haiku-4-5",
    "google/gemini-2.5-flash",
    "demo/chat",
]
aliases = st.lists(
    st.builds(
        lambda name, model, client: ModelAlias(name, model, client, T0, T0),
        names,
        model_ids,
        st.none() | clients,
    ),
    max_size=12,
)


@given(aliases, names, clients)
def test_a_clients_own_alias_wins_then_the_agencys(
    stored: list[ModelAlias], name: str, client: str
) -> None:
    table = AliasTable.of(stored)
    found = resolve(name, client, CATALOG, table)
    own = [a for a in stored if a.client_id == client and a.name == name]
    agency = [a for a in stored if a.client_id is None and a.name == name]
    if own:
        assert found == Resolution(own[-1].model_id, name)
    elif agency:
        assert found == Resolution(agency[-1].model_id, name)
    else:
        assert found is None or found.alias is None  # a bare catalog name, never an alias


@given(aliases, clients, clients, names)
def test_another_clients_alias_is_never_seen(
    stored: list[ModelAlias], mine: str, theirs: str, name: str
) -> None:
    """Tenant isolation: what one client's aliases say changes nothing for another client."""
    if mine == theirs:
        return
    without = [a for a in stored if a.client_id != theirs]
    with_theirs = [*without, ModelAlias(name, "demo/chat", theirs, T0, T0)]
    assert resolve(name, mine, CATALOG, AliasTable.of(with_theirs)) == resolve(
        name, mine, CATALOG, AliasTable.of(without)
    )


@given(aliases, clients, model_ids)
def test_a_catalog_id_is_never_shadowed(
    stored: list[ModelAlias], client: str, model_id: str
) -> None:
    assert resolve(model_id, client, CATALOG, AliasTable.of(stored)) == Resolution(model_id)


@given(names.filter(lambda n: "/" not in n))
def test_every_name_of_the_grammar_is_an_alias_name(name: str) -> None:
    assert check_alias_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "openai/gpt-4o", "models/gemini", "a b", "gpt-4o:latest", "-x", "é", "x" * 129]
)
def test_names_that_cannot_be_aliases(name: str) -> None:
    with pytest.raises(ValidationError):
        check_alias_name(name)


def test_an_alias_may_take_a_bare_model_name_to_move_it_to_another_provider() -> None:
    table = AliasTable.of([ModelAlias("gpt-4o-mini", "anthropic/claude-haiku-4-5", None, T0, T0)])
    assert resolve("gpt-4o-mini", "acme", CATALOG, table) == Resolution(
        "anthropic/claude-haiku-4-5", "gpt-4o-mini"
    )
    assert resolve("gpt-4o-mini", "acme", CATALOG, AliasTable.of([])) == Resolution(
        "openai/gpt-4o-mini"
    )


def test_gemini_routes_prefer_googles_model_after_aliases() -> None:
    catalog = [*CATALOG, "openrouter/gemini-2.5-flash"]
    empty = AliasTable.of([])
    assert resolve("gemini-2.5-flash", "acme", catalog, empty) is None  # ambiguous bare name
    assert resolve("gemini-2.5-flash", "acme", catalog, empty, "google") == Resolution(
        "google/gemini-2.5-flash"
    )
    table = AliasTable.of([ModelAlias("gemini-2.5-flash", "demo/chat", "acme", T0, T0)])
    assert resolve("gemini-2.5-flash", "acme", catalog, table, "google") == Resolution(
        "demo/chat", "gemini-2.5-flash"
    )


def test_an_alias_whose_target_left_the_catalog_resolves_to_nothing() -> None:
    table = AliasTable.of([ModelAlias("bot", "openai/gone", None, T0, T0)])
    assert resolve("bot", "acme", CATALOG, table) is None


def test_names_for_a_client_merge_its_own_over_the_agencys() -> None:
    table = AliasTable.of(
        [
            ModelAlias("a", "demo/chat", None, T0, T0),
            ModelAlias("b", "demo/chat", None, T0, T0),
            ModelAlias("b", "openai/gpt-4o-mini", "acme", T0, T0),
            ModelAlias("c", "openai/gpt-4o-mini", "globex", T0, T0),
        ]
    )
    assert table.names_for("acme") == {"a": "demo/chat", "b": "openai/gpt-4o-mini"}
    assert table.names_for("initech") == {"a": "demo/chat", "b": "demo/chat"}


def test_an_alias_targets_a_catalog_id() -> None:
    with pytest.raises(ValidationError):
        ModelAlias("bot", "gpt-4o", None, T0, T0)
