"""Documents are measured (fields, depth, aliases with fragments expanded and memoized;
fragment cycles) before any validation rule runs, so a hostile document costs one walk of
its text: the issue's 795-byte fragment doubling took 10 s in strawberry's limiters."""

from __future__ import annotations

import pytest

from api.graphql.limits import MAX_FIELDS, MAX_NESTING
from api.graphql.schema import build_schema
from tests.api.conftest import Gateway
from tests.api.graphql_support import owner
from tests.support.hostile import (
    HOSTILE_DOCUMENTS,
    fragment_chain,
    fragment_cycle,
    fragment_doubling,
)


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
async def test_hostile_documents_are_refused_without_running(name: str) -> None:
    answer = await build_schema(development=False).execute(HOSTILE_DOCUMENTS[name]())

    assert answer.errors
    assert answer.data is None


async def test_the_measure_runs_before_every_other_validation_rule() -> None:
    # `nope` is no field: a validation rule would say so, had validation run at all.
    answer = await build_schema(development=True).execute(fragment_doubling(leaf="nope"))

    assert answer.errors is not None
    assert [e.message for e in answer.errors] == [
        f"the operation selects more than {MAX_FIELDS} fields once its fragments are expanded"
    ]


async def test_cycles_and_long_fragment_chains_are_refused_by_the_measure() -> None:
    served = build_schema(development=True)

    cycle = await served.execute(fragment_cycle())
    chain = await served.execute(fragment_chain())
    short_chain = await served.execute(fragment_chain(10))

    assert cycle.errors is not None
    assert [e.message for e in cycle.errors] == [
        "fragments spread each other in a cycle (X -> Y -> X)"
    ]
    assert chain.errors is not None
    assert [e.message for e in chain.errors] == [
        f"selections and fragment spreads nest deeper than {MAX_NESTING} levels"
    ]
    assert short_chain.errors is None
    assert short_chain.data is not None
    assert set(short_chain.data) == {"version"}


def test_the_issues_document_is_refused_over_http(gateway: Gateway) -> None:
    response = owner(gateway).post(fragment_doubling())

    assert response.status_code == 200
    answer = response.json()
    assert answer["data"] is None
    assert "more than 250 fields" in answer["errors"][0]["message"]
