"""graphql-core's executor, with the commonest fields answered without its per-field machinery.

Most fields of a response are plain: an attribute of a Python object, no arguments, no resolver of
ours (``text``, ``name``, ``edges``, ``node``), or a value a page of claims loaded ahead for all its rows
(``source``, ``reports``, ``publisher``, ``cites``; see ``prefetch_claims``). graphql-core spends about
10 µs on each, whatever it is: a resolve info, Strawberry's resolver wrapper and its argument
conversion, an awaitable check and the completion dispatch. A page of 100 claims with their sources
and reports is some 900 such fields.

``Executor.execute_fields`` answers those directly: it reads the attribute, coerces a leaf, or goes
straight on to an object's sub-fields. Errors inside those sub-fields are handled exactly as
graphql-core does (null in place, the error located at its path, bubbling up to the nearest nullable
field). Anything unusual (a null where the schema forbids one, a value of the wrong type, a directive
on the field, an abstract type, middleware) goes to graphql-core's own ``execute_field``, unchanged.
A plain field has no side effects, so trying it first and then handing it over is safe.

Where an object's whole sub-selection is plain, at every depth (a page's edges, each with its claim,
source, reports and publishers), it is answered as one tree by ``_fill``: one call per object, no Path,
no sub-field collection per object. At the first value the tree cannot answer it gives up on that
object, which then goes the per-field way above, where its error is made as graphql-core makes it.
On a page of 100 claims with sources and reports this took the execution from 9.8 to 8.2 ms (medians
of alternating blocks in one process, database time included).

A tree goes further where its objects would be made from records and nothing else (a page's nodes, with the
sources, reports and publishers its statement brought): a STORED field (``Edge.node``) hands the tree its
record, and the fields below are read from records through their types' RECORD_READERS, which give what the
objects made from the records would. No node object is made; where a record cannot answer (something it did
not bring, a null where the schema forbids one) the object is made and answers as above. A page of 100
claims took 1.46 to 1.80 times less CPU than with its 400 objects made (through the ASGI app, alternating
blocks of 50 requests in one process).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, cast

from graphql import (
    ExecutionResult,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    OperationType,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from service.graph.driver import Record

AHEAD: Final = "kb.ahead"
"""Metadata of a Strawberry field whose value a page may load ahead into its rows' ``pre[name]``."""
COMPUTED: Final = "kb.computed"
"""Metadata of a field whose resolver is a cheap, pure function of the object alone (no info, no
arguments, not async), such as a global id: called directly, and again by graphql-core if it must."""

STORED: Final = "kb.stored"
"""Metadata of an object-valued field whose parent may hold the value as the record it is made from, in the
attribute named (None once the record no longer says all the object does). A tree then reads that record
through its type's RECORD_READERS and never makes the object."""
RECORD_READERS: Final = "record_readers"
"""The class attribute of a type made from stored records: for each plain field (by Python name), the field's
value read from a record, equal to that attribute of the object the record makes. For a field loaded ahead:
the related record (or list of records), or NOT_STORED when the record did not bring it."""

_GENERIC: Final[Any] = object()  # "let graphql-core's own execute_field answer this one"
NOT_STORED: Final[Any] = _GENERIC
_NO_INFO: Final = cast("GraphQLResolveInfo[Any]", None)  # for is_type_of, which in Strawberry never reads it


