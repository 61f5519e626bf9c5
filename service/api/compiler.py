"""Read operations compiled to one Cypher statement, the answer shaped by the database.

A query's selection becomes one Cypher statement: each object a map projection, each related node or list
a ``CALL {}`` subquery, each page one too, with the keyset paging and the indexes the repositories
of service.graph use, every value a parameter. Neo4j returns the whole answer as one map; a small
post-step puts it in the order of the selection and formats what the database cannot: global ids,
cursors, enums, dates (``Plan.answer``).

Plans are cached per document, operation and the few variable values that change a statement's shape
(an @include condition, a sort order, which filters are given, the type a node's id names): a request then
costs coercing its variables, its parameters, one round trip and the post-step.

Anything the compiler has no Cypher for (a field, introspection, a mutation) raises ``Unsupported``, and
Strawberry executes the request as it ships; so it does any request a resolver would refuse (the resolver
then says why) and any whose answer breaks a promise of the schema (a null where it forbids one):
``Declined``. Either way the answer is exactly Strawberry's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_named_type,
    get_variable_values,
)

from service.api.arguments import bounded, partial_date, required_key_of
from service.api.ids import from_cursor, from_global_id, to_cursor, to_global_id
from service.api.types import STORED_FIELDS
from service.graph.actors import MAX_NEIGHBOR_DEPTH
from service.graph.claims import standing_count
from service.graph.paging import NULL_KEY, Direction
from service.graph.search import lucene_terms, searchable


class Unsupported(Exception):
    """The operation asks for something the compiler has no Cypher for."""


class Declined(Exception):
    """The compiled answer cannot be vouched for: Strawberry answers instead."""


Record = dict[str, Any]
Variables = VariableValues  # a request's variables as graphql-core coerces them
Fields = dict[str, list[FieldNode]]

# The stored scalars of each node type, by GraphQL field (service.api.types' one mapping), serialized as
# Strawberry serializes them.
STORED = {type_name: {f.graphql: f for f in fields} for type_name, fields in STORED_FIELDS.items()}


def _global_id(type_name: str) -> Callable[[Record], str]:
    return lambda record: to_global_id(type_name, record["id"])


def _served(read: Callable[[Record], Any], kind: Any) -> Callable[[Record], Any]:
    """``read``, its value as Strawberry serializes a field of GraphQL type ``kind``: an enum by its name, a
    DateTime in ISO format, anything else as it is. Chosen once per field, not per value."""
    named = get_named_type(kind)
    if isinstance(named, GraphQLEnumType):
        return lambda record: _enum_name(read(record))
    if named is not None and named.name == "DateTime":
        return lambda record: _iso(read(record))
    return read


def _enum_name(value: Enum | None) -> str | None:
    return None if value is None else value.name


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# -- shapes: the post-step -----------------------------------------------------------------------------


class Shape:
    """How one response value is made from what the statement returned for it: null stays null (refused where
    the schema forbids it), anything else is ``made``."""

    non_null = False

    def make(self, value: Any, params: dict[str, Any]) -> Any:
        if value is None:
            self.absent()
            return None
        return self.made(value, params)

    def made(self, value: Any, params: dict[str, Any]) -> Any:  # pragma: no cover - each shape has its own
        raise NotImplementedError

    def absent(self) -> None:
        if self.non_null:
            raise Declined("a null where the schema forbids one")


@dataclass
class Constant(Shape):
    value: Any

    def make(self, value: Any, params: dict[str, Any]) -> Any:
        return self.value


@dataclass
class Stored(Shape):
    """A scalar of a node, as its type's from_record makes it, serialized (``read`` does both: see _served)."""

    read: Callable[[Record], Any]

    def make(self, value: Any, params: dict[str, Any]) -> Any:
        try:
            return self.read(value)
        except (ValueError, KeyError, TypeError) as error:  # a stored value the schema cannot carry
            raise Declined(str(error)) from None


@dataclass
class Entry(Shape):
    """A value the statement put in a map under the response key (a distance, a role, a score)."""

    key: str
    non_null: bool = False

    def make(self, value: Any, params: dict[str, Any]) -> Any:
        found = value.get(self.key)
        if found is None:
            self.absent()
        return found


