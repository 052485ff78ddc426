"""JSON bodies (api/request_body.py): any value nested at most 64 levels parses to itself,
any deeper one is refused as too deeply nested, and non-UTF-8 bytes are refused, never a
RecursionError or a 500."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.request_body import MAX_JSON_DEPTH, BodyRefused, parse_json
from tests.support.hostile import nested_json

leaves = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=5)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def wrapped(value: Any, levels: int) -> Any:
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


@settings(max_examples=200, deadline=None)
@given(values, st.integers(0, 80))
def test_nesting_up_to_the_limit_parses_and_deeper_is_refused(value: Any, extra: int) -> None:
    document = wrapped(value, extra)
    body = orjson.dumps(document)

    if depth(document) <= MAX_JSON_DEPTH:
        assert parse_json(body) == document
    else:
        with pytest.raises(BodyRefused) as refused:
            parse_json(body)
        assert (refused.value.status, refused.value.code) == (400, "too_deeply_nested")


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 300, 1025, 100_000])
def test_any_depth_is_refused_without_recursion(levels: int) -> None:
    with pytest.raises(BodyRefused) as refused:
        parse_json(nested_json(levels))
    assert refused.value.code == "too_deeply_nested"


@pytest.mark.parametrize("body", [b'{"a": "\xff"}', b"\xfe\xff{}", b'{"a": "\xed\xa0\x80"}'])
def test_non_utf8_is_refused_as_invalid_json(body: bytes) -> None:
    with pytest.raises(BodyRefused) as refused:
        parse_json(body)
    assert (refused.value.status, refused.value.code) == (400, "invalid_json")