@dataclass(frozen=True, slots=True)
class PlainField:
    """How to answer one field of one object type without graphql-core's machinery."""

    attribute: str  # read with getattr, unless ``ahead`` names the value loaded ahead or ``compute`` is given
    ahead: str | None
    compute: Callable[[Any], Any] | None
    return_type: GraphQLOutputType
    non_null: bool
    leaf: GraphQLLeafType | None  # the leaf type, for a leaf or a list of leaves
    object_type: GraphQLObjectType | None  # the object type, for an object or a list of objects
    is_list: bool
    item_type: GraphQLOutputType | None  # a list's item type, NonNull included
    item_non_null: bool
    read: Callable[[Record], Any] | None  # the value from the parent's record (RECORD_READERS), if it can be
    stored: str | None  # the attribute holding the value's record (STORED)

    def leaf_value(self, source: Any) -> Any:
        """A leaf's coerced value, or _GENERIC when anything about it is unusual."""
        return self.coerce(getattr(source, self.attribute, _GENERIC) if self.compute is None else self.computed(source))

    def coerce(self, value: Any) -> Any:
        """A leaf's value as the response has it, or _GENERIC when anything about it is unusual."""
        if value is None:
            return _GENERIC if self.non_null else None
        if type(value) is str and self.leaf in _STRINGS:
            return value  # what String and ID coerce a str to
        return _GENERIC if value is _GENERIC or isinstance(value, Exception) else _leaf(self.leaf, value)  # type: ignore[arg-type]

    def computed(self, source: Any) -> Any:
        assert self.compute is not None
        try:
            return self.compute(source)
        except Exception:  # noqa: BLE001 - graphql-core calls it again, and handles the error
            return _GENERIC

    def value(self, source: Any) -> Any:
        if self.compute is not None:
            return self.computed(source)
        if self.ahead is None:
            return getattr(source, self.attribute, _GENERIC)
        pre = getattr(source, "pre", None)
        return pre.get(self.ahead, _GENERIC) if isinstance(pre, dict) else _GENERIC

    def accepts(self, value: Any) -> bool:
        """The object type's own ``is_type_of`` (Strawberry's is an isinstance check that ignores info)."""
        check = self.object_type.is_type_of if self.object_type is not None else None
        return check is None or check(value, _NO_INFO) is True


def plain_field(parent_type: GraphQLObjectType, name: str) -> PlainField | None:
    """The plan for ``parent_type.name``, or None for a field graphql-core must resolve itself."""
    fields = _plans.get(parent_type)
    if fields is None:
        fields = _plans[parent_type] = {}
    if name not in fields:
        fields[name] = _plan(parent_type, name)
    return fields[name]


_plans: dict[GraphQLObjectType, dict[str, PlainField | None]] = {}


def _plan(parent_type: GraphQLObjectType, name: str) -> PlainField | None:
    field = parent_type.fields.get(name)
    definition = field.extensions.get("strawberry-definition") if field is not None else None
    if field is None or not isinstance(definition, StrawberryField) or field.args:
        return None
    ahead = definition.metadata.get(AHEAD)
    basic = getattr(field.resolve, "_is_default", False) and definition.default_resolver is getattr
    compute = _computation(definition) if definition.metadata.get(COMPUTED) else None
    if not basic and ahead is None and compute is None:
        return None
    return_type = field.type
    non_null = isinstance(return_type, GraphQLNonNull)
    inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    item_type: GraphQLOutputType | None = None
    if isinstance(inner, GraphQLList):
        item_type = inner.of_type
        inner = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
    if not is_leaf_type(inner) and not isinstance(inner, GraphQLObjectType):
        return None  # interfaces and unions: graphql-core resolves the runtime type
    readers = getattr(_origin(parent_type), RECORD_READERS, None) or {}
    return PlainField(
        attribute=definition.python_name,
        ahead=ahead,
        compute=compute,
        return_type=return_type,
        non_null=non_null,
        leaf=inner if is_leaf_type(inner) else None,
        object_type=inner if isinstance(inner, GraphQLObjectType) else None,
        is_list=item_type is not None,
        item_type=item_type,
        item_non_null=isinstance(item_type, GraphQLNonNull),
        read=readers.get(definition.python_name),
        stored=definition.metadata.get(STORED) if isinstance(inner, GraphQLObjectType) and not item_type else None,
    )


def _origin(object_type: GraphQLObjectType) -> type | None:
    definition = object_type.extensions.get("strawberry-definition")
    return getattr(definition, "origin", None)


def _computation(definition: StrawberryField) -> Callable[[Any], Any] | None:
    """The function of a COMPUTED field, if it is what COMPUTED promises (else the field is not planned)."""
    resolver = definition.base_resolver
    if resolver is None or resolver.is_async or resolver.info_parameter is not None or definition.extensions:
        return None
    function = resolver.wrapped_func
    return None if isinstance(function, (classmethod, staticmethod)) else function


_STRINGS: Final = (GraphQLString, GraphQLID)