@dataclass
class Object(Shape):
    """An object: each response key made, in selection order, from the map the statement returned."""

    fields: list[tuple[str, Shape, str | None]]  # (response key, shape, the map's key it reads; None: the map)
    non_null: bool = False
    # The fields again, a stored scalar's reader taken out of its shape: most of an answer is stored scalars,
    # read here with one call each.
    steps: list[tuple[str, Callable[[Record], Any] | None, Shape, str | None]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.steps = [(key, shape.read if isinstance(shape, Stored) else None, shape, reads)
                      for key, shape, reads in self.fields]  # fmt: skip

    def made(self, value: Any, params: dict[str, Any]) -> Any:
        made: dict[str, Any] = {}
        for key, read, shape, reads in self.steps:
            if read is None:
                made[key] = shape.make(value if reads is None else value.get(reads), params)
                continue
            try:
                made[key] = read(value)
            except (ValueError, KeyError, TypeError) as error:  # as Stored.make
                raise Declined(str(error)) from None
        return made


@dataclass
class Abstract(Shape):
    """A Node: the object shape of the node's own type (the statement says which as ``@type``)."""

    by_type: dict[str, Object]
    non_null: bool = False

    def made(self, value: Any, params: dict[str, Any]) -> Any:
        return self.by_type[value["@type"]].make(value, params)


@dataclass
class Many(Shape):
    item: Shape
    non_null: bool = True

    def made(self, value: Any, params: dict[str, Any]) -> Any:
        return [self.item.make(v, params) for v in value]


@dataclass
class Page(Shape):
    """A connection, from the statement's ``{total, rows}`` (``first + 1`` rows: one more tells a next page)."""

    node_type: str
    first: str  # the parameter holding first + 1
    after: str  # the parameter holding the decoded cursor
    fields: list[tuple[str, str, Any]]  # (response key, field, its sub-selection: see Compiler.connection)
    node: Shape
    non_null: bool = True

    def made(self, value: Any, params: dict[str, Any]) -> Any:
        rows = value["rows"]
        first = params[self.first] - 1
        page, has_next = rows[:first], len(rows) > first
        out: dict[str, Any] = {}
        for key, name, sub in self.fields:
            if name == "totalCount":
                out[key] = value["total"]
            elif name == "__typename":
                out[key] = f"{self.node_type}Connection"
            elif name == "pageInfo":
                info = {
                    "hasNextPage": has_next,
                    "hasPreviousPage": params[self.after] is not None,
                    "startCursor": to_cursor(page[0]["k"], page[0]["node"]["id"]) if page else None,
                    "endCursor": to_cursor(page[-1]["k"], page[-1]["node"]["id"]) if page else None,
                    "__typename": "PageInfo",
                }
                out[key] = {k: info[n] for k, n in sub}
            else:  # edges
                out[key] = [self.edge(row, sub, params) for row in page]
        return out

    def edge(self, row: Record, fields: list[tuple[str, str]], params: dict[str, Any]) -> dict[str, Any]:
        edge: dict[str, Any] = {}
        for key, name in fields:
            if name == "cursor":
                edge[key] = to_cursor(row["k"], row["node"]["id"])
            elif name == "node":
                edge[key] = self.node.make(row["node"], params)
            else:
                edge[key] = f"{self.node_type}Edge"
        return edge


# -- plans and their cache -----------------------------------------------------------------------------

Binding = Callable[[Variables], Any]
ShapeKey = Callable[[Variables], Hashable]


@dataclass
class Plan:
    """One compiled operation: its statement, how each request's parameters are bound, how the answer is
    shaped."""

    cypher: str
    bindings: list[tuple[str, Binding]]
    shape: Object
    roots: list[tuple[str, FieldNode | None, bool]] = field(default_factory=list)  # (key, field, non-null)

    def bind(self, variables: Variables) -> dict[str, Any]:
        try:
            return {name: binding(variables) for name, binding in self.bindings}
        except Declined:
            raise
        except Exception as error:  # noqa: BLE001 - a value a resolver refuses: it says why
            raise Declined(str(error)) from None

    def answer(self, data: Any, params: dict[str, Any]) -> dict[str, Any]:
        answered: dict[str, Any] = self.shape.make(data, params)
        return answered

    def failed(self, error: Exception) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
        """The answer when the statement failed as a resolver's query would have (the database unavailable, a
        timeout): each root field null with the error at its path, as Strawberry answers it (without asking
        the database again: NEO4J_RETRY_TIME is spent)."""
        data: dict[str, Any] | None = {}
        errors: list[GraphQLError] = []
        for key, node, non_null in self.roots:
            if node is None:
                if data is not None:
                    data[key] = "Query"
                continue
            errors.append(GraphQLError(str(error), nodes=[node], path=[key], original_error=error))
            if non_null:
                data = None
            elif data is not None:
                data[key] = None
        return data, errors


@dataclass
class Compiled:
    """The plans of one operation of one document, by the values of what shapes them."""

    keys: dict[str, ShapeKey] = field(default_factory=dict)
    plans: dict[tuple[Hashable, ...], Plan | None] = field(default_factory=dict)  # None: Unsupported


class Plans:
    """Compiled plans per document (the parsed document object, which the gate keeps per text), operation and
    shaping values; a bounded number of each."""

    def __init__(self, schema: GraphQLSchema, max_page: int, capacity: int = 512) -> None:
        self.schema, self.max_page, self.capacity = schema, max_page, capacity
        self.compiled: dict[tuple[int, str | None], tuple[DocumentNode, Compiled]] = {}

    def plan(
        self, document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any]
    ) -> tuple[Plan, dict[str, Any]]:
        """The plan for this request and its parameters; Unsupported or Declined when Strawberry answers."""
        if operation.operation is not OperationType.QUERY:
            # Before the variables are coerced: Strawberry coerces them again to run a mutation, and an
            # ingestReport's input is a whole document (0.15 ms of its 6 ms of CPU).
            raise Unsupported("only queries are compiled")
        coerced = coerce(self.schema, operation, variables)
        name = operation.name.value if operation.name else None
        held = self.compiled.get((id(document), name))
        if held is None or held[0] is not document:
            if len(self.compiled) >= self.capacity:
                self.compiled.clear()
            held = (document, Compiled())
            self.compiled[(id(document), name)] = held
        compiled = held[1]
        key = _key(compiled.keys, coerced)
        plan = compiled.plans.get(key, MISSING)
        if plan is MISSING:
            compiler = Compiler(self.schema, document, operation, coerced, self.max_page)
            try:
                plan = compiler.compile()
            except Unsupported:
                plan = None
            if compiler.keys.keys() - compiled.keys.keys():
                compiled.keys.update(compiler.keys)
                compiled.plans.clear()
                key = _key(compiled.keys, coerced)
            if len(compiled.plans) >= 64:
                compiled.plans.clear()
            compiled.plans[key] = plan
        if plan is None:
            raise Unsupported("the operation")
        assert isinstance(plan, Plan)
        return plan, plan.bind(coerced)


MISSING: Any = object()


def _key(keys: dict[str, ShapeKey], variables: Variables) -> tuple[Hashable, ...]:
    try:
        return tuple(keys[name](variables) for name in sorted(keys))
    except Declined:
        raise
    except Exception as error:  # noqa: BLE001 - a value a resolver refuses: it says why
        raise Declined(str(error)) from None


def coerce(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: dict[str, Any]) -> Variables:
    """The request's variables as graphql-core coerces them; Declined where it refuses them (Strawberry
    then reports it)."""
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        raise Declined("variables")
    return coerced


def argument_values(definition: GraphQLField, node: FieldNode) -> Callable[[Variables], dict[str, Any]]:
    """The field's arguments as graphql-core coerces them, for a request's variables. Where no argument holds
    a variable they are the same for every request: coerced once, when the plan is made (a value refused is
    refused at each request, as before). The headline query spent an eighth of its CPU coercing literals."""
    if any(_holds_variable(argument.value) for argument in node.arguments or ()):
        return lambda variables: get_argument_values(definition, node, variables)
    try:
        values = get_argument_values(definition, node)
    except Exception:  # noqa: BLE001 - refused: each request's binding raises it again
        return lambda variables: get_argument_values(definition, node, variables)
    return lambda _: values


