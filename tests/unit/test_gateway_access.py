"""Who may call what through the gateway's schema, executed without HTTP or services: every
operation for every role, and no operation without a principal."""

from __future__ import annotations

import pytest

from gateway.schema import build_schema
from services.kernel.caller import Role
from tests.fakes.gateway import (
    OPERATIONS,
    FakeChannels,
    FakeInventory,
    FakeOrders,
    FakeProcurement,
    FakeReturns,
    FakeWorkOrders,
    Operation,
    context_for,
    error_codes,
)


def test_schema_builds_with_every_domain_type() -> None:
    sdl = build_schema().as_str()
    for name in (
        "type Query",
        "type Mutation",
        "type Subscription",
        "input PlaceOrderInput",
        "enum WorkOrderStatus",
    ):
        assert name in sdl


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
@pytest.mark.parametrize("role", list(Role), ids=str)
async def test_each_role_reaches_only_its_operations(operation: Operation, role: Role) -> None:
    inventory, orders, returns = FakeInventory(), FakeOrders(), FakeReturns()
    workorders, procurement, channels = FakeWorkOrders(), FakeProcurement(), FakeChannels()
    fakes = (inventory, orders, returns, workorders, procurement, channels)
    result = await build_schema().execute(
        operation.document,
        operation.variables,
        context_value=context_for(
            role,
            inventory,
            orders=orders,
            returns=returns,
            workorders=workorders,
            procurement=procurement,
            channels=channels,
        ),
    )
    if role in operation.roles:
        assert result.errors is None, result.errors
        assert any(fake.calls for fake in fakes)
    else:
        assert error_codes(result) == ["FORBIDDEN"]
        assert result.errors is not None
        assert "open to the roles" in result.errors[0].message
        assert all(fake.calls == [] for fake in fakes)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
async def test_no_principal_is_unauthenticated(operation: Operation) -> None:
    result = await build_schema().execute(
        operation.document, operation.variables, context_value=context_for(None)
    )
    assert error_codes(result) == ["UNAUTHENTICATED"]