Tree = list[tuple[str, "PlainField | str", "Tree | None", "Tree | None"]]
"""An object's sub-selection when every field in it, at every depth, is plain: response name, then the plan
(or, for ``__typename``, the type's name), then the sub-tree of an object field (None for a leaf), then for a
STORED field the sub-tree as read from the value's record, where every field below has a reader (else None).
A tree read from records has the same shape, with the readers' sub-trees in third place."""

Selection = list[tuple[str, FieldDetailsList, PlainField | None, PlainField | None]]
"""A grouped field set's fields: response name, field nodes, the plan where the field is a plain leaf read in
the field loop, and the plan where it is any other plain field."""


def _leaf(leaf: GraphQLLeafType, value: Any) -> Any:
    """The coerced value, or _GENERIC where graphql-core would raise (it then raises its own error)."""
    try:
        coerced = leaf.coerce_output_value(value)
    except Exception:  # noqa: BLE001 - graphql-core's path raises it again, located
        return _GENERIC
    return _GENERIC if coerced is None or coerced is Undefined else coerced


class Executor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with plain fields answered directly (see the module's notes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry always passes a manager; it is empty unless an extension wraps every resolver.
        manager = self.middleware_manager
        self.plain = manager is None or not manager.middlewares
        # Per grouped field set (one object for all items of a list), its fields with their plans.
        self._selections: dict[int, tuple[GroupedFieldSet, Selection]] = {}
        # Per object type and field nodes, the tree of a sub-selection that is plain all the way down (or None).
        self._trees: dict[tuple[GraphQLObjectType, int, bool], tuple[FieldDetailsList, Tree | None]] = {}

    def build_response(self, data: dict[str, Any] | None) -> Any:
        """graphql-core's response; once it is final, the executor lets go of its async helpers.

        The helpers are made of the executor's own bound methods, so the two refer to each other, and
        through the executor the whole request (its context, loaders and every page and record they hold)
        would otherwise be freed only by the garbage collector: some 500 objects per page of claims. Through
        the ASGI app in process, alternating blocks of 100 requests: a page of 100 claims 3.33 -> 2.70 ms of
        CPU, the headline 4.17 -> 3.47, a point lookup 0.94 -> 0.91 (tests/api/test_garbage.py). A resolver
        still holding its info keeps the helpers, which keep the executor; nothing here uses them again."""
        response = super().build_response(data)
        if type(response) is ExecutionResult and self.operation.operation is not OperationType.SUBSCRIPTION:
            del self.async_helpers
        return response

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's execute_fields: plain leaves read in the loop (no Path, no call per field), other plain
        fields answered by _plain, the rest (and whatever _plain hands back) by graphql-core's execute_field."""
        if not self.plain:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        cached = self._selections.get(id(grouped_field_set))
        if cached is None or cached[0] is not grouped_field_set:
            cached = (grouped_field_set, _selection(parent_type, grouped_field_set))
            self._selections[id(grouped_field_set)] = cached
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            for name, fields, leaf, plan in cached[1]:
                if leaf is not None:
                    value = leaf.leaf_value(source_value)
                    if value is not _GENERIC:
                        results[name] = value
                        continue
                field_path = Path(path, name, parent_type.name)
                result = (
                    _GENERIC if plan is None else self._plain(plan, source_value, fields, field_path, position_context)
                )
                if result is _GENERIC:
                    result = super().execute_field(parent_type, source_value, fields, field_path, position_context)
                if result is not Undefined:
                    results[name] = result
                    if self.is_awaitable(result):
                        pending.append(name)
        except Exception:
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        return _settled(results, pending) if pending else results

    def _plain(
        self, plan: PlainField, source: Any, field_details_list: FieldDetailsList, path: Path, position: Any
    ) -> Any:
        if plan.stored is not None and position is None and type(record := getattr(source, plan.stored, None)) is dict:
            assert plan.object_type is not None
            tree = self._tree(plan.object_type, field_details_list, stored=True)
            if tree is not None and (filled := _fill_record(tree, record)) is not _GENERIC:
                return filled
        value = plan.value(source)
        if value is _GENERIC or isinstance(value, Exception):
            return _GENERIC
        if value is None:
            return _GENERIC if plan.non_null else None
        if not plan.is_list:
            if plan.leaf is not None:
                return _leaf(plan.leaf, value)
            if not plan.accepts(value):
                return _GENERIC
            object_type = plan.object_type
            assert object_type is not None
            tree = self._tree(object_type, field_details_list) if position is None else None
            if tree is not None and (filled := _fill(tree, value)) is not _GENERIC:
                return filled
            return self._guarded(
                plan.return_type,
                field_details_list,
                path,
                lambda: self.collect_and_execute_subfields(object_type, field_details_list, path, value, position),
            )
        if not isinstance(value, (list, tuple)):
            return _GENERIC
        if plan.leaf is not None:
            return _leaves(plan, value)
        if any(not plan.accepts(item) if item is not None else plan.item_non_null for item in value):
            return _GENERIC
        return self._guarded(
            plan.return_type,
            field_details_list,
            path,
            lambda: self._objects(plan, value, field_details_list, path, position),
        )

    def _objects(
        self, plan: PlainField, items: list[Any] | tuple[Any, ...], fields: FieldDetailsList, path: Path, position: Any
    ) -> Any:
        """Complete a list of objects: graphql-core's complete_iterable_value, for values known to be objects."""
        object_type, item_type = plan.object_type, plan.item_type
        assert object_type is not None
        assert item_type is not None
        completed: list[Any] = []
        pending: list[int] = []
        tree = self._tree(object_type, fields) if position is None else None
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed.append(None)
                    continue
                if tree is not None and (filled := _fill(tree, item)) is not _GENERIC:
                    completed.append(filled)
                    continue
                item_path = path.add_key(index, None)
                result = self._guarded(
                    item_type,
                    fields,
                    item_path,
                    partial(self.collect_and_execute_subfields, object_type, fields, item_path, item, position),
                )
                if self.is_awaitable(result):
                    pending.append(index)
                completed.append(result)
        except Exception:
            if pending:
                self.settle_in_background([completed[i] for i in pending])
            raise
        return _settled(completed, pending) if pending else completed

    def _guarded(
        self, return_type: GraphQLOutputType, fields: FieldDetailsList, path: Path, complete: Callable[[], Any]
    ) -> Any:
        """``complete()``, with an error handled as graphql-core handles one completing a field or a list item:
        located at ``path``, raised on if the type is non-null, else recorded with null in place."""
        try:
            result = complete()
        except Exception as error:  # noqa: BLE001 - as graphql-core's execute_field: every error is a field error
            self.handle_field_error(error, return_type, fields, path)
            return None
        if not self.is_awaitable(result):
            return result

        async def awaited(result: Awaitable[Any]) -> Any:
            try:
                return await result
            except Exception as error:  # noqa: BLE001 - as above
                self.handle_field_error(error, return_type, fields, path)
                return None

        return awaited(result)

    def _tree(self, object_type: GraphQLObjectType, fields: FieldDetailsList, stored: bool = False) -> Tree | None:
        """The sub-selection of ``fields`` on ``object_type`` as a Tree (read from records if ``stored``), or None
        where any field in it, at any depth, is not plain (or has no reader, or is deferred, or carries a
        directive)."""
        key = (object_type, id(fields), stored)
        cached = self._trees.get(key)
        if cached is not None and cached[0] is fields:
            return cached[1]
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, fields)
        tree = None if new_defer_usages else self._tree_of(object_type, grouped_field_set, stored)
        self._trees[key] = (fields, tree)
        return tree

    def _tree_of(self, object_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet, stored: bool) -> Tree | None:
        tree: Tree = []
        for name, fields in grouped_field_set.items():
            if _directed(fields) or any(details.defer_usage is not None for details in fields):
                return None
            field_name = fields[0].node.name.value
            if field_name == "__typename":
                tree.append((name, object_type.name, None, None))
                continue
            plan = plain_field(object_type, field_name)
            if plan is None or (stored and plan.read is None):
                return None
            sub = self._tree(plan.object_type, fields, stored) if plan.object_type is not None else None
            if plan.object_type is not None and sub is None:
                return None
            from_record = None
            if plan.stored is not None and not stored:
                assert plan.object_type is not None
                from_record = self._tree(plan.object_type, fields, stored=True)
            tree.append((name, plan, sub, from_record))
        return tree