def _holds_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_holds_variable(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_holds_variable(item.value) for item in value.fields)
    return False


def _directive_key(directive: Any, node: Any) -> ShapeKey:
    return lambda variables: _frozen(get_directive_values(directive, node, variables))


def _frozen(value: Any) -> Hashable:
    return json.dumps(value, sort_keys=True, default=str)


# -- the compiler --------------------------------------------------------------------------------------


class Compiler:
    """Compiles one operation as shaped by the given (coerced) variables; notes what shaped it (``keys``)."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
                 variables: Variables, max_page: int) -> None:  # fmt: skip
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.operation = operation
        self.variables = variables
        self.max_page = max_page
        self.keys: dict[str, ShapeKey] = {}
        self.bindings: list[tuple[str, Binding]] = []
        self.counter = 0

    def compile(self) -> Plan:
        if self.operation.operation is not OperationType.QUERY:
            raise Unsupported("only queries are compiled")
        calls: list[str] = []
        roots: list[tuple[str, FieldNode | None, bool]] = []
        items: list[str] = []
        fields: list[tuple[str, Shape, str | None]] = []
        for key, nodes in self.collect(self.operation.selection_set, "Query").items():
            name = nodes[0].name.value
            if name == "__typename":
                fields.append((key, Constant("Query"), None))
                roots.append((key, None, False))
                continue
            computed, shape = self.root_field(name, nodes)
            roots.append((key, nodes[0], isinstance(self.definition("Query", name).type, GraphQLNonNull)))
            value = self.name("r")
            calls.append(f"CALL () {{ {computed.body}RETURN {computed.value} AS {value} }} ")
            items.append(f"`{key}`: {value}")
            fields.append((key, shape, key))
        cypher = "".join(calls) + "RETURN {" + ", ".join(items) + "} AS data"
        return Plan(cypher, self.bindings, Object(fields, non_null=True), roots)

    # names, parameters and what shapes the statement

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def constant(self, value: Any) -> str:
        name = self.name("p")
        self.bindings.append((name, lambda _: value))
        return "$" + name

    def argument(self, parent: str, nodes: list[FieldNode], argument: str, convert: Callable[[Any], Any] = lambda v: v,
                 shapes: bool = False) -> str:  # fmt: skip
        """A parameter holding an argument's value for each request, converted (a conversion that raises: the
        resolver refuses it, and Strawberry answers). ``shapes``: its value changes the statement."""
        definition, node = self.definition(parent, nodes[0].name.value), nodes[0]
        if shapes:
            self.shaped_by(parent, nodes, argument)
        name = self.name("p")
        values = argument_values(definition, node)
        self.bindings.append((name, lambda variables: convert(values(variables)[argument])))
        return "$" + name

    def arguments(self, parent: str, nodes: list[FieldNode], *shaping: str) -> dict[str, Any]:
        """The field's arguments under this compile's variables; those named in ``shaping`` shape the plan."""
        for argument in shaping:
            self.shaped_by(parent, nodes, argument)
        return get_argument_values(self.definition(parent, nodes[0].name.value), nodes[0], self.variables)

    def shaped_by(self, parent: str, nodes: list[FieldNode], argument: str,
                  key: Callable[[Any], Hashable] = _frozen) -> None:  # fmt: skip
        definition, node = self.definition(parent, nodes[0].name.value), nodes[0]
        name = f"{parent}.{node.name.value}.{argument}@{node.loc.start if node.loc else id(node)}"
        values = argument_values(definition, node)
        self.keys[name] = lambda variables: key(values(variables).get(argument))

    def definition(self, parent: str, name: str) -> GraphQLField:
        kind = self.schema.get_type(parent)
        if not isinstance(kind, GraphQLObjectType) or name not in kind.fields:
            raise Unsupported(f"{parent}.{name}")
        found: GraphQLField = kind.fields[name]
        return found

    # selections

    def collect(self, selection_set: SelectionSetNode, type_name: str) -> Fields:
        """The fields a selection set selects on an object of ``type_name``, by response key, in order
        (fragments whose type condition applies followed, @skip and @include obeyed)."""
        fields: Fields = {}
        self._collect(selection_set, type_name, fields, set())
        return fields

    def _collect(self, selection_set: SelectionSetNode, type_name: str, fields: Fields, visited: set[str]) -> None:
        for selection in selection_set.selections:
            if not self.included(selection):
                continue
            if isinstance(selection, FieldNode):
                fields.setdefault((selection.alias or selection.name).value, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self.applies(condition.name.value, type_name):
                    self._collect(selection.selection_set, type_name, fields, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self.applies(fragment.type_condition.name.value, type_name):
                    self._collect(fragment.selection_set, type_name, fields, visited)

    def applies(self, condition: str, type_name: str) -> bool:
        if condition == type_name:
            return True
        kind = self.schema.get_type(type_name)
        return isinstance(kind, GraphQLObjectType) and any(i.name == condition for i in kind.interfaces)

    def included(self, node: Any) -> bool:
        if not node.directives:
            return True
        for directive, keep in ((GraphQLSkipDirective, False), (GraphQLIncludeDirective, True)):
            values = get_directive_values(directive, node, self.variables)
            if values is not None:
                where = node.loc.start if node.loc else id(node)
                self.keys[f"@{directive.name}@{where}"] = _directive_key(directive, node)
                if bool(values["if"]) != keep:
                    return False
        return True

    @staticmethod
    def merged(nodes: list[FieldNode]) -> SelectionSetNode:
        return SelectionSetNode(
            selections=tuple(s for n in nodes if n.selection_set for s in n.selection_set.selections)
        )

    # objects

    def project(self, variable: str, type_name: str, nodes: list[FieldNode], non_null: bool) -> Projection:
        """What ``nodes`` select of node ``variable`` (a ``type_name``), as a map projection."""
        returns, items, shape = self.project_items(variable, type_name, self.merged(nodes), non_null)
        return Projection("".join(returns), f"{variable} {{{', '.join(items)}}}", shape)

    def project_items(self, variable: str, type_name: str, selection_set: SelectionSetNode,
                      non_null: bool) -> tuple[list[str], list[str], Object]:  # fmt: skip
        """The related values to compute first (``expression AS name``), the projection's items, the shape.

        A related value is computed in a ``CALL`` before the projection reads it: a subquery that aggregates
        (a page, a count) may not stand inside a map projection (Neo4j 5.26 refuses it as an implicit
        grouping)."""
        stored = STORED[type_name]
        properties: set[str] = set()
        returns: list[str] = []  # the CALL clauses computing its related values
        related: list[str] = []
        fields: list[tuple[str, Shape, str | None]] = []
        for key, nodes in self.collect(selection_set, type_name).items():
            name = nodes[0].name.value
            if name == "__typename":
                fields.append((key, Constant(type_name), None))
            elif name == "id":
                fields.append((key, Stored(_global_id(type_name)), None))
            elif name == "slug":
                fields.append((key, Stored(lambda r: r["id"]), None))
            elif name in stored:
                properties.add(stored[name].property)
                served = _served(stored[name].read, self.definition(type_name, name).type)
                fields.append((key, Stored(served), None))
            else:
                computed, shape = self.related(variable, type_name, name, nodes)
                value = self.name("t")
                returns.append(f"CALL ({variable}) {{ {computed.body}RETURN {computed.value} AS {value} }} ")
                related.append(f"`{type_name}@{key}`: {value}")
                fields.append((key, shape, f"{type_name}@{key}"))
        items = [".id", *(f".{p}" for p in sorted(properties)), *related]
        return returns, items, Object(fields, non_null=non_null)

    def abstract(self, variable: str, nodes: list[FieldNode], types: Iterable[str], non_null: bool) -> Projection:
        """A Node's projection: what each possible type selects (keys prefixed by the type), and ``@type``."""
        selection_set = self.merged(nodes)
        by_type: dict[str, Object] = {}
        returns: list[str] = []
        items: list[str] = []
        for type_name in types:
            type_returns, type_items, shape = self.project_items(variable, type_name, selection_set, True)
            by_type[type_name] = shape
            returns += type_returns
            items += type_items
        labels = ", ".join(f"'{t}'" for t in types)
        items.append(f"`@type`: [l IN labels({variable}) WHERE l IN [{labels}]][0]")
        expression = f"{variable} {{{', '.join(dict.fromkeys(items))}}}"
        return Projection("".join(returns), expression, Abstract(by_type, non_null=non_null))

    # root fields

    def root_field(self, name: str, nodes: list[FieldNode]) -> tuple[Computed, Shape]:
        if name == "node":
            return self.node_by_id(nodes)
        if name == "actor":
            return self.actor(nodes)
        if name == "search":
            return self.search(nodes)
        if ("Query", name) in CONNECTIONS:
            return self.connection("Query", name, None, nodes)
        raise Unsupported(f"Query.{name}")

    def node_by_id(self, nodes: list[FieldNode]) -> tuple[Computed, Shape]:
        self.shaped_by("Query", nodes, "id", key=lambda value: from_global_id(value)[0])
        type_name, _ = from_global_id(self.arguments("Query", nodes)["id"])
        key = self.argument("Query", nodes, "id", lambda value: from_global_id(value)[1])
        n = self.name("n")
        node = self.abstract(n, nodes, [type_name], non_null=False)
        found = Computed(f"MATCH ({n}:{type_name} {{id: {key}}}) {node.computed}", f"head(collect({node.expression}))")
        return found, Found(node.shape)  # no such node: NOT_FOUND from the resolver

    def actor(self, nodes: list[FieldNode]) -> tuple[Computed, Shape]:
        arguments = self.arguments("Query", nodes)
        self.shaped_by("Query", nodes, "id", key=lambda value: value is None)
        self.shaped_by("Query", nodes, "name", key=lambda value: value is None)
        if (arguments.get("id") is None) == (arguments.get("name") is None):
            raise Unsupported("actor needs exactly one of id and name")
        n = self.name("n")
        actor = self.project(n, "Actor", nodes, non_null=False)
        if arguments.get("id") is not None:
            key = self.argument("Query", nodes, "id", lambda value: required_key_of(value, "Actor", "id"))
            body = f"MATCH ({n}:Actor {{id: {key}}}) {actor.computed}"
            return Computed(body, f"head(collect({actor.expression}))"), Found(actor.shape)
        name = self.argument("Query", nodes, "name", lambda value: value.strip())
        body = (
            f"MATCH (:Name {{key: toLower({name})}})-[:NAMES]->({n}:Actor) "
            f"WITH {n} ORDER BY CASE WHEN toLower({n}.name) = toLower({name}) THEN 0 ELSE 1 END, {n}.id LIMIT 1 "
            f"{actor.computed}"
        )
        return Computed(body, f"head(collect({actor.expression}))"), Found(actor.shape)

    def search(self, nodes: list[FieldNode]) -> tuple[Computed, Shape]:
        def terms(value: str) -> str:
            if not value.strip() or len(value) > 500:
                raise Declined("search text")
            return lucene_terms(value)

        query = self.argument("Query", nodes, "text", terms)
        limit = self.argument("Query", nodes, "first", lambda value: bounded(value, "first", 0, self.max_page))
        n, score, item = self.name("n"), self.name("s"), self.name("item")
        items: list[str] = []
        computed = ""
        fields: list[tuple[str, Shape, str | None]] = []
        for key, hits in self.collect(self.merged(nodes), "SearchHit").items():
            name = hits[0].name.value
            if name == "__typename":
                fields.append((key, Constant("SearchHit"), None))
            elif name == "score":
                items.append(f"`{key}`: {score}")
                fields.append((key, Entry(key, non_null=True), None))
            elif name == "node":
                node = self.abstract(n, hits, ["Actor", "Claim", "Report"], non_null=True)
                computed += node.computed
                items.append(f"`{key}`: {node.expression}")
                fields.append((key, node.shape, key))
            else:
                raise Unsupported(f"SearchHit.{name}")
        body = (
            f"CALL db.index.fulltext.queryNodes('kb_search', {query}, {{limit: {limit} * 2}}) "
            f"YIELD node AS {n}, score AS {score} "
            f"WHERE {searchable(n)} "
            f"WITH {n}, {score} ORDER BY {score} DESC, {n}.id LIMIT {limit} {computed}"
            f"WITH {n}, {score}, {{{', '.join(items)}}} AS {item} ORDER BY {score} DESC, {n}.id "
        )
        return Computed(body, f"collect({item})"), Many(Object(fields, non_null=True))

    # related nodes

    def related(self, v: str, parent: str, name: str, nodes: list[FieldNode]) -> tuple[Computed, Shape]:
        if (parent, name) in RELATED_ONE:
            pattern, label = RELATED_ONE[(parent, name)]
            x = self.name("x")
            one = self.project(x, label, nodes, non_null=False)
            body = f"MATCH {pattern.format(v=v, x=x)} {one.computed}"
            return Computed(body, f"head(collect({one.expression}))"), one.shape
        if (parent, name) in RELATED_MANY:
            pattern, label, order = RELATED_MANY[(parent, name)]
            x, y, item = self.name("x"), self.name("y"), self.name("item")
            each = self.project(x, label, nodes, non_null=True)
            body = (
                f"MATCH {pattern.format(v=v, x=x, y=y)} {each.computed}"
                f"WITH {x}, {y}, {each.expression} AS {item} ORDER BY {order.format(x=x, y=y)} "
            )
            return Computed(body, f"collect({item})"), Many(each.shape)
        if (parent, name) in RELATED_PAIRS:
            return self.pairs(v, nodes, *RELATED_PAIRS[(parent, name)])
        if (parent, name) in CONNECTIONS:
            return self.connection(parent, name, v, nodes)
        if (parent, name) == ("Actor", "neighbors"):
            return self.neighbors(v, nodes)
        raise Unsupported(f"{parent}.{name}")

    def small_object(self, nodes: list[FieldNode], type_name: str, actor: str,
                     entries: dict[str, str]) -> tuple[str, list[str], Object]:  # fmt: skip
        """An object made of entries the statement computes and the actor bound to ``actor``: what to compute
        first, its map's items, its shape."""
        computed = ""
        items: list[str] = []
        fields: list[tuple[str, Shape, str | None]] = []
        for key, parts in self.collect(self.merged(nodes), type_name).items():
            part = parts[0].name.value
            if part == "__typename":
                fields.append((key, Constant(type_name), None))
            elif part == "actor":
                projected = self.project(actor, "Actor", parts, non_null=True)
                computed += projected.computed
                items.append(f"`{key}`: {projected.expression}")
                fields.append((key, projected.shape, key))
            elif part in entries:
                items.append(f"`{key}`: {entries[part]}")
                non_null = isinstance(self.definition(type_name, part).type, GraphQLNonNull)
                fields.append((key, Entry(key, non_null=non_null), None))
            else:
                raise Unsupported(f"{type_name}.{part}")
        return computed, items, Object(fields, non_null=True)

    def pairs(self, v: str, nodes: list[FieldNode], pattern: str, order: str, type_name: str,
              entries: dict[str, str]) -> tuple[Computed, Shape]:  # fmt: skip
        """A list of objects made of a relationship's properties and the actor at its other end."""
        x, y, item = self.name("x"), self.name("y"), self.name("item")
        computed, items, shape = self.small_object(nodes, type_name, x, {k: f"{y}.{p}" for k, p in entries.items()})
        body = (
            f"MATCH {pattern.format(v=v, x=x, y=y)} {computed}"
            f"WITH {x}, {y}, {{{', '.join(items)}}} AS {item} ORDER BY {order.format(x=x, y=y)} "
        )
        return Computed(body, f"collect({item})"), Many(shape)

    def neighbors(self, v: str, nodes: list[FieldNode]) -> tuple[Computed, Shape]:
        """Breadth first, level by level (as service.graph.actors walks them), each actor at its smallest
        distance."""
        depth = self.arguments("Actor", nodes, "depth")["depth"]
        if not 1 <= depth <= MAX_NEIGHBOR_DEPTH:
            raise Unsupported("depth out of range: the resolver refuses it")
        kinds = self.argument("Actor", nodes, "kinds")
        limit = self.argument("Actor", nodes, "first", lambda value: bounded(value, "first", 0, self.max_page))
        seen, frontier, found, nxt, f, r, b, z, hit, distance = (
            self.name(p) for p in ("seen", "fr", "fd", "nx", "f", "r", "b", "z", "h", "d")
        )
        levels = "".join(
            f"CALL ({seen}, {frontier}) {{ UNWIND {frontier} AS {f} MATCH ({f})-[{r}:RELATED_TO]-({b}:Actor) "
            f"WHERE ({kinds} IS NULL OR {r}.kind IN {kinds}) AND NOT {b} IN {seen} "
            f"RETURN collect(DISTINCT {b}) AS {nxt} }} "
            f"WITH {seen} + {nxt} AS {seen}, {nxt} AS {frontier}, "
            f"{found} + [{z} IN {nxt} | {{b: {z}, distance: {level}}}] AS {found} "
            for level in range(1, depth + 1)
        )
        computed, items, shape = self.small_object(nodes, "Neighbor", b, {"distance": distance})
        item = self.name("item")
        body = (
            f"CALL ({v}) {{ WITH [{v}] AS {seen}, [{v}] AS {frontier}, [] AS {found} {levels}"
            f"UNWIND {found} AS {hit} WITH {hit}.b AS {b}, {hit}.distance AS {distance} "
            f"RETURN {b}, {distance} ORDER BY {distance}, {b}.name, {b}.id LIMIT {limit} }} {computed}"
            f"WITH {b}, {distance}, {{{', '.join(items)}}} AS {item} ORDER BY {distance}, {b}.name, {b}.id "
        )
        return Computed(body, f"collect({item})"), Many(shape)

    # connections

    def connection(self, parent: str, name: str, v: str | None, nodes: list[FieldNode]) -> tuple[Computed, Shape]:
        spec = CONNECTIONS[(parent, name)]
        first = self.argument(parent, nodes, "first", lambda value: bounded(value, "first", 0, self.max_page) + 1)
        after = self.argument(parent, nodes, "after", from_cursor)
        fields: list[tuple[str, str, Any]] = []
        node_nodes: list[FieldNode] = []
        wants_total = False
        for key, parts in self.collect(self.merged(nodes), f"{spec.node_type}Connection").items():
            part = parts[0].name.value
            if part == "totalCount":
                wants_total = True
                fields.append((key, part, None))
            elif part == "__typename":
                fields.append((key, part, None))
            elif part == "pageInfo":
                info = self.collect(self.merged(parts), "PageInfo")
                fields.append((key, part, [(k, fs[0].name.value) for k, fs in info.items()]))
            elif part == "edges":
                edge_fields: list[tuple[str, str]] = []
                for edge_key, edge_parts in self.collect(self.merged(parts), f"{spec.node_type}Edge").items():
                    edge_fields.append((edge_key, edge_parts[0].name.value))
                    if edge_parts[0].name.value == "node":
                        node_nodes += edge_parts
                fields.append((key, part, edge_fields))
            else:
                raise Unsupported(f"{spec.node_type}Connection.{part}")
        n = self.name("n")
        node = self.project(n, spec.node_type, node_nodes, non_null=True)
        listed = spec.listed(self, parent, nodes)
        statement = spec.statement(self, v, n, listed, node, first, after, wants_total)
        return statement, Page(spec.node_type, first[1:], after[1:], fields, node.shape)


