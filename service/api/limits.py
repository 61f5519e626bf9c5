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

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
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
    overlap: int  # the work of validating fields merged under one response name (see _Walker.add_overlap)
    page: int  # the largest `first` the endpoint serves (a larger one is refused as BAD_USER_INPUT)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return _limits(settings.max_depth, settings.max_aliases, settings.max_tokens, settings.max_cost,
                       settings.max_overlap, settings.max_page_size)  # fmt: skip


@lru_cache(maxsize=8)
def _limits(depth: int, aliases: int, tokens: int, cost: int, overlap: int, page: int) -> Limits:
    return Limits(depth, aliases, tokens, cost, overlap, page)


@dataclass(frozen=True)
class Measures:
    depth: int
    aliases: int
    cost: int
    introspection: bool = False  # whether it asks for __schema or __type
    exceeded: tuple[str, int, int] | None = None  # (figure, measured so far, limit) where the walk stopped
    steps: int = 0  # selections the walk visited: at most about twice the document's
    overlap: int = 0


def too_complex(figure: str, measured: int | None, maximum: int, detail: str | None = None) -> GraphQLError:
    """The request error for a limit passed: code QUERY_TOO_COMPLEX, which limit, its maximum, and what was
    measured (a walk that stops at the limit gives what it had counted then: at least that much)."""
    message = detail or f"{figure} {measured} is over this endpoint's limit of {maximum}"
    extensions: dict[str, Any] = {"code": "QUERY_TOO_COMPLEX", "limit": figure, "maximum": maximum}
    if measured is not None:
        extensions["measured"] = measured
    return GraphQLError(f"query too complex: {message}", extensions=extensions)


MEASURED_KEPT = 16  # measures kept per document: one per operation and set of whole-number variables


@dataclass
class Parsed:
    """A document, what validation said of it once it has run (None until then), and its operations' measures.

    A measure depends on the schema, the operation, the limits and the whole-number variables (page sizes);
    at most MEASURED_KEPT are kept per document (a client cycling through page sizes starts them afresh)."""

    document: DocumentNode
    errors: list[GraphQLError] | None = None
    measured: dict[tuple[Any, ...], Measures] = field(default_factory=dict)

    def measure(
        self, schema: GraphQLSchema, operation: OperationDefinitionNode, variables: dict[str, Any] | None,
        limits: Limits,
    ) -> Measures:  # fmt: skip
        """``measure(schema, self.document, operation, variables, limits)``, once per distinct input."""
        known = _known_variables(operation, variables or {})
        key = (schema, id(operation), limits, tuple(known.items()))
        kept = self.measured.get(key)
        if kept is None:
            kept = _measure(schema, self.document, operation, known, limits)
            if len(self.measured) >= MEASURED_KEPT:
                self.measured.clear()
            self.measured[key] = kept
        return kept


class Documents:
    """Parsed documents by their text, and their validation, kept within a budget of text: a text longer than
    ``largest`` is parsed (and validated) each time and never kept, and the least recently used go first once
    the texts kept pass ``budget`` bytes. (A count of entries bounds nothing: comments and white space are not
    tokens, so each of 512 entries could hold a megabyte.)"""

    def __init__(self, budget: int = 8 * 1024 * 1024, largest: int = 64 * 1024) -> None:
        self.budget, self.largest = budget, largest
        self.kept: OrderedDict[tuple[str, int], Parsed] = OrderedDict()
        self.size = 0

    def parse(self, text: str, max_tokens: int) -> Parsed:
        """The parsed document; GraphQLSyntaxError when it does not parse (or has over ``max_tokens`` tokens)."""
        key = (text, max_tokens)
        known = self.kept.get(key)
        if known is not None:
            self.kept.move_to_end(key)
            return known
        parsed = Parsed(parse(text, max_tokens=max_tokens))
        if len(text) <= self.largest:
            self.kept[key] = parsed
            self.size += len(text)
            while self.size > self.budget:
                (old, _), _ = self.kept.popitem(last=False)
                self.size -= len(old)
        return parsed


DOCUMENTS = Documents()


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
    size: int = 0  # fields selected in it, each fragment's counted where it is spread
    # Of a selection set's top level (inline fragments and the fragments it spreads merged in): per response
    # name, how many fields and how large they are together. Validation compares such fields in pairs.
    names: dict[str, list[int]] = field(default_factory=dict)
    spread: set[str] = field(default_factory=set)  # fragments spread into it (a second spread merges)