def _fill(tree: Tree, source: Any) -> Any:
    """The response of a plain sub-selection on ``source``, with no Path, no error handling and no call per
    object but this one; _GENERIC at the first thing it cannot answer (a null where the schema forbids one, a
    value of the wrong type), which the caller then hands to the per-field path, where that error is made.
    Every value it reads is plain, so reading it twice has no effect. A STORED field whose record is there is
    read from the record (_fill_record), and from the object where the record does not answer."""
    result: dict[str, Any] = {}
    for name, plan, sub, from_record in tree:
        if type(plan) is str:
            result[name] = plan
            continue
        assert isinstance(plan, PlainField)
        if sub is None and not plan.is_list:
            value = plan.leaf_value(source)
        else:
            if from_record is not None and type(record := getattr(source, plan.stored, None)) is dict:  # type: ignore[arg-type]
                value = _fill_record(from_record, record)
                if value is not _GENERIC:
                    result[name] = value
                    continue
            value = _completed(plan, sub, plan.value(source), _fill, plan.accepts)
        if value is _GENERIC:
            return _GENERIC
        result[name] = value
    return result


def _fill_record(tree: Tree, record: Record) -> Any:
    """_fill, for a node's stored record and a tree of readers (RECORD_READERS): the response the object made
    from the record would give, without making it."""
    result: dict[str, Any] = {}
    for name, plan, sub, _ in tree:
        if type(plan) is str:
            result[name] = plan
            continue
        assert isinstance(plan, PlainField)
        assert plan.read is not None
        value = plan.read(record)
        value = (
            plan.coerce(value)
            if sub is None and not plan.is_list
            else _completed(plan, sub, value, _fill_record, _is_record)
        )
        if value is _GENERIC:
            return _GENERIC
        result[name] = value
    return result