@dataclass
class Computed:
    """A value the statement computes for each row in scope: clauses, then the expression that aggregates
    their rows into one (``collect``, ``head(collect(..))``), run as ``CALL (...) { body RETURN value }``.
    Neo4j 5.26 refuses a subquery that aggregates inside an expression (a COLLECT subquery in a map
    projection); a CALL with clauses is always allowed, and its aggregation gives exactly one row."""

    body: str
    value: str


@dataclass
class Projection:
    """A node's map projection: the CALL that computes its related values first, then the expression."""

    computed: str
    expression: str
    shape: Object | Abstract


@dataclass
class Found(Shape):
    """A node asked for by id or name: none found is NOT_FOUND from the resolver, so Strawberry answers."""

    inner: Shape
    non_null: bool = False

    def make(self, value: Any, params: dict[str, Any]) -> Any:
        if value is None:
            raise Declined("not found")
        return self.inner.make(value, params)


# (parent type, field) -> (pattern from {v} to {x}, the type of {x})
RELATED_ONE: dict[tuple[str, str], tuple[str, str]] = {
    ("Claim", "source"): ("({v})-[:ATTRIBUTED_TO]->({x}:Actor)", "Actor"),
    ("Report", "publisher"): ("({v})-[:PUBLISHED_BY]->({x}:Actor)", "Actor"),
}
_BY_DATE = "{x}.publishedAt IS NULL, {x}.publishedAt, {x}.id"
# (parent type, field) -> (pattern from {v} to {x} through {y}, the type of {x}, order) (service.graph's loaders')
RELATED_MANY: dict[tuple[str, str], tuple[str, str, str]] = {
    ("Claim", "reports"): ("({v})-[{y}:REPORTED_IN]->({x}:Report)", "Report", _BY_DATE),
    ("Claim", "about"): ("({v})-[{y}:ABOUT]->({x}:Actor)", "Actor", "{x}.name, {x}.id"),
    ("Claim", "aboutEvents"): ("({v})-[{y}:ABOUT]->({x}:Event)", "Event", "{x}.name, {x}.id"),
    ("Report", "cites"): ("({v})-[{y}:CITES]->({x}:Report)", "Report", _BY_DATE),
    ("Report", "citedBy"): ("({v})<-[{y}:CITES]-({x}:Report)", "Report", _BY_DATE),
    ("Report", "authors"): ("({v})-[{y}:AUTHORED_BY]->({x}:Actor)", "Actor", "{y}.position"),
}
# (parent type, field) -> (pattern, order, the objects' type, their fields read from the relationship {y})
RELATED_PAIRS: dict[tuple[str, str], tuple[str, str, str, dict[str, str]]] = {
    ("Event", "participants"): ("({v})<-[{y}:PARTICIPATED_IN]-({x}:Actor)", "{x}.name, {y}.role", "Participant",
                                {"role": "role"}),
    ("Actor", "affiliations"): ("({v})-[{y}:AFFILIATED_WITH]->({x}:Actor)", "coalesce({y}.since, ''), {x}.name",
                                "Affiliation", {"role": "role", "since": "since", "until": "until"}),
}  # fmt: skip


