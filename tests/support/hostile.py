"""Hostile inputs shared by the tests and `bench/hostile.py`: GraphQL documents whose cost
explodes in a naive walk, and JSON nested deeper than any client needs."""

from __future__ import annotations

from collections.abc import Callable

BODY_LIMIT = 256 * 1024  # /graphql's body limit (api.graphql.view.MAX_BODY_BYTES)


def fragment_doubling(levels: int = 21, leaf: str = "version") -> str:
    """The issue's 795-byte document: each fragment spreads the next one twice."""
    chain = [f"fragment F{i} on Query {{...F{i + 1} ...F{i + 1}}}" for i in range(levels)]
    return "{...F0} " + " ".join(chain) + f" fragment F{levels} on Query {{{leaf}}}"


def aliases_through_fragments(levels: int = 20) -> str:
    """Two aliases written per fragment; 2**levels of them once expanded."""
    chain = [f"fragment A{i} on Query {{...A{i + 1} ...A{i + 1}}}" for i in range(levels)]
    return "{...A0} " + " ".join(chain) + f" fragment A{levels} on Query {{a: version b: version}}"


def introspection_doubling(levels: int = 20) -> str:
    """`__Type.ofType` chains through fragments, each spreading the next twice (aliased)."""
    chain = [
        f"fragment T{i} on __Type {{ofType {{...T{i + 1}}} o: ofType {{...T{i + 1}}}}}"
        for i in range(levels)
    ]
    return (
        "{__schema {types {...T0}}} " + " ".join(chain) + f" fragment T{levels} on __Type {{name}}"
    )


def deep_nesting(levels: int = 600) -> str:
    """Plain nested selections, as deep as the token limit lets them be."""
    return "{" + "__schema {" * levels + "__typename" + "}" * (levels + 1)


def introspection_chain(levels: int = 300) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"ofType {{{inner}}}"
    return "{__schema {types {fields {type {" + inner + "}}}}}"


def fragment_chain(levels: int = 100) -> str:
    """Fragments spreading the next once: no fields, no depth, only a long chain."""
    chain = [f"fragment C{i} on Query {{...C{i + 1}}}" for i in range(levels)]
    return "{...C0} " + " ".join(chain) + f" fragment C{levels} on Query {{version}}"


def fragment_cycle() -> str:
    return "{...X} fragment X on Query {version ...Y} fragment Y on Query {...X}"


def tiny_fields(count: int = 1990) -> str:
    """As many identical fields as the token limit allows (pairwise field-merge checks)."""
    return "{" + " version" * count + "}"


def unused_fragment_of_tiny_fields(count: int = 1990) -> str:
    """A small operation and an unused fragment of many identical fields."""
    return "{version} fragment Big on Query {" + " version" * count + "}"


def body_of_tiny_fields() -> str:
    """Tiny fields up to the body limit: refused at the token limit, whatever follows."""
    return "{" + " a" * (BODY_LIMIT // 2 - 64) + "}"


def padded_with_comment() -> str:
    """One comment token up to the body limit, then a valid operation."""
    return "#" + "x" * (BODY_LIMIT - 256) + "\n{version}"


HOSTILE_DOCUMENTS: dict[str, Callable[[], str]] = {
    "fragment doubling (the issue's 795 bytes)": fragment_doubling,
    "aliases through fragments": aliases_through_fragments,
    "introspection doubling": introspection_doubling,
    "deep nesting": deep_nesting,
    "introspection chain": introspection_chain,
    "fragment chain": fragment_chain,
    "fragment cycle": fragment_cycle,
    "tiny fields": tiny_fields,
    "unused fragment of tiny fields": unused_fragment_of_tiny_fields,
    "tiny fields up to the body limit": body_of_tiny_fields,
}


def nested_json(depth: int) -> bytes:
    """JSON text of `depth` objects and arrays alternating around a string (written by hand:
    orjson refuses to write more than 254 levels)."""
    opening = "".join('{"content": ' if level % 2 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    return (opening + '"hi"' + closing).encode()