def _is_record(value: Any) -> bool:
    return type(value) is dict


def _completed(
    plan: PlainField, sub: Tree | None, value: Any, fill: Callable[[Tree, Any], Any], accepts: Callable[[Any], bool]
) -> Any:
    """The response of a plain field that is not a single leaf, from its value; _GENERIC as _fill."""
    if value is _GENERIC or isinstance(value, Exception):
        return _GENERIC
    if value is None:
        return _GENERIC if plan.non_null else None
    if not plan.is_list:
        assert sub is not None
        return fill(sub, value) if accepts(value) else _GENERIC
    if not isinstance(value, (list, tuple)):
        return _GENERIC
    if sub is None:
        return _leaves(plan, value)
    items: list[Any] = []
    for item in value:
        if item is None:
            if plan.item_non_null:
                return _GENERIC
            items.append(None)
            continue
        if not accepts(item) or (item := fill(sub, item)) is _GENERIC:
            return _GENERIC
        items.append(item)
    return items


def _leaves(plan: PlainField, items: list[Any] | tuple[Any, ...]) -> Any:
    """A list of leaves, each coerced; _GENERIC where an item is refused or null where the schema forbids it."""
    assert plan.leaf is not None
    leaves = [None if item is None else _leaf(plan.leaf, item) for item in items]
    if any(c is _GENERIC or (c is None and plan.item_non_null) for c in leaves):
        return _GENERIC
    return leaves


def _selection(parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> Selection:
    selection: Selection = []
    for name, fields in grouped_field_set.items():
        plan = plain_field(parent_type, fields[0].node.name.value)
        if plan is None or _directed(fields):
            selection.append((name, fields, None, None))
        elif plan.leaf is not None and plan.ahead is None and not plan.is_list:
            selection.append((name, fields, plan, None))
        else:
            selection.append((name, fields, None, plan))
    return selection


def _settled(values: Any, pending: list[Any]) -> Awaitable[Any]:
    """``values`` (a dict of fields or a list of items) once the awaitables at the keys in ``pending`` are
    replaced by their results: as graphql-core, one awaited as is, several gathered (cancelled on an error)."""

    async def settled() -> Any:
        if len(pending) == 1:
            values[pending[0]] = await values[pending[0]]
            return values
        for key, value in zip(pending, await gather_with_cancel(*(values[k] for k in pending)), strict=True):
            values[key] = value
        return values

    return settled()


def _directed(field_details_list: FieldDetailsList) -> bool:
    """Whether any node of the field carries a directive (@stream, say): those go the generic way."""
    return any(details.node.directives for details in field_details_list)
