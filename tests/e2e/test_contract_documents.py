"""The clients' documents in the shared contract against the gateway's schema.

Every operation either validates or is listed in NOT_SERVED_YET, and every listed one must still
fail: the list only shrinks, and whoever makes an operation validate removes it from the list.
"""

from __future__ import annotations

import pytest
from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    ast_from_value,
    is_non_null_type,
    parse,
    print_ast,
    validate,
)
from graphql.pyutils import Undefined

from gateway.schema import build_schema
from tests.support.contract import contract_dir, operations

NOT_SERVED_YET: set[str] = set()


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


OPERATIONS = operations()


def test_not_served_yet_names_only_contract_operations() -> None:
    assert NOT_SERVED_YET <= OPERATIONS.keys()


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_operation_validates_unless_not_served_yet(name: str, schema: GraphQLSchema) -> None:
    errors = validate(schema, OPERATIONS[name])
    if name in NOT_SERVED_YET:
        assert errors, f"{name} validates now: remove it from NOT_SERVED_YET"
    else:
        assert not errors, [error.message for error in errors]


def contract_types() -> DocumentNode:
    return parse((contract_dir() / "types.graphql").read_text())


@pytest.mark.parametrize(
    "definition",
    [d for d in contract_types().definitions if isinstance(d, EnumTypeDefinitionNode)],
    ids=lambda d: d.name.value,
)
def test_enum_has_every_contract_value(
    definition: EnumTypeDefinitionNode, schema: GraphQLSchema
) -> None:
    enum = schema.get_type(definition.name.value)
    assert isinstance(enum, GraphQLEnumType), f"{definition.name.value} missing or not an enum"
    expected = {value.name.value for value in definition.values or ()}
    assert expected <= set(enum.values), expected - set(enum.values)


@pytest.mark.parametrize(
    "definition",
    [d for d in contract_types().definitions if isinstance(d, InputObjectTypeDefinitionNode)],
    ids=lambda d: d.name.value,
)
def test_input_has_every_contract_field_with_its_type_and_default(
    definition: InputObjectTypeDefinitionNode, schema: GraphQLSchema
) -> None:
    name = definition.name.value
    input_type = schema.get_type(name)
    assert isinstance(input_type, GraphQLInputObjectType), f"{name} missing or not an input type"
    expected = {field.name.value: field for field in definition.fields or ()}
    for field_name, field in expected.items():
        served = input_type.fields.get(field_name)
        assert served is not None, f"{name}.{field_name} missing"
        assert str(served.type) == print_ast(field.type), f"{name}.{field_name} type"
        contract_default = print_ast(field.default_value) if field.default_value else None
        served_default = ast_from_value(served.default_value, served.type)
        assert (print_ast(served_default) if served_default else None) == contract_default, (
            f"{name}.{field_name} default"
        )
    for field_name, served in input_type.fields.items():
        if field_name not in expected:  # clients do not send it, so it must be optional
            assert not is_non_null_type(served.type) or served.default_value is not Undefined, (
                f"{name}.{field_name} is required but not in the contract"
            )
