"""The bounds every input keeps, and the walk that finds the first value out of them in a
request: over protobuf messages (the services' gRPC edge) and dataclasses (the gateway's inputs)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from oms.orders.v1 import orders_pb2 as pb
from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("web-eu", None),
        ("x" * 64, None),
        ("x" * 65, "at most 64 characters"),
        ("w\x00b", "no NUL characters"),
        ("Berlin\ud800", "text only (no lone surrogates)"),
        ("Zürich 🏔", None),
    ],
)
def test_text_is_bounded_and_is_text(text: str, problem: str | None) -> None:
    assert bounds.text_problem(text, 64) == problem


@pytest.mark.parametrize("code", ["", " ", "web eu", "w" * 65, "web\x00", "web\x01", "web\ud800"])
def test_a_code_is_printable_bounded_and_without_spaces(code: str) -> None:
    with pytest.raises(DomainError) as refused:
        bounds.require_code(code, "channel", "channel")
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, "channel")


def test_a_request_is_refused_on_its_first_value_out_of_bounds() -> None:
    fine = pb.PlaceOrderRequest(channel="web", lines=[pb.OrderLine(sku="TEE", quantity=1)])
    assert bounds.out_of_bounds(fine) is None
    long_sku = pb.PlaceOrderRequest(lines=[pb.OrderLine(sku="TEE"), pb.OrderLine(sku="x" * 5000)])
    nul_address = pb.PlaceOrderRequest(ship_to=pb.Address(line1="Main St\x00"))
    many_lines = pb.PlaceOrderRequest(lines=[pb.OrderLine(sku="TEE")] * 5001)
    many_serials = pb.ShipShipmentRequest(
        serials=[pb.ShipmentLine(sku="PHONE", serial_numbers=["S"] * 5001)]
    )
    found = [
        bounds.out_of_bounds(request)
        for request in (long_sku, nul_address, many_lines, many_serials)
    ]
    assert [(error.code, error.field) for error in found if error] == [
        (ErrorCode.INVALID_INPUT, "lines.1.sku"),
        (ErrorCode.INVALID_INPUT, "ship_to.line1"),
        (ErrorCode.INVALID_INPUT, "lines"),
        (ErrorCode.INVALID_INPUT, "serials.0.serial_numbers"),
    ]


@dataclass
class Line:
    sku: str


@dataclass
class Input:
    channel: str
    notes: str | None = None
    lines: list[Line] = field(default_factory=list)


def test_inputs_are_walked_with_each_fields_own_bound() -> None:
    def walk(value: Input) -> tuple[str | None, str] | None:
        found = bounds.out_of_bounds(
            value, "input", max_text=10, max_items=2, text_bounds={"notes": 20}
        )
        return (found.field, found.message) if found else None

    assert walk(Input("web", "n" * 20, [Line("TEE"), Line("CAP")])) is None
    assert walk(Input("w" * 11)) == ("input.channel", "must be at most 10 characters")
    assert walk(Input("web", "n" * 21)) == ("input.notes", "must be at most 20 characters")
    assert walk(Input("web", lines=[Line("TEE")] * 3)) == (
        "input.lines",
        "must hold at most 2 items",
    )
    assert walk(Input("web", lines=[Line("T\ud800")])) == (
        "input.lines.0.sku",
        "must be text only (no lone surrogates)",
    )
