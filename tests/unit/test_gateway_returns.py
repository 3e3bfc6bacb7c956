"""Returns through the gateway's schema over fake services: what each role may see and do,
and what a return reads like before and after inspection."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.schema import build_schema
from oms.returns.v1 import returns_pb2 as rpb
from services.kernel.caller import Caller, Role
from services.kernel.errors import DomainError, ErrorCode, to_grpc_status
from tests.fakes.gateway import (
    INSPECT_RETURN_VARIABLES,
    REQUEST_RETURN_VARIABLES,
    FakeInventory,
    FakeReturns,
    Metadata,
    a_return,
    context_for,
    error_codes,
    rpc_error,
)

RETURN_DETAIL = """
  id status orderId destination { code kind } estimatedCostCents centralizedCostCents
  lines { sku quantity reason grade disposition settledQuantity }
  fraudFlags refund { status amountCents issuedAt } requestedAt receivedAt inspectedAt closedAt
"""
RETURN = f'{{ return(id: "r-1") {{ {RETURN_DETAIL} }} }}'
REQUEST_RETURN = (
    "mutation($input: RequestReturnInput!) { requestReturn(input: $input) "
    "{ return { id } userErrors { field message code } } }"
)
RECEIVE_RETURN = (
    "mutation($id: ID!, $at: String!) { receiveReturn(id: $id, locationCode: $at) "
    "{ return { id status } userErrors { field message code } } }"
)
INSPECT_RETURN = (
    "mutation($input: InspectReturnInput!) { inspectReturn(input: $input) "
    "{ return { id } userErrors { field message code } } }"
)


async def test_a_return_reads_as_the_contract_says_with_nulls_until_inspected() -> None:
    result = await build_schema().execute(RETURN, context_value=context_for(Role.BACKOFFICE))
    assert result.errors is None, result.errors
    assert result.data == {
        "return": {
            "id": "r-1",
            "status": "REQUESTED",
            "orderId": "o-1",
            "destination": {"code": "HUB-1", "kind": "RETURN_HUB"},
            "estimatedCostCents": 500,
            "centralizedCostCents": 3500,
            "lines": [
                {
                    "sku": "TEE",
                    "quantity": 1,
                    "reason": "SIZE_TOO_SMALL",
                    "grade": None,
                    "disposition": None,
                    "settledQuantity": 0,
                }
            ],
            "fraudFlags": [],
            "refund": None,
            "requestedAt": "2030-01-02T12:00:00+00:00",
            "receivedAt": None,
            "inspectedAt": None,
            "closedAt": None,
        }
    }


async def test_an_inspected_return_shows_grades_dispositions_and_its_refund() -> None:
    inspected = a_return()
    inspected.status = rpb.RETURN_STATUS_CLOSED
    inspected.lines[0].grade, inspected.lines[0].disposition = (
        rpb.GRADE_NEW,
        rpb.DISPOSITION_RESTOCK,
    )
    inspected.lines[0].settled_quantity = 1
    inspected.refund.CopyFrom(
        rpb.Refund(
            status=rpb.REFUND_STATUS_ISSUED,
            amount_cents=2500,
            issued_at="2030-01-03T09:00:00+00:00",
        )
    )
    result = await build_schema().execute(
        RETURN, context_value=context_for(Role.ADMIN, returns=FakeReturns(returns=[inspected]))
    )
    assert result.data is not None
    found = result.data["return"]
    assert found["status"] == "CLOSED"
    assert found["lines"][0] | {"sku": None} == {
        "sku": None,
        "quantity": 1,
        "reason": "SIZE_TOO_SMALL",
        "grade": "NEW",
        "disposition": "RESTOCK",
        "settledQuantity": 1,
    }
    assert found["refund"] == {
        "status": "ISSUED",
        "amountCents": 2500,
        "issuedAt": "2030-01-03T09:00:00+00:00",
    }


async def test_every_returns_call_says_whom_it_is_for() -> None:
    """The returns service decides what each caller may see and do
    (tests/unit/test_returns_use_cases.py); the gateway tells it who is calling."""
    schema = build_schema()
    returns = FakeReturns()
    for role in (Role.SCANNER, Role.STOREFRONT):
        context = context_for(role, returns=returns)
        await schema.execute(RETURN, context_value=context)
        if role is Role.STOREFRONT:
            await schema.execute(REQUEST_RETURN, REQUEST_RETURN_VARIABLES, context_value=context)
        else:
            await schema.execute(
                RECEIVE_RETURN, {"id": "r-1", "at": "HUB-1"}, context_value=context
            )
            await schema.execute(INSPECT_RETURN, INSPECT_RETURN_VARIABLES, context_value=context)
            await schema.execute(
                '{ hubQueue(locationCode: "HUB-1") { id } }', context_value=context
            )
    assert returns.calls == [
        "GetReturns",
        "ReceiveReturn",
        "InspectReturn",
        "HubQueue",
        "GetReturns",
        "RequestReturn",
    ]
    scanner, storefront = (
        Caller("scanner-1", Role.SCANNER, "HUB-1"),
        Caller("storefront-1", Role.STOREFRONT, channels=("web",)),
    )
    assert returns.callers == [scanner] * 4 + [storefront] * 2
    assert returns.requests[-1] == rpb.RequestReturnRequest(
        order_id="o-1",
        lines=[rpb.RequestedLine(sku="TEE", quantity=1, reason=rpb.RETURN_REASON_SIZE_TOO_SMALL)],
    )


async def test_the_services_refusals_of_a_scanner_elsewhere_reach_it() -> None:
    schema = build_schema()
    elsewhere = DomainError(ErrorCode.FORBIDDEN, "this scanner works at HUB-1", "location_code")
    returns = FakeReturns(fail_with=rpc_error(to_grpc_status(elsewhere)))
    scanner = context_for(Role.SCANNER, returns=returns)
    received = await schema.execute(
        RECEIVE_RETURN, {"id": "r-1", "at": "HUB-2"}, context_value=scanner
    )
    assert received.data == {
        "receiveReturn": {
            "return": None,
            "userErrors": [
                {
                    "field": "locationCode",
                    "message": "this scanner works at HUB-1",
                    "code": "FORBIDDEN",
                }
            ],
        }
    }
    queue = await schema.execute(
        '{ hubQueue(locationCode: "HUB-2") { id } }', context_value=scanner
    )
    assert queue.data is None and error_codes(queue) == ["FORBIDDEN"]
    # A return the service does not answer with reads as if it did not exist.
    hidden = context_for(Role.SCANNER, returns=FakeReturns(returns=[]))
    assert (await schema.execute(RETURN, context_value=hidden)).data == {"return": None}


async def test_the_customers_address_is_sent_only_when_given() -> None:
    returns = FakeReturns()
    variables = {
        "input": REQUEST_RETURN_VARIABLES["input"]
        | {"customerAddress": {"latitude": 38.7, "longitude": -9.1}}
    }
    await build_schema().execute(
        REQUEST_RETURN, variables, context_value=context_for(Role.ADMIN, returns=returns)
    )
    await build_schema().execute(
        REQUEST_RETURN,
        REQUEST_RETURN_VARIABLES,
        context_value=context_for(Role.ADMIN, returns=returns),
    )
    sent, left_out = returns.requests
    assert sent.HasField("customer") and (sent.customer.latitude, sent.customer.longitude) == (
        38.7,
        -9.1,
    )
    assert not left_out.HasField("customer")


@pytest.mark.parametrize(
    ("document", "variables", "refusal", "field"),
    [
        (
            REQUEST_RETURN,
            REQUEST_RETURN_VARIABLES,
            DomainError(ErrorCode.INVALID_QUANTITY, "only 0 left", "lines.0.quantity"),
            "input.lines.0.quantity",
        ),
        (
            REQUEST_RETURN,
            REQUEST_RETURN_VARIABLES,
            DomainError(ErrorCode.NOT_FOUND, "no order o-1", "order_id"),
            "input.orderId",
        ),
        (
            REQUEST_RETURN,
            REQUEST_RETURN_VARIABLES,
            DomainError(ErrorCode.INVALID_INPUT, "out of range", "customer.latitude"),
            "input.customerAddress.latitude",
        ),
        (
            RECEIVE_RETURN,
            {"id": "r-1", "at": "HUB-1"},
            DomainError(ErrorCode.WRONG_LOCATION, "goes to HUB-2", "location_code"),
            "locationCode",
        ),
        (
            RECEIVE_RETURN,
            {"id": "r-1", "at": "HUB-1"},
            DomainError(ErrorCode.NOT_FOUND, "no return r-1", "return_id"),
            "id",
        ),
        (
            INSPECT_RETURN,
            INSPECT_RETURN_VARIABLES,
            DomainError(ErrorCode.INVALID_STATE, "inspected", "return_id"),
            "input.returnId",
        ),
        (
            INSPECT_RETURN,
            INSPECT_RETURN_VARIABLES,
            DomainError(ErrorCode.INVALID_INPUT, "scan it", "lines.0.serial_number"),
            "input.lines.0.serialNumber",
        ),
        (
            INSPECT_RETURN,
            INSPECT_RETURN_VARIABLES,
            DomainError(ErrorCode.FORBIDDEN, "inspected at HUB-2", "return_id"),
            "input.returnId",
        ),
    ],
    ids=[
        "request-quantity",
        "request-order",
        "request-customer",
        "receive-location",
        "receive-id",
        "inspect-state",
        "inspect-serial",
        "inspect-elsewhere",
    ],
)
async def test_return_refusals_name_the_graphql_argument(
    document: str, variables: dict[str, Any], refusal: DomainError, field: str
) -> None:
    returns = FakeReturns(fail_with=rpc_error(to_grpc_status(refusal)))
    result = await build_schema().execute(
        document,
        variables,
        context_value=context_for(
            Role.SCANNER if "receive" in document else Role.ADMIN, returns=returns
        ),
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    (payload,) = result.data.values()
    assert payload == {
        "return": None,
        "userErrors": [{"field": field, "message": refusal.message, "code": refusal.code.value}],
    }


async def test_a_hub_queue_asks_inventory_once_for_its_locations() -> None:
    inventory = FakeInventory()
    returns = FakeReturns(returns=[a_return(f"r-{n}") for n in range(20)])
    result = await build_schema().execute(
        '{ hubQueue(locationCode: "HUB-1") { id destination { code } } }',
        context_value=context_for(Role.SCANNER, inventory, returns=returns),
    )
    assert result.errors is None, result.errors
    assert result.data is not None and len(result.data["hubQueue"]) == 20
    assert inventory.calls == ["ListLocations"]
    assert returns.requests == [rpb.HubQueueRequest(location_code="HUB-1")]


async def test_the_returns_report_passes_its_period_and_names_kinds_and_hubs() -> None:
    report = rpb.ReturnsReport(
        returns=3,
        by_destination_kind=[
            rpb.DestinationKindFigures(
                kind="RETURN_HUB", returns=2, handling_cost_cents=1000, centralized_cost_cents=7000
            ),
            rpb.DestinationKindFigures(
                kind="DISTRIBUTION_CENTER",
                returns=1,
                handling_cost_cents=3500,
                centralized_cost_cents=3500,
            ),
        ],
        handling_cost_cents=4500,
        centralized_cost_cents=10500,
        saving_cents=6000,
        request_to_refund_hours_p50=1.5,
        request_to_refund_hours_p90=3.0,
        receipt_to_restock_hours_p50=0.25,
        receipt_to_restock_hours_p90=0.5,
        backlog=[rpb.HubBacklog(location_code="HUB-1", awaiting_inspection=2, oldest_minutes=42)],
        awaiting_inspection=2,
    )

    class ReportingReturns(FakeReturns):
        def GetReturnsReport(
            self, request: rpb.ReturnsReportRequest, metadata: Metadata = ()
        ) -> Any:
            return self._answer("GetReturnsReport", report, request, metadata)

    returns = ReportingReturns()
    result = await build_schema().execute(
        """{ returnsReport(from: "2030-01-01T00:00:00+00:00", to: "2030-02-01T00:00:00+00:00") {
            returns byDestinationKind { kind returns handlingCostCents centralizedCostCents }
            handlingCostCents centralizedCostCents savingCents
            requestToRefundHoursP50 requestToRefundHoursP90
            receiptToRestockHoursP50 receiptToRestockHoursP90
            backlog { location { code kind } awaitingInspection oldestMinutes } awaitingInspection
        } }""",
        context_value=context_for(Role.BACKOFFICE, returns=returns),
    )
    assert result.errors is None, result.errors
    assert result.data == {
        "returnsReport": {
            "returns": 3,
            "byDestinationKind": [
                {
                    "kind": "RETURN_HUB",
                    "returns": 2,
                    "handlingCostCents": 1000,
                    "centralizedCostCents": 7000,
                },
                {
                    "kind": "DISTRIBUTION_CENTER",
                    "returns": 1,
                    "handlingCostCents": 3500,
                    "centralizedCostCents": 3500,
                },
            ],
            "handlingCostCents": 4500,
            "centralizedCostCents": 10500,
            "savingCents": 6000,
            "requestToRefundHoursP50": 1.5,
            "requestToRefundHoursP90": 3.0,
            "receiptToRestockHoursP50": 0.25,
            "receiptToRestockHoursP90": 0.5,
            "backlog": [
                {
                    "location": {"code": "HUB-1", "kind": "RETURN_HUB"},
                    "awaitingInspection": 2,
                    "oldestMinutes": 42,
                }
            ],
            "awaitingInspection": 2,
        }
    }
    assert returns.requests == [
        rpb.ReturnsReportRequest(
            **{"from": "2030-01-01T00:00:00+00:00", "to": "2030-02-01T00:00:00+00:00"}
        )
    ]
    await build_schema().execute(
        "{ returnsReport { returns } }", context_value=context_for(Role.ADMIN, returns=returns)
    )
    assert returns.requests[-1] == rpb.ReturnsReportRequest()
