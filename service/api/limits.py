"""How big an operation is, measured on its parsed document before it is validated or run.

Four figures: tokens (counted by the parser, which stops at the limit),
depth (nested selections), aliases, and an estimated cost: every field costs
1, and what is selected under a paged or list field costs as many times as
the page can hold (`first`, from the query, its variables or the argument's
default, at most the largest page the endpoint serves; 10 for a list with no
`first`).

Only the operation that will run is measured (``select_operation`` picks it
as the GraphQL spec's GetOperation does), after the fragments it spreads.
The walk is linear in the document's size: each fragment is measured once
(under its own type condition) and its figures added at every spread, and
the walk stops as soon as a figure passes its limit. A fragment that spreads
itself counts as empty here (validation then refuses the document).

Introspection (`__schema`, `__type`) is bounded by its own rule, graphql-core's
MaxIntrospectionDepthRule, run with validation: its fields count towards the
aliases but not towards depth or cost, so the standard introspection query of
GraphiQL and graphql-codegen is answered under the default limits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
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
from service.errors import quoted

UNPAGED_LIST = 10  # what a plain list field is assumed to hold
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


@dataclass(frozen=True)
class Limits:
    depth: int
    aliases: int
    tokens: int
    cost: int
    repeats: int  # fields merged under one response name in one selection set
    page: int  # the largest `first` the endpoint serves (a larger one is refused as BAD_USER_INPUT)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return _limits(settings.max_depth, settings.max_aliases, settings.max_tokens, settings.max_cost,
                       settings.max_repeats, settings.max_page_size)  # fmt: skip


@lru_cache(maxsize=8)
def _limits(depth: int, aliases: int, tokens: int, cost: int, repeats: int, page: int) -> Limits:
    return Limits(depth, aliases, tokens, cost, repeats, page)


@dataclass(frozen=True)
class Measures:
    depth: int
    aliases: int
    cost: int
    introspection: bool = False  # whether it asks for __schema or __type
    exceeded: tuple[str, int, int] | None = None  # (figure, measured so far, limit) where the walk stopped
    steps: int = 0  # selections the walk visited: at most about twice the document's


def too_complex(figure: str, measured: int | None, maximum: int, detail: str | None = None) -> GraphQLError:
    """The request error for a limit passed: code QUERY_TOO_COMPLEX, which limit, its maximum, and what was
    measured (a walk that stops at the limit gives what it had counted then: at least that much)."""
    message = detail or f"{figure} {measured} is over this endpoint's limit of {maximum}"
    extensions: dict[str, Any] = {"code": "QUERY_TOO_COMPLEX", "limit": figure, "maximum": maximum}
    if measured is not None:
        extensions["measured"] = measured
    return GraphQLError(f"query too complex: {message}", extensions=extensions)


@lru_cache(maxsize=512)
def parse_document(query: str, max_tokens: int) -> DocumentNode | GraphQLSyntaxError:
    """The document, or its syntax error; the parser stops at ``max_tokens``. Cached by text."""
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError as error:
        return error


class NoOperation(Exception):
    """The request names no operation the document has, or several could run and none is named."""


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """The operation a request runs, as the GraphQL spec's GetOperation(document, operationName) has it."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) == 1:
            return operations[0]
        if not operations:
            raise NoOperation("the document has no operation to run (only fragments)")
        raise NoOperation(f"the document has {len(operations)} operations: name the one to run in operationName")
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    raise NoOperation(f"the document has no operation named {quoted(name)}")


class _Exceeded(Exception):
    def __init__(self, figure: str, value: int) -> None:
        self.figure, self.value = figure, value


@dataclass
class _Figures:
    cost: int = 0
    depth: int = 0  # levels of selection sets below (a leaf field: 0)
    aliases: int = 0
    # Of a selection set: how many fields it merges under each response name (inline fragments and the
    # fragments it spreads included). graphql-core's OverlappingFieldsCanBeMerged compares them in pairs.
    names: Counter[str] = field(default_factory=Counter)


_EMPTY = _Figures()


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    limits: Limits,
) -> Measures:
    """The operation's figures; ``exceeded`` names the first limit passed (the walk stopped there, so the
    figure it gives is what had been counted by then: at least that much)."""
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    walker = _Walker(schema, document, variables or {}, limits)
    try:
        figures = walker.selections(operation.selection_set, root, introspective=False, base=0)
    except _Exceeded as stop:
        exceeded = (stop.figure, stop.value, getattr(limits, stop.figure))
        return Measures(0, 0, 0, walker.introspection, exceeded, walker.steps)
    return Measures(figures.depth, figures.aliases, figures.cost, walker.introspection, steps=walker.steps)


# A fragment is measured once per kind of place it is spread in: inside introspection or not.
_Key = tuple[str, bool]