# -- lists -------------------------------------------------------------------------------------------------


@dataclass
class Listed:
    """What a list holds and in what order: conditions on ``{n}`` (Cypher with parameters), the sort key and
    direction, and, for an actor's claims, the anonymities the index is sought for (None: not indexed)."""

    conditions: list[str]
    sort: tuple[str, Direction]
    anonymities: str | None = None


ListedBy = Callable[["Compiler", str, list[FieldNode]], Listed]

HIDE_RETRACTED = "({n}.retracted IS NULL OR {n}.retracted = false)"
CLAIM_SORTS = {"ID": ("''", Direction.ASC), "FIRST_REPORTED_ASC": ("{n}.firstReportedAt", Direction.ASC),
               "FIRST_REPORTED_DESC": ("{n}.firstReportedAt", Direction.DESC)}  # fmt: skip


def _claims_listed(filtered_by: str | None, indexed: bool = False) -> ListedBy:
    """A list of claims (service.graph.claims' conditions, only those given): from the arguments of the field,
    or of its ``filter`` input (``filtered_by``)."""

    def listed(c: Compiler, parent: str, nodes: list[FieldNode]) -> Listed:
        shaping = ("sort", filtered_by) if filtered_by else ("sort", "anonymous", "modality", "since", "until")
        arguments = c.arguments(parent, nodes, *shaping)
        given = dict(arguments.get(filtered_by) or {}) if filtered_by else arguments
        conditions = [HIDE_RETRACTED]
        anonymous = given.get("anonymous")
        if anonymous is not None:
            conditions.append("{n}.sourceAnonymous = " + c.constant(anonymous))
        only_anonymity = True
        if given.get("modality") is not None:
            conditions.append("{n}.modality IN " + c.constant([m.lower() for m in given["modality"]]))
            only_anonymity = False
        for bound, compare in (("since", ">="), ("until", "<=")):
            if given.get(bound) is not None:
                value = c.constant(partial_date(given[bound], bound))
                conditions.append("substring({n}.firstReportedAt, 0, size(" + value + ")) " + compare + " " + value)
                only_anonymity = False
        for argument, pattern, type_name in (
            ("about", "EXISTS { ({n})-[:ABOUT]->(:Actor {id: {p}}) }", "Actor"),
            ("attributedTo", "EXISTS { ({n})-[:ATTRIBUTED_TO]->(:Actor {id: {p}}) }", "Actor"),
            ("reportedIn", "EXISTS { ({n})-[:REPORTED_IN]->(:Report {id: {p}}) }", "Report"),
        ):
            if given.get(argument) is not None:
                key = c.constant(required_key_of(given[argument], type_name, argument))
                conditions.append(pattern.replace("{p}", key))
                only_anonymity = False
        sort = CLAIM_SORTS[arguments["sort"]]
        anonymities = None
        if indexed and only_anonymity and sort[0] == "''":
            anonymities = c.constant([anonymous] if anonymous is not None else [False, True])
        return Listed(conditions, sort, anonymities)

    return listed


