"""The clients' documents in the shared contract against the gateway's schema.

Every operation either validates or is listed in NOT_SERVED_YET, and every listed one must still
fail: the list only shrinks, and whoever makes an operation validate removes it from the list.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    Node,
    OperationDefinitionNode,
    ast_from_value,
    is_non_null_type,
    parse,
    print_ast,
    validate,
    visit,
)
from graphql.language import Visitor
from graphql.pyutils import Undefined

from gateway.schema import build_schema

NOT_SERVED_YET = {
    # backoffice.graphql
    "UpsertSupplier",
    "CreatePurchaseOrder",
    "ReceivePurchaseOrder",
    "RecordSupplierInvoice",
    "ReplenishmentPlan",
    "CreateWorkOrder",
    "CompleteWorkOrderOperation",
    "WorkOrders",
    "OpsSummary",
    "ConnectChannel",
}


def contract_dir() -> Path:
    configured = os.environ.get("OMS_CONTRACT_DIR")
    path = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2].parent / "shared" / "contract"
    )
    assert (path / "types.graphql").is_file(), (
        f"contract not found at {path} (set OMS_CONTRACT_DIR)"
    )
    return path


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def client_documents() -> dict[str, DocumentNode]:
    return {
        path.name: parse(path.read_text())
        for path in sorted(contract_dir().glob("*.graphql"))
        if path.name != "types.graphql"
    }


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.add(node.name.value)


def fragments_used(
    node: Node, fragments: dict[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    """The fragments `node` spreads, directly or through other fragments."""
    used: dict[str, FragmentDefinitionNode] = {}
    pending = [node]
    while pending:
        collector = _SpreadCollector()
        visit(pending.pop(), collector)
        for name in collector.names - used.keys():
            used[name] = fragments[name]
            pending.append(fragments[name])
    return list(used.values())


def operations() -> Iterator[tuple[str, DocumentNode]]:
    """Each named operation as a document of its own, with the fragments it uses from its file."""
    for file_name, document in client_documents().items():
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                assert definition.name is not None, f"anonymous operation in {file_name}"
                used = fragments_used(definition, fragments)
                yield definition.name.value, DocumentNode(definitions=(definition, *used))


OPERATIONS = dict(operations())


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
