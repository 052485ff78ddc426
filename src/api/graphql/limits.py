"""What a document may ask for once its fragments are expanded: fields, depth, aliases.

Measured in one memoized walk of the parsed document BEFORE any validation rule runs
(`MeasureFirst`): graphql-core's standard rules and strawberry's own depth and alias limiters
expand fragment spreads without memoizing them, so a few hundred bytes of fragments that each
spread the next twice cost time doubling per fragment there. Here each fragment is measured
once, a cycle is refused as soon as it is met, and the walk stops at the first limit passed,
so any document up to the body limit costs one walk of its text. Every field counts,
introspection included (strawberry's depth limiter skips it)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

MAX_FIELDS = 250
MAX_DEPTH = 10
MAX_ALIASES = 15
# Selection sets and fragment spreads on one path; bounds the walk's own recursion too.
MAX_NESTING = 64


@dataclass(frozen=True, slots=True)
class Shape:
    fields: int = 0
    depth: int = 0
    aliases: int = 0

    def over(self) -> bool:
        return self.fields > MAX_FIELDS or self.depth > MAX_DEPTH or self.aliases > MAX_ALIASES


class Refused(Exception):
    """A limit passed; the walk stops at once."""


class _Measure:
    def __init__(self, document: DocumentNode) -> None:
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._memo: dict[str, Shape] = {}
        self._open: list[str] = []

    def definition(self, selections: SelectionSetNode) -> Shape:
        return self._selections(selections, 0)

    def _selections(self, selections: SelectionSetNode | None, nesting: int) -> Shape:
        if selections is None:
            return Shape()
        if nesting > MAX_NESTING:
            raise Refused(f"selections and fragment spreads nest deeper than {MAX_NESTING} levels")
        fields = depth = aliases = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                inner = self._selections(selection.selection_set, nesting + 1)
                fields += 1 + inner.fields
                depth = max(depth, 1 + inner.depth)
                aliases += inner.aliases + (selection.alias is not None)
            else:
                if isinstance(selection, InlineFragmentNode):
                    inner = self._selections(selection.selection_set, nesting + 1)
                else:
                    assert isinstance(selection, FragmentSpreadNode)
                    inner = self._spread(selection.name.value, nesting + 1)
                fields += inner.fields
                depth = max(depth, inner.depth)
                aliases += inner.aliases
            shape = Shape(fields, depth, aliases)
            if shape.over():
                _refuse(shape)
        return Shape(fields, depth, aliases)

    def _spread(self, name: str, nesting: int) -> Shape:
        if name in self._memo:
            return self._memo[name]
        fragment = self._fragments.get(name)
        if fragment is None:  # unknown: KnownFragmentNamesRule words the error
            return Shape()
        if name in self._open:
            cycle = " -> ".join([*self._open[self._open.index(name) :], name])
            raise Refused(f"fragments spread each other in a cycle ({cycle})")
        self._open.append(name)
        shape = self._selections(fragment.selection_set, nesting)
        self._open.pop()
        self._memo[name] = shape
        return shape


_EXPANDED = " once its fragments are expanded"


def _refuse(shape: Shape) -> NoReturn:
    if shape.fields > MAX_FIELDS:
        raise Refused(f"the operation selects more than {MAX_FIELDS} fields{_EXPANDED}")
    if shape.depth > MAX_DEPTH:
        raise Refused(f"the operation is nested deeper than {MAX_DEPTH} levels{_EXPANDED}")
    raise Refused(f"the operation uses more than {MAX_ALIASES} aliases{_EXPANDED}")


def measure(document: DocumentNode) -> GraphQLError | None:
    """The first limit the document passes (each operation and each fragment, with its
    spreads expanded), or None. Linear in the document: each fragment is walked once."""
    walk = _Measure(document)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            try:
                walk.definition(definition.selection_set)
            except Refused as refused:
                return GraphQLError(str(refused), definition)
    return None


class MeasureFirst(SchemaExtension):
    """Runs `measure` ahead of every validation rule; a refused document is never
    validated further, let alone executed (strawberry skips its validation when an
    extension has already set the errors)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            error = measure(document)
            if error is not None:
                context.pre_execution_errors = [error]
        yield