def _fixed(conditions: list[tuple[str, str]], sorts: dict[str, tuple[str, Direction]], filtered_by: str | None,
           keys: dict[str, str] | None = None, enums: frozenset[str] = frozenset()) -> ListedBy:  # fmt: skip
    """A list whose conditions all stand in its statement, each on a parameter that may be null (as the
    repositories write them): only the sort order shapes it. ``keys``: arguments that are global ids of the
    type named; ``enums``: arguments stored in lower case."""

    def listed(c: Compiler, parent: str, nodes: list[FieldNode]) -> Listed:
        arguments = c.arguments(parent, nodes, "sort", *([filtered_by] if filtered_by else []))
        given = dict(arguments.get(filtered_by) or {}) if filtered_by else {}
        cypher: list[str] = []
        for argument, condition in conditions:
            value = given.get(argument)
            if value is not None and keys and argument in keys:
                value = required_key_of(value, keys[argument], argument)
            elif value is not None and argument in ("since", "until"):
                value = partial_date(value, argument)
            elif value is not None and argument in enums:
                value = value.lower()
            cypher.append(condition.replace("{p}", c.constant(value)))
        return Listed(cypher, sorts[arguments["sort"]])

    return listed


def _null_or(condition: str) -> str:
    return "({p} IS NULL OR " + condition + ")"


