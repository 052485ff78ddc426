"""GraphQL: `schema.graphql` matches the code; the served schema is hardened."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from strawberry.printer import print_schema

from api.graphql.schema import MAX_DEPTH, build_schema, schema
from tests.api.conftest import ADMIN_TOKEN, Gateway

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_matches_the_code() -> None:
    exported = print_schema(schema) + "\n"
    if os.environ.get("UPDATE_SCHEMA") == "1":
        SCHEMA_FILE.write_text(exported)
    assert SCHEMA_FILE.read_text() == exported, "run `make schema` and commit schema.graphql"


async def test_production_refuses_introspection_and_development_allows_it() -> None:
    introspect = "{ __schema { queryType { name } } }"

    production = await build_schema(development=False).execute(introspect)
    development = await build_schema(development=True).execute(introspect)

    assert production.errors
    assert development.errors is None


async def test_deep_and_alias_heavy_documents_are_refused() -> None:
    served = build_schema(development=True)

    def nested(levels: int) -> str:  # valid GraphQL: __schema > types > fields > type > ofType...
        inner = "name"
        for _ in range(levels):
            inner = f"ofType {{ {inner} }}"
        return "{ __schema { types { fields { type { " + inner + " } } } } }"

    aliases = "{ " + " ".join(f"a{i}: version" for i in range(50)) + " }"
    few_aliases = "{ " + " ".join(f"a{i}: version" for i in range(5)) + " }"

    assert (await served.execute(nested(2))).errors is None  # within the limits
    assert (await served.execute(nested(MAX_DEPTH))).errors  # only deeper: refused
    assert (await served.execute(few_aliases)).errors is None
    assert (await served.execute(aliases)).errors


def test_graphql_is_served_over_post_only_with_graphiql_in_development(gateway: Gateway) -> None:
    owner = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    posted = httpx.post(gateway.url + "/graphql", json={"query": "{ version }"}, headers=owner)
    got = httpx.get(gateway.url + "/graphql", params={"query": "{ version }"})
    ide = httpx.get(gateway.url + "/graphql", headers={"accept": "text/html"})

    assert posted.status_code == 200
    assert posted.json()["data"]["version"]
    assert got.status_code == 400  # queries over GET are refused
    assert ide.status_code == 200  # the test gateway runs in development mode
    assert "graphiql" in ide.text.lower()