_EMPTY = _Figures()


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    limits: Limits,
) -> Measures:
    """The operation's figures; ``exceeded`` names the first limit passed (the walk stopped there, so the
    figure it gives is what had been counted by then: at least that much).

    Depth, aliases and cost are the operation's. The overlap is the whole document's, every operation and
    fragment in it, since validation checks all of them whichever runs."""
    return _measure(schema, document, operation, _known_variables(operation, variables or {}), limits)


def _measure(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
    known: dict[str, int | None], limits: Limits,
) -> Measures:  # fmt: skip
    walker = _Walker(schema, document, known, limits)
    try:
        figures = walker.selections(operation.selection_set, _root(schema, operation), False, 0)
        walker.checking = False  # the rest is validated, not run: only the overlap counts
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and definition is not operation:
                walker.selections(definition.selection_set, _root(schema, definition), False, 0)
            elif isinstance(definition, FragmentDefinitionNode):
                walker.fragment((definition.name.value, False))
    except _Exceeded as stop:
        exceeded = (stop.figure, stop.value, getattr(limits, stop.figure))
        return Measures(0, 0, 0, walker.introspection, exceeded, walker.steps)
    return Measures(figures.depth, figures.aliases, figures.cost, walker.introspection, steps=walker.steps,
                    overlap=walker.overlap)  # fmt: skip


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    return {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]


def _known_variables(operation: OperationDefinitionNode, given: dict[str, Any]) -> dict[str, int | None]:
    """Each variable's value where it is a whole number (as sent, or the operation's default); None where it
    cannot be told here (then a page it sizes is taken to be the largest)."""
    known: dict[str, int | None] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        value = given.get(name, definition.default_value)
        if isinstance(value, IntValueNode):
            known[name] = _int(value.value)
        elif isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            known[name] = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            known[name] = value
        else:
            known[name] = None
    return known


def _int(text: str) -> int | None:
    """An Int literal's value; None for one too long to be an Int (validation refuses it)."""
    return int(text) if len(text) <= 12 else None


# A fragment is measured once per kind of place it is spread in: inside introspection or not.
_Key = tuple[str, bool]


