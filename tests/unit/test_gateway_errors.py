"""How refusals and faults surface through the gateway's schema: service field paths become
GraphQL input paths, refusals become userErrors, faults are masked, documents are bounded."""

from __future__ import annotations

import grpc
import pytest

from gateway.errors import graphql_field_path, user_error_from_rpc
from gateway.feed import InventoryFeed
from gateway.schema import build_schema
from gateway.settings import QueryLimits
from services.kernel.caller import Role
from services.kernel.errors import DomainError, ErrorCode, to_grpc_status
from tests.fakes.gateway import (
    OPERATIONS,
    REQUEST_RETURN_VARIABLES,
    SUBSCRIPTION,
    FakeInventory,
    FakeReturns,
    change,
    context_for,
    first_change,
    rpc_error,
)


def test_service_field_paths_become_graphql_input_paths() -> None:
    assert graphql_field_path("input", "lines.0.unit_price_cents") == "input.lines.0.unitPriceCents"
    assert graphql_field_path("input", "location_code") == "input.locationCode"
    assert graphql_field_path("input", "ship_to.latitude") == "input.shipTo.latitude"
    assert graphql_field_path("input", None) is None


def test_service_fields_of_root_arguments_become_those_arguments() -> None:
    paths = {"shipment_id": "id", "serials": "serialNumbers"}
    assert graphql_field_path(None, "shipment_id", paths) == "id"
    assert graphql_field_path(None, "tracking_number", paths) == "trackingNumber"
    assert graphql_field_path(None, "id") == "id"
    assert graphql_field_path(None, "serials.1.serial_numbers", paths) == (
        "serialNumbers.1.serialNumbers"
    )


def test_a_renamed_prefix_moves_the_rest_of_the_path_with_it() -> None:
    paths = {"customer": "input.customerAddress", "customer.id": "input.customerId"}
    assert graphql_field_path("input", "customer", paths) == "input.customerAddress"
    assert graphql_field_path("input", "customer.latitude", paths) == (
        "input.customerAddress.latitude"
    )
    assert graphql_field_path("input", "customer.id", paths) == "input.customerId"
    assert graphql_field_path("input", "customers.0", paths) == "input.customers.0"


def test_a_refusal_becomes_a_user_error_and_a_fault_is_re_raised() -> None:
    refused = rpc_error(to_grpc_status(DomainError(ErrorCode.NOT_FOUND, "unknown SKU 'X'", "sku")))
    error = user_error_from_rpc(refused, "input")
    assert (error.field, error.code, error.message) == (
        "input.sku",
        ErrorCode.NOT_FOUND,
        "unknown SKU 'X'",
    )
    unavailable = grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "connection refused"
    )
    with pytest.raises(grpc.aio.AioRpcError):
        user_error_from_rpc(unavailable, "input")


async def test_a_refused_mutation_answers_user_errors() -> None:
    refusal = to_grpc_status(
        DomainError(ErrorCode.INVALID_QUANTITY, "delta must not be zero", "delta")
    )
    inventory = FakeInventory(fail_with=rpc_error(refusal))
    adjust = OPERATIONS[6]
    result = await build_schema().execute(
        "mutation($input: StockAdjustmentInput!) { adjustStock(input: $input) { stockLevel { onHand } userErrors { field message code } } }",
        adjust.variables,
        context_value=context_for(Role.ADMIN, inventory),
    )
    assert result.errors is None
    assert result.data == {
        "adjustStock": {
            "stockLevel": None,
            "userErrors": [
                {
                    "field": "input.delta",
                    "message": "delta must not be zero",
                    "code": "INVALID_QUANTITY",
                }
            ],
        }
    }


async def test_an_internal_fault_is_masked() -> None:
    inventory = FakeInventory(fail_with=RuntimeError("password=hunter2 at db.internal:5432"))
    result = await build_schema().execute(
        "{ locations { code } }", context_value=context_for(Role.ADMIN, inventory)
    )
    assert result.errors is not None
    assert [error.message for error in result.errors] == ["Unexpected error."]
    assert "hunter2" not in str(result.errors[0].formatted)


async def test_an_internal_fault_in_a_subscription_is_masked() -> None:
    feed = InventoryFeed()
    inventory = FakeInventory(fail_with=RuntimeError("password=hunter2"))
    subscription = await build_schema().subscribe(
        SUBSCRIPTION, context_value=context_for(Role.ADMIN, inventory, feed)
    )
    try:
        result = await first_change(subscription, feed, change("TEE", available=4))
    finally:
        await subscription.aclose()
    assert result.errors is not None
    assert [error.message for error in result.errors] == ["Unexpected error."]
    assert "hunter2" not in str(result.errors[0].formatted)


async def test_malformed_documents_keep_their_message() -> None:
    result = await build_schema().execute(
        "{ locations { nope } }", context_value=context_for(Role.ADMIN)
    )
    assert result.errors is not None
    assert "Cannot query field 'nope'" in result.errors[0].message


async def test_limits_refuse_too_deep_too_many_aliases_and_too_many_tokens() -> None:
    schema = build_schema(QueryLimits(max_depth=2, max_aliases=3, max_tokens=60))
    context = context_for(Role.ADMIN)
    too_deep = await schema.execute(
        'mutation { upsertChannel(input: {code: "web", defaultSafetyStock: 1}) { channel { safetyStock { sku } } } }',
        context_value=context,
    )
    assert too_deep.errors is not None
    assert "exceeds maximum operation depth" in too_deep.errors[0].message
    aliases = " ".join(f"a{i}: locations {{ code }}" for i in range(4))
    too_many_aliases = await schema.execute(f"{{ {aliases} }}", context_value=context)
    assert too_many_aliases.errors is not None
    assert "aliases" in too_many_aliases.errors[0].message
    fields = " ".join("code" for _ in range(60))
    too_many_tokens = await schema.execute(f"{{ locations {{ {fields} }} }}", context_value=context)
    assert too_many_tokens.errors is not None
    assert "token" in too_many_tokens.errors[0].message.lower()
    within = await schema.execute(
        '{ stockLevels(sku: "TEE") { location { code } } }', context_value=context
    )
    assert within.errors is None


async def test_idempotency_keys_reach_the_services() -> None:
    inventory, returns = FakeInventory(), FakeReturns()
    keyed = REQUEST_RETURN_VARIABLES["input"] | {"idempotencyKey": "loop-1"}
    request = await build_schema().execute(
        "mutation($input: RequestReturnInput!) { requestReturn(input: $input) "
        "{ return { id } userErrors { field code } } }",
        {"input": keyed},
        context_value=context_for(Role.ADMIN, inventory, returns=returns),
    )
    assert request.errors is None
    assert returns.requests[-1].idempotency_key == "loop-1"
    adjust = await build_schema().execute(
        "mutation($input: StockAdjustmentInput!) { adjustStock(input: $input) "
        "{ stockLevel { onHand } userErrors { field code } } }",
        {
            "input": {
                "sku": "TEE",
                "locationCode": "DC-1",
                "delta": 1,
                "reason": "count",
                "idempotencyKey": "count-1",
            }
        },
        context_value=context_for(Role.ADMIN, inventory),
    )
    assert adjust.errors is None
    assert inventory.requests[-1].idempotency_key == "count-1"
