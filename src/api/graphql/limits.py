"""Limits on what a document selects once its fragments are expanded: fields and depth.

The alias limit counts aliases where they are written; a fragment spread under many aliased
fields multiplies them. Strawberry's depth limiter skips introspection fields, so a chain of
fragments through `__Type.ofType` goes as deep as it likes. This rule walks the operation as
execution would meet it (every field, introspection included), memoizing each fragment, so
it costs one walk of the document and refuses before anything runs."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)

MAX_FIELDS = 250
MAX_DEPTH = 10

Shape = tuple[int, int]  # (fields, depth)


class ExpandedSizeRule(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        fields, depth = self._walk(node.selection_set, {}, set())
        if fields > MAX_FIELDS:
            message = f"the operation selects more than {MAX_FIELDS} fields"
            self.report_error(GraphQLError(message + " once its fragments are expanded", node))
        if depth > MAX_DEPTH:
            message = f"the operation is nested deeper than {MAX_DEPTH} levels"
            self.report_error(GraphQLError(message + " once its fragments are expanded", node))

    def _walk(
        self, selections: SelectionSetNode | None, memo: dict[str, Shape], open_: set[str]
    ) -> Shape:
        if selections is None:
            return 0, 0
        fields, depth = 0, 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                inner_fields, inner_depth = self._walk(selection.selection_set, memo, open_)
                fields, depth = fields + 1 + inner_fields, max(depth, 1 + inner_depth)
            elif isinstance(selection, InlineFragmentNode):
                inner_fields, inner_depth = self._walk(selection.selection_set, memo, open_)
                fields, depth = fields + inner_fields, max(depth, inner_depth)
            elif isinstance(selection, FragmentSpreadNode):
                inner_fields, inner_depth = self._spread(selection.name.value, memo, open_)
                fields, depth = fields + inner_fields, max(depth, inner_depth)
            if fields > MAX_FIELDS or depth > MAX_DEPTH:
                break  # enough to refuse; stop walking
        return fields, depth

    def _spread(self, name: str, memo: dict[str, Shape], open_: set[str]) -> Shape:
        if name in memo:
            return memo[name]
        fragment = self.context.get_fragment(name)
        if fragment is None or name in open_:  # unknown or cyclic: other rules report it
            return 0, 0
        open_.add(name)
        memo[name] = self._walk(fragment.selection_set, memo, open_)
        open_.discard(name)
        return memo[name]
