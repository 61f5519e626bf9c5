"""How big a query is, measured on its parsed document before anything runs.

Four figures: tokens (counted by the parser, which stops at the limit),
depth (nested selections), aliases, and an estimated cost: every field costs
1, and what is selected under a paged or list field costs as many times as
the page can hold (`first`, from the query, its variables or the argument's
default; 10 for a list with no `first`). Fragments are followed; a fragment
cycle stops the walk (validation then refuses the query).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_list_type,
    is_non_null_type,
    parse,
)

from service.config import Settings

UNPAGED_LIST = 10  # what a plain list field is assumed to hold


@dataclass(frozen=True)
class Limits:
    depth: int
    aliases: int
    tokens: int
    cost: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.max_depth, settings.max_aliases, settings.max_tokens, settings.max_cost)


@dataclass(frozen=True)
class Measures:
    depth: int
    aliases: int
    cost: int
    introspection: bool = False  # whether it asks for __schema or __type

    def exceeded(self, limits: Limits) -> tuple[str, int, int] | None:
        """(figure, measured, limit) of the first limit exceeded, if any."""
        for figure in ("depth", "aliases", "cost"):
            value, limit = getattr(self, figure), getattr(limits, figure)
            if value > limit:
                return figure, value, limit
        return None


@lru_cache(maxsize=512)
def parse_document(query: str, max_tokens: int) -> DocumentNode | GraphQLSyntaxError:
    """The document, or its syntax error; the parser stops at ``max_tokens``. Cached by text."""
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError as error:
        return error


def operation_of(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs: the named one, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def measure(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> Measures:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    walker = _Walker(fragments, variables)
    cost, depth = walker.selections(operation.selection_set, root, frozenset())
    return Measures(depth=depth, aliases=walker.aliases, cost=cost, introspection=walker.introspection)


class _Walker:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> None:
        self.fragments = fragments
        self.variables = variables
        self.aliases = 0
        self.introspection = False

    def selections(self, selection_set: SelectionSetNode | None, parent: Any, seen: frozenset[str]) -> tuple[int, int]:
        """(cost, depth) of a selection set under ``parent`` (a GraphQL type, or None when unknown)."""
        if selection_set is None:
            return 0, 0
        cost, depth = 0, 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field_cost, field_depth = self.field(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                field_cost, field_depth = self.selections(selection.selection_set, parent, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                field_cost, field_depth = self.selections(fragment.selection_set, parent, seen | {name})
            else:  # pragma: no cover - the three kinds above are all GraphQL has
                continue
            cost += field_cost
            depth = max(depth, field_depth)
        return cost, depth

    def field(self, node: FieldNode, parent: Any, seen: frozenset[str]) -> tuple[int, int]:
        if node.alias is not None:
            self.aliases += 1
        if node.name.value in ("__schema", "__type"):
            self.introspection = True
        if node.selection_set is None:
            return 1, 0
        definition = parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) else None
        times = self.multiplier(node, definition, parent)
        child_type = get_named_type(definition.type) if definition is not None else None
        below, depth = self.selections(node.selection_set, child_type, seen)
        return 1 + times * below, depth + 1

    def multiplier(self, node: FieldNode, definition: Any, parent: Any) -> int:
        for argument in node.arguments or ():
            if argument.name.value == "first":
                value = argument.value
                if isinstance(value, IntValueNode):
                    return max(1, int(value.value))
                if isinstance(value, VariableNode) and isinstance(self.variables.get(value.name.value), int):
                    return max(1, int(self.variables[value.name.value]))
        if definition is None:
            return 1
        if node.name.value == "edges" and getattr(parent, "name", "").endswith("Connection"):
            return 1  # the connection's `first` already counted its page
        first = definition.args.get("first")
        if first is not None and isinstance(first.default_value, int):
            return max(1, first.default_value)
        field_type = definition.type.of_type if is_non_null_type(definition.type) else definition.type
        return UNPAGED_LIST if is_list_type(field_type) else 1
