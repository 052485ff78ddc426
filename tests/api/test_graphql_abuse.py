"""Malicious documents are refused before anything runs: deep nesting through fragments,
alias amplification through fragment spreads, huge documents and bodies."""

from __future__ import annotations

import httpx

from api.graphql.limits import MAX_FIELDS
from api.graphql.schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, build_schema
from tests.api.conftest import Gateway
from tests.api.graphql_support import owner


def deep_through_fragments(levels: int) -> str:
    """Each fragment adds one level; none is deep by itself."""
    fragments = [f"fragment F{i} on __Type {{ ofType {{ ...F{i + 1} }} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on __Type {{ name }}")
    return "{ __schema { types { ...F0 } } } " + " ".join(fragments)


def amplified(width: int) -> str:
    """`width` aliases per level, three levels: width**3 leaf fields from 3*width aliases."""
    usage = " ".join(f"m{i}: byModel {{ model }}" for i in range(width))
    client = " ".join(f"u{i}: usage {{ ...U }}" for i in range(width))
    top = " ".join(f"c{i}: clients {{ ...C }}" for i in range(width))
    return (
        f"{{ {top} }} fragment C on Client {{ {client} }} fragment U on ClientUsage {{ {usage} }}"
    )


async def test_deep_nesting_through_fragments_is_refused() -> None:
    served = build_schema(development=True)

    deep = await served.execute(deep_through_fragments(MAX_DEPTH + 2))
    shallow = await served.execute(deep_through_fragments(2))

    assert deep.errors
    assert any(f"deeper than {MAX_DEPTH} levels" in e.message for e in deep.errors)
    assert deep.data is None
    assert shallow.errors is None


async def test_alias_amplification_through_fragments_is_refused_before_execution() -> None:
    served = build_schema(development=True)
    width = 5  # 15 aliases written, yet 5 * 5 * 5 leaf selections once expanded
    assert 3 * width <= MAX_ALIASES

    answer = await served.execute(amplified(width))

    assert answer.errors
    # Expanded, both limits are passed; the walk stops at the first it meets.
    limits = (f"more than {MAX_FIELDS} fields", f"more than {MAX_ALIASES} aliases")
    assert any(limit in e.message for e in answer.errors for limit in limits)
    assert answer.data is None  # refused in validation: no resolver ran (no context needed)
    too_many_aliases = await served.execute(amplified(6))
    assert too_many_aliases.errors
    assert too_many_aliases.data is None


async def test_a_document_with_too_many_tokens_is_refused_at_parse() -> None:
    served = build_schema(development=True)
    huge = "{ " + " ".join(["version"] * (MAX_TOKENS + 1)) + " }"

    answer = await served.execute(huge)

    assert answer.errors
    assert answer.data is None


def test_a_huge_body_is_refused_before_parsing(gateway: Gateway) -> None:
    gql = owner(gateway)
    query = "{ version }" + " " * (300 * 1024)
    response = gql.post(query)
    no_length = httpx.post(
        gql.url,
        content=iter([b'{"query": "{ version }"}']),  # chunked: no Content-Length
        headers={"authorization": f"Bearer {gql.token}", "content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "payload_too_large"
    assert no_length.status_code == 413


def test_refusals_show_their_reason_and_unexpected_errors_stay_masked(gateway: Gateway) -> None:
    gql = owner(gateway)

    bad_period = gql.run('{ overview(period: "2025-13") { period } }')
    unknown_field = gql.run("{ nope }")

    assert "YYYY-MM" in bad_period["errors"][0]["message"]
    assert bad_period["errors"][0]["extensions"]["code"] == "validation_error"
    assert "nope" in unknown_field["errors"][0]["message"]