class _Walker:
    """One walk of an operation. Each fragment is measured once, before the first selection set that spreads
    it is added up, in an explicit depth-first order (a long chain of fragments cannot exhaust the stack)."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any], limits: Limits):
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.limits = limits
        self.introspection = False
        self.measured: dict[_Key, _Figures] = {}
        self.pending: set[_Key] = set()  # being measured: spread again inside itself, it counts as empty
        self.steps = 0

    def selections(
        self, selection_set: SelectionSetNode, parent: Any, introspective: bool, base: int, into: _Figures | None = None
    ) -> _Figures:
        """Figures of a selection set under ``parent`` (a GraphQL type, or None when unknown), ``base`` levels
        down. An inline fragment adds to its enclosing set's figures (``into``): their fields merge."""
        total = _Figures() if into is None else into
        spread: set[str] = set()  # a fragment spread twice in one selection set merges with itself
        for selection in selection_set.selections:
            self.steps += 1
            if isinstance(selection, FieldNode):
                part = self.field(selection, parent, introspective, base)
                name = (selection.alias or selection.name).value
                total.names[name] += 1
                self.check_repeats(total.names, name)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition is not None else parent
                self.selections(selection.selection_set, inner, introspective, base, into=total)
                continue
            elif isinstance(selection, FragmentSpreadNode):
                if selection.name.value in spread:
                    continue
                spread.add(selection.name.value)
                part = self.fragment((selection.name.value, introspective))
                for name, times in part.names.items():
                    total.names[name] += times
                    self.check_repeats(total.names, name)
            else:  # pragma: no cover - the three kinds above are all GraphQL has
                continue
            total.cost += part.cost
            total.aliases += part.aliases
            total.depth = max(total.depth, part.depth)
            self.check(total, base)
        return total

    def field(self, node: FieldNode, parent: Any, introspective: bool, base: int) -> _Figures:
        aliases = 1 if node.alias is not None else 0
        if node.name.value in INTROSPECTION_ROOTS:
            self.introspection = introspective = True
        if node.selection_set is None:
            return _Figures(cost=0 if introspective else 1, aliases=aliases)
        if not introspective and base + 1 > self.limits.depth:
            raise _Exceeded("depth", base + 1)
        definition = parent.fields.get(node.name.value) if isinstance(parent, _WITH_FIELDS) else None
        child: GraphQLNamedType | None = get_named_type(definition.type) if definition is not None else None
        below = self.selections(node.selection_set, child, introspective, base + 1)
        if introspective:
            return _Figures(aliases=aliases + below.aliases)
        times = self.multiplier(node, definition, parent)
        return _Figures(cost=1 + times * below.cost, depth=below.depth + 1, aliases=aliases + below.aliases)

    def fragment(self, key: _Key) -> _Figures:
        known = self.measured.get(key)
        if known is None and key not in self.pending:
            self.measure_fragments(key)
            known = self.measured.get(key)
        return known or _EMPTY

    def measure_fragments(self, start: _Key) -> None:
        """Measure ``start`` and every fragment it spreads, each after those it spreads (post-order)."""
        stack: list[tuple[_Key, bool]] = [(start, False)]
        while stack:
            key, ready = stack.pop()
            definition = self.fragments.get(key[0])
            if key in self.measured or definition is None:
                continue
            parent = self.schema.get_type(definition.type_condition.name.value)
            if ready:
                self.measured[key] = self.selections(definition.selection_set, parent, key[1], base=0)
                self.pending.discard(key)
            elif key not in self.pending:
                self.pending.add(key)
                stack.append((key, True))
                stack.extend((spread, False) for spread in _spreads(definition.selection_set, key[1])
                             if spread not in self.measured and spread not in self.pending)  # fmt: skip

    def multiplier(self, node: FieldNode, definition: GraphQLField | None, parent: Any) -> int:
        for argument in node.arguments or ():
            if argument.name.value == "first":
                value = argument.value
                if isinstance(value, IntValueNode):
                    return self.page(int(value.value))
                if isinstance(value, VariableNode) and isinstance(self.variables.get(value.name.value), int):
                    return self.page(int(self.variables[value.name.value]))
        if definition is None:
            return 1
        if node.name.value == "edges" and getattr(parent, "name", "").endswith("Connection"):
            return 1  # the connection's `first` already counted its page
        first = _default(definition.args.get("first"))
        if first is not None:
            return self.page(first)
        field_type = definition.type.of_type if is_non_null_type(definition.type) else definition.type
        return UNPAGED_LIST if is_list_type(field_type) else 1

    def page(self, first: int) -> int:
        # A `first` past the largest page is refused before it runs (BAD_USER_INPUT): it costs at most that.
        return max(1, min(first, self.limits.page))

    def check_repeats(self, names: Counter[str], name: str) -> None:
        if names[name] > self.limits.repeats:
            raise _Exceeded("repeats", names[name])

    def check(self, figures: _Figures, base: int) -> None:
        if base + figures.depth > self.limits.depth:
            raise _Exceeded("depth", base + figures.depth)
        if figures.aliases > self.limits.aliases:
            raise _Exceeded("aliases", figures.aliases)
        if figures.cost > self.limits.cost:
            raise _Exceeded("cost", figures.cost)


_WITH_FIELDS = (GraphQLObjectType, GraphQLInterfaceType)


def _default(argument: GraphQLArgument | None) -> int | None:
    """An Int argument's default, as the schema's SDL gives it."""
    if argument is None:
        return None
    if isinstance(argument.default_value, int):
        return argument.default_value
    node = argument.ast_node
    return int(node.default_value.value) if node and isinstance(node.default_value, IntValueNode) else None


def _spreads(selection_set: SelectionSetNode, introspective: bool) -> list[_Key]:
    """The fragments a selection set spreads, at any depth, each with whether it is inside introspection."""
    found: list[_Key] = []
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            found.append((selection.name.value, introspective))
        elif isinstance(selection, FieldNode) and selection.selection_set is not None:
            inside = introspective or selection.name.value in INTROSPECTION_ROOTS
            found.extend(_spreads(selection.selection_set, inside))
        elif isinstance(selection, InlineFragmentNode):
            found.extend(_spreads(selection.selection_set, introspective))
    return found