ACTOR_CONDITIONS = [
    ("kind", _null_or("{n}.kind = {p}")),
    ("anonymous", _null_or("coalesce({n}.anonymous, false) = {p}")),
    ("name", _null_or("EXISTS { (:Name {key: toLower({p})})-[:NAMES]->({n}) }")),
    (
        "nameContains",
        _null_or("any(x IN [{n}.name] + coalesce({n}.aliases, []) WHERE toLower(x) CONTAINS toLower({p}))"),
    ),
]
REPORT_CONDITIONS = [
    ("publisher", _null_or("EXISTS { ({n})-[:PUBLISHED_BY]->(:Actor {id: {p}}) }")),
    ("since", _null_or("substring({n}.publishedAt, 0, size({p})) >= {p}")),
    ("until", _null_or("substring({n}.publishedAt, 0, size({p})) <= {p}")),
]
EVENT_CONDITIONS = [
    ("kind", _null_or("{n}.kind = {p}")),
    ("status", _null_or("{n}.status = {p}")),
    ("participant", _null_or("EXISTS { ({n})<-[:PARTICIPATED_IN]-(:Actor {id: {p}}) }")),
    ("since", _null_or("substring(coalesce({n}.endDate, {n}.startDate), 0, size({p})) >= {p}")),
    ("until", _null_or("substring(coalesce({n}.startDate, {n}.endDate), 0, size({p})) <= {p}")),
]
ACTOR_SORTS = {"NAME_ASC": ("toLower({n}.name)", Direction.ASC), "NAME_DESC": ("toLower({n}.name)", Direction.DESC)}
REPORT_SORTS = {"PUBLISHED_DESC": ("{n}.publishedAt", Direction.DESC),
                "PUBLISHED_ASC": ("{n}.publishedAt", Direction.ASC)}  # fmt: skip
EVENT_SORTS = {"DATE_ASC": ("coalesce({n}.startDate, {n}.endDate)", Direction.ASC),
               "DATE_DESC": ("coalesce({n}.startDate, {n}.endDate)", Direction.DESC)}  # fmt: skip


