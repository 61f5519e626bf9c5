"""Every type, field, argument and enum value of the API says what it is; deprecations say what replaces them."""

from __future__ import annotations

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from service.api.gate import typed_schema
from service.api.schema import schema

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def test_every_type_and_field_is_described() -> None:
    undescribed: list[str] = []
    deprecated_without_replacement: list[str] = []
    for name, graphql_type in typed_schema(schema).type_map.items():
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not graphql_type.description:
            undescribed.append(name)
        if isinstance(graphql_type, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    undescribed.append(f"{name}.{field_name}")
                reason = getattr(field, "deprecation_reason", None)
                if reason is not None and "use " not in reason.lower():
                    deprecated_without_replacement.append(f"{name}.{field_name}")
        if isinstance(graphql_type, GraphQLEnumType):
            for value_name, value in graphql_type.values.items():
                if value.deprecation_reason is not None and "use " not in value.deprecation_reason.lower():
                    deprecated_without_replacement.append(f"{name}.{value_name}")

    assert undescribed == []
    assert deprecated_without_replacement == []
