"""The memoized measure of a document (api/graphql/limits.py) refuses exactly the documents
whose fully expanded operations or fragments pass a limit, for any acyclic document: checked
against a naive expansion on generated documents."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from api.graphql.limits import MAX_ALIASES, MAX_DEPTH, MAX_FIELDS, measure


def naive(
    selections: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> tuple[int, int, int]:
    """(fields, depth, aliases) with every spread expanded where it is written."""
    fields = depth = aliases = 0
    for selection in selections.selections if selections else ():
        if isinstance(selection, FieldNode):
            f, d, a = naive(selection.selection_set, fragments)
            fields, depth, aliases = fields + 1 + f, max(depth, 1 + d), aliases + a
            aliases += selection.alias is not None
        elif isinstance(selection, InlineFragmentNode):
            f, d, a = naive(selection.selection_set, fragments)
            fields, depth, aliases = fields + f, max(depth, d), aliases + a
        elif isinstance(selection, FragmentSpreadNode):
            f, d, a = naive(fragments[selection.name.value].selection_set, fragments)
            fields, depth, aliases = fields + f, max(depth, d), aliases + a
    return fields, depth, aliases


# Spreads and nesting weighted over aliases, so that documents pass each limit in turn.
KINDS = ["field", "nested", "nested", "spread", "spread", "spread", "inline", "alias"]


@st.composite
def documents(draw: st.DrawFn) -> str:
    """An operation and up to 6 fragments; a fragment spreads only later ones (no cycle)."""
    count = draw(st.integers(1, 6))

    def selection_set(index: int, level: int) -> str:
        items = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(KINDS))
            if kind == "spread" and index + 1 < count:
                items.append(f"...F{draw(st.integers(index + 1, count - 1))}")
            elif kind == "nested" and level < 6:
                items.append("a " + selection_set(index, level + 1))
            elif kind == "inline" and level < 4:
                items.append("... on Query " + selection_set(index, level + 1))
            elif kind == "alias":
                items.append(f"x{draw(st.integers(0, 9))}: b")
            else:
                items.append("c")
        return "{ " + " ".join(items) + " }"

    operation = selection_set(-1, 0)
    fragments = [f"fragment F{i} on Query {selection_set(i, 0)}" for i in range(count)]
    return " ".join([operation, *fragments])


def over(shape: tuple[int, int, int]) -> bool:
    fields, depth, aliases = shape
    return fields > MAX_FIELDS or depth > MAX_DEPTH or aliases > MAX_ALIASES


@settings(max_examples=100, deadline=None)
@given(documents())
def test_the_measure_refuses_exactly_what_a_naive_expansion_finds_over_a_limit(text: str) -> None:
    document: DocumentNode = parse(text)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    definitions = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]

    expected = any(over(naive(d.selection_set, fragments)) for d in definitions)

    assert (measure(document) is not None) == expected