class _Walker:
    """One walk of a document. Each fragment is measured once, before the first selection set that spreads
    it is added up, in an explicit depth-first order (a long chain of fragments cannot exhaust the stack)."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, int | None],
                 limits: Limits) -> None:  # fmt: skip
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables = variables
        self.limits = limits
        self.introspection = False
        self.checking = True  # the operation that runs: depth, aliases and cost are checked
        self.measured: dict[_Key, _Figures] = {}
        self.pending: set[_Key] = set()  # being measured: spread again inside itself, it counts as empty
        self.steps = 0
        self.overlap = 0

    def selections(
        self, selection_set: SelectionSetNode, parent: Any, introspective: bool, base: int, into: _Figures | None = None
    ) -> _Figures:
        """Figures of a selection set under ``parent`` (a GraphQL type, or None when unknown), ``base`` levels
        down. An inline fragment adds to its enclosing set's figures (``into``): their fields merge."""
        total = _Figures() if into is None else into
        for selection in selection_set.selections:
            self.steps += 1
            if isinstance(selection, FieldNode):
                part = self.field(selection, parent, introspective, base)
                group = total.names.setdefault((selection.alias or selection.name).value, [0, 0])
                group[0] += 1
                group[1] += part.size
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition is not None else parent
                self.selections(selection.selection_set, inner, introspective, base, into=total)
                continue
            elif isinstance(selection, FragmentSpreadNode):
                if selection.name.value in total.spread:
                    continue
                total.spread.add(selection.name.value)
                part = self.fragment((selection.name.value, introspective))
                for name, (fields, size) in part.names.items():
                    group = total.names.setdefault(name, [0, 0])
                    group[0] += fields
                    group[1] += size
            else:  # pragma: no cover - the three kinds above are all GraphQL has
                continue
            total.cost += part.cost
            total.aliases += part.aliases
            total.size += part.size
            total.depth = max(total.depth, part.depth)
            self.check(total, base)
        if into is None:
            self.add_overlap(total)
        return total

    def field(self, node: FieldNode, parent: Any, introspective: bool, base: int) -> _Figures:
        aliases = 1 if node.alias is not None else 0
        if node.name.value in INTROSPECTION_ROOTS:
            self.introspection = introspective = True
        if node.selection_set is None:
            return _Figures(cost=1, aliases=aliases, size=1)
        if not introspective and base + 1 > self.limits.depth and self.checking:
            raise _Exceeded("depth", base + 1)
        definition = parent.fields.get(node.name.value) if isinstance(parent, _WITH_FIELDS) else None
        child: GraphQLNamedType | None = get_named_type(definition.type) if definition is not None else None
        # Introspection's depth is its own rule's (MaxIntrospectionDepthRule): it adds no level here.
        below = self.selections(node.selection_set, child, introspective, base if introspective else base + 1)
        times = self.multiplier(node, definition, parent, introspective)
        return _Figures(cost=1 + times * below.cost, depth=0 if introspective else below.depth + 1,
                        aliases=aliases + below.aliases, size=1 + below.size)  # fmt: skip

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

    def multiplier(self, node: FieldNode, definition: GraphQLField | None, parent: Any, introspective: bool) -> int:
        if introspective:
            return _introspection_lists(self.schema).get(node.name.value, 1)
        for argument in node.arguments or ():
            if argument.name.value == "first":
                value = argument.value
                if isinstance(value, IntValueNode):
                    return self.page(_int(value.value))
                if isinstance(value, VariableNode):
                    return self.page(self.variables.get(value.name.value))
        if definition is None:
            return 1
        if node.name.value == "edges" and getattr(parent, "name", "").endswith("Connection"):
            return 1  # the connection's `first` already counted its page
        first = _default(definition.args.get("first"))
        if first is not None:
            return self.page(first)
        field_type = definition.type.of_type if is_non_null_type(definition.type) else definition.type
        return UNPAGED_LIST if is_list_type(field_type) else 1

    def page(self, first: int | None) -> int:
        # A `first` past the largest page is refused before it runs (BAD_USER_INPUT): it costs at most that.
        # One that cannot be told here (a variable of another type, left out) is taken to be the largest.
        return self.limits.page if first is None else max(1, min(first, self.limits.page))

    def add_overlap(self, figures: _Figures) -> None:
        """Validation compares the fields of a selection set that share a response name in pairs, through
        everything below them, and the fragments spread into it in pairs: (their size together) squared."""
        work = sum(size * size for fields, size in figures.names.values() if fields > 1)
        if len(figures.spread) > 1:
            work += 10 * len(figures.spread) ** 2  # each pair costs validation about ten fields' worth
        self.overlap += work
        if self.overlap > self.limits.overlap:
            raise _Exceeded("overlap", self.overlap)

    def check(self, figures: _Figures, base: int) -> None:
        if not self.checking:
            return
        if base + figures.depth > self.limits.depth:
            raise _Exceeded("depth", base + figures.depth)
        if figures.aliases > self.limits.aliases:
            raise _Exceeded("aliases", figures.aliases)
        if figures.cost > self.limits.cost:
            raise _Exceeded("cost", figures.cost)


_WITH_FIELDS = (GraphQLObjectType, GraphQLInterfaceType)


@lru_cache(maxsize=4)
def _introspection_lists(schema: GraphQLSchema) -> dict[str, int]:
    """What an introspection list holds, on average over this schema (the types: all of them)."""
    types = list(schema.type_map.values())
    fields = [f for t in types if isinstance(t, _WITH_FIELDS) for f in t.fields.values()]
    inputs = [f for t in types if isinstance(t, GraphQLInputObjectType) for f in t.fields.values()]
    values = [v for t in types if isinstance(t, GraphQLEnumType) for v in t.values.values()]
    interfaces = [i for t in types if isinstance(t, _WITH_FIELDS) for i in t.interfaces]

    def mean(total: int, over: int) -> int:
        return max(1, -(-total // max(over, 1)))

    return {
        "types": len(types),
        "directives": len(schema.directives),
        "fields": mean(len(fields), len(types)),
        "inputFields": mean(len(inputs), len(types)),
        "enumValues": mean(len(values), len(types)),
        "interfaces": mean(len(interfaces), len(types)),
        "possibleTypes": mean(len(types), len(types)),
        "args": mean(sum(len(f.args) for f in fields), len(fields)),
        "locations": max((len(d.locations) for d in schema.directives), default=1),
    }


def _default(argument: GraphQLArgument | None) -> int | None:
    """An Int argument's default, as the schema's SDL gives it."""
    if argument is None:
        return None
    if isinstance(argument.default_value, int):
        return argument.default_value
    node = argument.ast_node
    return _int(node.default_value.value) if node and isinstance(node.default_value, IntValueNode) else None


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