@dataclass(frozen=True)
class ConnectionSpec:
    """A paged list: its nodes' type and label, the pattern from the parent ``{v}`` to ``{n}`` (None: a
    root list), and what it holds in what order."""

    node_type: str
    pattern: str | None
    listed: ListedBy

    def statement(self, c: Compiler, v: str | None, n: str, listed: Listed, node: Projection, first: str,
                  after: str, wants_total: bool) -> Computed:  # fmt: skip
        """The page (``first`` + 1 rows from the cursor ``after``) and, if asked for, the count: keyset paging
        as service.graph.paging does it."""
        key, direction = listed.sort[0].replace("{n}", n), listed.sort[1]
        where = " AND ".join(x.replace("{n}", n) for x in listed.conditions)
        k, i, total, rows, row, candidates, made = (c.name(p) for p in ("k", "i", "t", "rows", "row", "cand", "nd"))
        projected = f"{node.computed}WITH {k}, {n}.id AS {i}, {node.expression} AS {made} "
        order, compare = direction.value, (">" if direction is Direction.ASC else "<")
        null_key = c.constant(NULL_KEY[direction])
        after_holds = (
            f"({after} IS NULL OR {k} {compare} {after}[0] OR ({k} = {after}[0] AND {i} {compare} {after}[1]))"
        )
        if self.pattern is None:
            label = self.node_type
            count = (f"CALL () {{ MATCH ({n}:{label}) WHERE {where} RETURN count(DISTINCT {n}) AS {total} }} "
                     if wants_total else f"WITH 0 AS {total} ")  # fmt: skip
            if key == "''" and direction is Direction.ASC:  # id order: the id index walked from the cursor
                page = (f"CALL () {{ MATCH ({n}:{label}) WHERE {n}.id > coalesce({after}[1], '') AND {where} "
                        f"WITH DISTINCT {n} WITH {n}, '' AS {k} ORDER BY {n}.id LIMIT {first} {projected}"
                        f"ORDER BY {i} RETURN collect({{k: {k}, node: {made}}}) AS {rows} }} ")  # fmt: skip
            else:
                page = (f"CALL () {{ MATCH ({n}:{label}) WHERE {where} WITH DISTINCT {n} "
                        f"WITH {n}, coalesce({key}, {null_key}) AS {k}, {n}.id AS {i} WHERE {after_holds} "
                        f"WITH {n}, {k} ORDER BY {k} {order}, {n}.id {order} LIMIT {first} {projected}"
                        f"ORDER BY {k} {order}, {i} {order} "
                        f"RETURN collect({{k: {k}, node: {made}}}) AS {rows} }} ")  # fmt: skip
            return Computed(f"{count}{page}", f"{{total: {total}, rows: {rows}}}")
        assert v is not None
        if listed.anonymities is not None:
            return self.indexed(c, v, n, listed.anonymities, node, first, after, wants_total)
        pattern = self.pattern.format(v=v, n=n)
        return Computed(
            f"CALL ({v}) {{ MATCH {pattern} WHERE {where} WITH DISTINCT {n} "
            f"WITH {n}, coalesce({key}, {null_key}) AS {k} WITH {n}, {k}, {n}.id AS {i} "
            f"WITH count({n}) AS {total}, collect(CASE WHEN {after_holds} THEN [{k}, {i}, {n}] END) AS {candidates} "
            f"CALL ({candidates}) {{ UNWIND {candidates} AS {row} "
            f"WITH {row} ORDER BY {row}[0] {order}, {row}[1] {order} LIMIT {first} "
            f"WITH {row}[0] AS {k}, {row}[2] AS {n} {projected}"
            f"ORDER BY {k} {order}, {i} {order} RETURN collect({{k: {k}, node: {made}}}) AS {rows} }} "
            f"RETURN {total}, {rows} }} ",
            f"{{total: {total}, rows: {rows}}}",
        )

    @staticmethod
    def indexed(c: Compiler, v: str, n: str, anonymities: str, node: Projection, first: str, after: str,
                wants_total: bool) -> Computed:  # fmt: skip
        """An actor's standing claims in id order, from the relationship index about_actor_claims (see
        service.graph.claims): a seek per anonymity asked for, stopping at the page's end; the count is the
        actor's degree in the standing claims' twin types, read without visiting a claim."""
        aid, anonymous, r, rows, made, i = (c.name(p) for p in ("aid", "an", "r", "rows", "nd", "i"))
        seek = f"USING INDEX SEEK {r}:ABOUT(actorId, sourceAnonymous, liveClaimId)"
        total = standing_count(v, anonymities) if wants_total else "0"
        return Computed(
            f"WITH {v}, {v}.id AS {aid} CALL ({aid}) {{ UNWIND {anonymities} AS {anonymous} "
            f"CALL ({aid}, {anonymous}) {{ MATCH ({n}:Claim)-[{r}:ABOUT]->() {seek} "
            f"WHERE {r}.actorId = {aid} AND {r}.sourceAnonymous = {anonymous} "
            f"AND {r}.liveClaimId > coalesce({after}[1], '') "
            f"WITH {n}, {r} ORDER BY {r}.actorId, {r}.sourceAnonymous, {r}.liveClaimId LIMIT {first} RETURN {n} }} "
            f"WITH {n} ORDER BY {n}.id LIMIT {first} {node.computed}WITH {n}.id AS {i}, {node.expression} AS {made} "
            f"ORDER BY {i} RETURN collect({{k: '', node: {made}}}) AS {rows} }} ",
            f"{{total: {total}, rows: {rows}}}",
        )


CONNECTIONS: dict[tuple[str, str], ConnectionSpec] = {
    ("Query", "claims"): ConnectionSpec("Claim", None, _claims_listed("filter")),
    ("Actor", "claims"): ConnectionSpec("Claim", "({v})<-[:ABOUT]-({n}:Claim)", _claims_listed(None, indexed=True)),
    ("Actor", "claimsMade"): ConnectionSpec("Claim", "({v})<-[:ATTRIBUTED_TO]-({n}:Claim)", _claims_listed(None)),
    ("Report", "claims"): ConnectionSpec("Claim", "({v})<-[:REPORTED_IN]-({n}:Claim)", _claims_listed(None)),
    ("Event", "claims"): ConnectionSpec("Claim", "({v})<-[:ABOUT]-({n}:Claim)", _claims_listed(None)),
    ("Query", "actors"): ConnectionSpec(
        "Actor", None, _fixed(ACTOR_CONDITIONS, ACTOR_SORTS, "filter", enums=frozenset({"kind"}))
    ),
    ("Query", "reports"): ConnectionSpec(
        "Report", None, _fixed(REPORT_CONDITIONS, REPORT_SORTS, "filter", {"publisher": "Actor"})
    ),
    ("Query", "events"): ConnectionSpec(
        "Event", None, _fixed(EVENT_CONDITIONS, EVENT_SORTS, "filter", {"participant": "Actor"}, frozenset({"status"}))
    ),
    ("Actor", "events"): ConnectionSpec(
        "Event", "({v})-[:PARTICIPATED_IN]->({n}:Event)", _fixed(EVENT_CONDITIONS, EVENT_SORTS, None)
    ),
}
