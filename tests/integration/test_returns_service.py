"""The returns service over gRPC with the real orders and inventory services, on SQLite and
PostgreSQL: routing, eligibility, the hub's scan and inspection, dispositions, fraud, refunds
from the ledger, refurbishments settling, and the report."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeAlias, TypeVar, cast

import grpc
import nats
import pytest
from sqlmodel import select

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.returns_pb2 import (
    InspectedUnits,
    RefundIssued,
    ReturnInspected,
    ReturnRejected,
)
from oms.events.v1.workorders_pb2 import WorkOrderCompleted
from oms.inventory.v1 import inventory_pb2 as inv
from oms.orders.v1 import orders_pb2 as orders_pb
from oms.returns.v1 import returns_pb2 as pb
from oms.workorders.v1.workorders_pb2 import WorkOrderKind
from services.kernel.caller import Caller, Role
from services.kernel.errors import ErrorCode, from_rpc_error
from services.kernel.events import ensure_stream, stream_name, unpack
from services.kernel.outbox import subject_for
from services.kernel.proto_enums import enum_name, enum_value
from services.returns.store import RefundRow
from tests.integration.conftest import ReturnsUnderTest
from tests.support.refusals import refusal

if TYPE_CHECKING:  # the generic wrapper exists in the type stubs only
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

V = TypeVar("V", bound=int)
# A unit as the hub inspects it: its SKU, its grade and, when the SKU is serialized, its serial.
Unit: TypeAlias = tuple[str, str] | tuple[str, str, str]

BERLIN = orders_pb.Address(name="Ada", city="Berlin", latitude=52.52, longitude=13.40)
LISBON = pb.Coordinates(latitude=38.71, longitude=-9.13)
LOCATIONS = {
    # code: (kind, latitude, longitude)
    "DC-LIS": (inv.LOCATION_KIND_DISTRIBUTION_CENTER, 38.72, -9.14),
    "HUB-BER": (inv.LOCATION_KIND_RETURN_HUB, 52.50, 13.45),
    "STORE-BER": (inv.LOCATION_KIND_STORE, 52.51, 13.39),
}
# code: (weight in grams, serialized, unit price in cents)
SKUS = {"TEE": (200, False, 2500), "PHONE": (400, True, 60000), "MUG": (300, False, 1500)}
ORDERED = {"TEE": 3, "PHONE": 2, "MUG": 2}
SERIALS = ["SN-1", "SN-2"]


async def seed(system: ReturnsUnderTest) -> None:
    """A far DC holding all the stock, a hub and a store near the customer, three SKUs."""
    for code, (kind, lat, lon) in LOCATIONS.items():
        await system.inventory.UpsertLocation(
            inv.UpsertLocationRequest(code=code, name=code, kind=kind, latitude=lat, longitude=lon)
        )
    for sku, (grams, serialized, _price) in SKUS.items():
        await system.inventory.UpsertSku(
            inv.UpsertSkuRequest(
                code=sku, title=sku, unit_cost_cents=500, weight_grams=grams, serialized=serialized
            )
        )
        await system.inventory.AdjustStock(
            inv.AdjustStockRequest(sku=sku, location_code="DC-LIS", delta=50, reason="count")
        )
    await system.inventory.UpsertSku(
        inv.UpsertSkuRequest(code="CAP", title="CAP", unit_cost_cents=500, weight_grams=100)
    )


async def shipped_order(
    system: ReturnsUnderTest, external_id: str, channel: str = "web", serials: list[str] = SERIALS
) -> str:
    """Places the order and ships it, scanning the phones' serial numbers into the parcel."""
    order = await system.orders.PlaceOrder(
        orders_pb.PlaceOrderRequest(
            channel=channel,
            external_id=external_id,
            email="ada@example.com",
            ship_to=BERLIN,
            lines=[
                orders_pb.OrderLine(sku=sku, quantity=n, unit_price_cents=SKUS[sku][2])
                for sku, n in ORDERED.items()
            ],
        )
    )
    for shipment in order.shipments:
        await system.orders.ShipShipment(
            orders_pb.ShipShipmentRequest(
                shipment_id=shipment.id,
                tracking_number=f"TRK-{external_id}",
                serials=[orders_pb.ShipmentLine(sku="PHONE", quantity=2, serial_numbers=serials)],
            )
        )
    return order.id


def number(enum: _EnumTypeWrapper[V], name: str) -> V:
    """The enum's number for `name`; one the enum lacks for a name it does not have."""
    try:
        return enum_value(enum, name)
    except ValueError:
        # Not one of the enum's values, which a proto3 enum field carries all the same.
        return cast(V, 99)


def line_names(line: pb.ReturnLine | InspectedUnits) -> tuple[str, str]:
    """A line's grade and disposition by name ("" while not inspected)."""
    grade = enum_name(pb.Grade, line.grade) if line.grade else ""
    disposition = enum_name(pb.Disposition, line.disposition) if line.disposition else ""
    return grade, disposition


def ask(
    order_id: str, *lines: tuple[str, int], reason: str = "UNWANTED"
) -> pb.RequestReturnRequest:
    return pb.RequestReturnRequest(
        order_id=order_id,
        lines=[
            pb.RequestedLine(sku=sku, quantity=n, reason=number(pb.ReturnReason, reason))
            for sku, n in lines
        ],
    )


def inspection(return_id: str, *units: Unit, grams: int | None = None) -> pb.InspectReturnRequest:
    request = pb.InspectReturnRequest(
        return_id=return_id,
        lines=[
            pb.InspectedLine(
                sku=u[0],
                grade=number(pb.Grade, u[1]),
                serial_number=u[2] if len(u) > 2 else "",
            )
            for u in units
        ],
        notes="checked at the bench",
    )
    if grams is not None:
        request.measured_weight_grams = grams
    return request


async def received(
    system: ReturnsUnderTest, *lines: tuple[str, int], order_id: str = ""
) -> pb.Return:
    order_id = order_id or await shipped_order(system, f"o-{uuid.uuid4().hex[:8]}")
    requested = await system.stub.RequestReturn(ask(order_id, *lines))
    return await system.stub.ReceiveReturn(
        pb.ReceiveReturnRequest(return_id=requested.id, location_code=requested.destination_code)
    )


async def published(system: ReturnsUnderTest, event_type: str) -> list[EventEnvelope]:
    """Every event of the type the returns service has put on its stream so far."""
    client = await nats.connect(system.running.settings.nats_url)
    try:
        js = client.jetstream()
        state = (await js.stream_info(stream_name("returns"))).state
        subject = subject_for("returns", event_type)
        found = []
        for seq in range(state.first_seq, state.last_seq + 1):
            message = await js.get_msg(stream_name("returns"), seq)
            if message.subject == subject and message.data:
                found.append(EventEnvelope.FromString(message.data))
        return found
    finally:
        await client.close()


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


# Requesting


async def test_a_return_goes_to_the_hub_near_the_customer_for_a_fraction_of_the_central_cost(
    returns: ReturnsUnderTest,
) -> None:
    await seed(returns)
    order_id = await shipped_order(returns, "w-1")
    first = await returns.stub.RequestReturn(ask(order_id, ("TEE", 1), reason="SIZE_TOO_SMALL"))
    assert first.status == pb.RETURN_STATUS_REQUESTED
    assert (first.destination_code, first.destination_kind) == ("HUB-BER", "RETURN_HUB")
    # About $5 dropped off at the hub against about $35 shipped back to Lisbon.
    assert (first.estimated_cost_cents, first.centralized_cost_cents) == (500, 3500)
    assert [
        (x.sku, x.quantity, enum_name(pb.ReturnReason, x.reason), line_names(x)[0])
        for x in first.lines
    ] == [("TEE", 1, "SIZE_TOO_SMALL", "")]
    assert first.requested_at and not first.received_at and not first.HasField("refund")

    # A customer who moved to Lisbon sends it to the DC: the local and central routes are one.
    moved = ask(order_id, ("MUG", 1))
    moved.customer.CopyFrom(LISBON)
    central = await returns.stub.RequestReturn(moved)
    assert central.destination_code == "DC-LIS"
    assert central.estimated_cost_cents == central.centralized_cost_cents

    requested = await returns.stub.RequestReturn(ask(order_id, ("TEE", 2)))
    assert requested.status == pb.RETURN_STATUS_REQUESTED
    got = await returns.stub.GetReturns(pb.GetReturnsRequest(ids=[requested.id, "nope", first.id]))
    assert [r.id for r in got.returns] == [requested.id, first.id]


async def test_only_shipped_units_not_yet_returned_may_be_requested(
    returns: ReturnsUnderTest,
) -> None:
    await seed(returns)
    order_id = await shipped_order(returns, "w-2")
    stub = returns.stub
    await stub.RequestReturn(ask(order_id, ("TEE", 2)))
    cases = [
        (ask(order_id, ("TEE", 2)), (ErrorCode.INVALID_QUANTITY, "lines.0.quantity")),
        (
            ask(order_id, ("MUG", 1), ("TEE", 1), ("TEE", 1)),
            (ErrorCode.INVALID_QUANTITY, "lines.2.quantity"),
        ),
        (ask(order_id, ("TEE", 0)), (ErrorCode.INVALID_QUANTITY, "lines.0.quantity")),
        (ask(order_id), (ErrorCode.INVALID_QUANTITY, "lines")),
        (ask(order_id, ("CAP", 1)), (ErrorCode.INVALID_QUANTITY, "lines.0.quantity")),
        (ask(order_id, ("NOPE", 1)), (ErrorCode.NOT_FOUND, "lines.0.sku")),
        (ask(order_id, ("TEE", 1), reason="BORED"), (ErrorCode.INVALID_INPUT, "lines.0.reason")),
        (ask("no-such-order", ("TEE", 1)), (ErrorCode.NOT_FOUND, "order_id")),
    ]
    for request, expected in cases:
        assert await refusal(stub.RequestReturn(request)) == expected, request

    # An order not yet shipped has nothing to return.
    placed = await returns.orders.PlaceOrder(
        orders_pb.PlaceOrderRequest(
            channel="web",
            external_id="w-unshipped",
            email="ada@example.com",
            ship_to=BERLIN,
            lines=[orders_pb.OrderLine(sku="TEE", quantity=1, unit_price_cents=2500)],
        )
    )
    assert await refusal(stub.RequestReturn(ask(placed.id, ("TEE", 1)))) == (
        ErrorCode.INVALID_QUANTITY,
        "lines.0.quantity",
    )


async def test_two_requests_at_once_cannot_both_take_the_last_units(
    returns: ReturnsUnderTest,
) -> None:
    await seed(returns)
    order_id = await shipped_order(returns, "w-race")
    outcomes = await asyncio.gather(
        *(returns.stub.RequestReturn(ask(order_id, ("TEE", 1))) for _ in range(6)),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if isinstance(o, pb.Return)]
    assert len(accepted) == ORDERED["TEE"]
    for refused in outcomes:
        if not isinstance(refused, pb.Return):
            assert isinstance(refused, grpc.aio.AioRpcError)
            error = from_rpc_error(refused)
            assert error is not None and error.code is ErrorCode.INVALID_QUANTITY


@pytest.mark.parametrize(
    "returns_env", [{"OMS_RETURN_WINDOW_DAYS": "30", "OMS_RETURN_WINDOW_DAYS_FLASH_SALE": "0"}]
)
async def test_past_the_channels_return_window_a_return_is_refused(
    returns: ReturnsUnderTest,
) -> None:
    await seed(returns)
    flash = await shipped_order(returns, "f-1", channel="flash-sale")
    assert await refusal(returns.stub.RequestReturn(ask(flash, ("MUG", 1)))) == (
        ErrorCode.OUTSIDE_WINDOW,
        "lines.0.sku",
    )
    web = await shipped_order(returns, "w-3")
    assert (
        await returns.stub.RequestReturn(ask(web, ("MUG", 1)))
    ).status == pb.RETURN_STATUS_REQUESTED


# Receiving


async def test_the_hub_scans_a_parcel_once_at_its_destination_and_queues_it_oldest_first(
    returns: ReturnsUnderTest,
) -> None:
    await seed(returns)
    order_id = await shipped_order(returns, "w-4")
    stub = returns.stub
    first = await stub.RequestReturn(ask(order_id, ("TEE", 1)))
    second = await stub.RequestReturn(ask(order_id, ("MUG", 1)))
    scan = pb.ReceiveReturnRequest
    assert await refusal(
        stub.ReceiveReturn(scan(return_id=first.id, location_code="STORE-BER"))
    ) == (
        ErrorCode.WRONG_LOCATION,
        "location_code",
    )
    assert await refusal(stub.ReceiveReturn(scan(return_id=first.id, location_code="HUB-XXX"))) == (
        ErrorCode.NOT_FOUND,
        "location_code",
    )
    assert await refusal(stub.ReceiveReturn(scan(return_id="nope", location_code="HUB-BER"))) == (
        ErrorCode.NOT_FOUND,
        "return_id",
    )
    assert await refusal(stub.InspectReturn(inspection(first.id, ("TEE", "NEW")))) == (
        ErrorCode.INVALID_STATE,
        "return_id",
    )
    assert (await stub.HubQueue(pb.HubQueueRequest(location_code="HUB-BER"))).returns == []

    got = await stub.ReceiveReturn(scan(return_id=second.id, location_code="HUB-BER"))
    assert got.status == pb.RETURN_STATUS_RECEIVED and got.received_at
    await stub.ReceiveReturn(scan(return_id=first.id, location_code="HUB-BER"))
    assert await refusal(stub.ReceiveReturn(scan(return_id=first.id, location_code="HUB-BER"))) == (
        ErrorCode.INVALID_STATE,
        "return_id",
    )
    queue = await stub.HubQueue(pb.HubQueueRequest(location_code="HUB-BER"))
    assert [r.id for r in queue.returns] == [second.id, first.id]
    assert (await stub.HubQueue(pb.HubQueueRequest(location_code="STORE-BER"))).returns == []
    assert await refusal(stub.HubQueue(pb.HubQueueRequest(location_code="HUB-XXX"))) == (
        ErrorCode.NOT_FOUND,
        "location_code",
    )
    # Scanned once, told once: one ReturnReceived per parcel.
    await eventually(lambda: _count(returns, "ReturnReceived", 2), "the receipts on the stream")


async def _count(system: ReturnsUnderTest, event_type: str, expected: int) -> bool:
    return len(await published(system, event_type)) == expected


# Inspecting


async def test_each_grade_gets_its_disposition_and_the_paid_price_is_refunded_once(
    returns: ReturnsUnderTest,
) -> None:
    await seed(returns)
    order_id = await shipped_order(returns, "w-5")
    parcel = await received(returns, ("TEE", 3), ("PHONE", 2), ("MUG", 2), order_id=order_id)
    stub = returns.stub
    units: list[Unit] = [
        ("TEE", "NEW"),
        ("TEE", "LIKE_NEW"),
        ("TEE", "GOOD"),
        ("PHONE", "LIKE_NEW", "SN-1"),
        ("PHONE", "NEW", "SN-2"),
        ("MUG", "DAMAGED"),
        ("MUG", "UNSALEABLE"),
    ]
    grams = 3 * 200 + 2 * 400 + 2 * 300
    scanner_elsewhere = Caller("store-1", Role.SCANNER, "STORE-BER").metadata()
    assert await refusal(
        stub.InspectReturn(inspection(parcel.id, *units, grams=grams), metadata=scanner_elsewhere)
    ) == (ErrorCode.FORBIDDEN, "return_id")
    no_serial = inspection(parcel.id, *units[:3], ("PHONE", "NEW"), *units[4:], grams=grams)
    assert await refusal(stub.InspectReturn(no_serial)) == (
        ErrorCode.INVALID_INPUT,
        "lines.3.serial_number",
    )
    bad_grade = inspection(parcel.id, ("TEE", "MINT"), *units[1:], grams=grams)
    assert await refusal(stub.InspectReturn(bad_grade)) == (
        ErrorCode.INVALID_INPUT,
        "lines.0.grade",
    )

    at_the_hub = Caller("hub-1", Role.SCANNER, "HUB-BER").metadata()
    inspected = await stub.InspectReturn(
        inspection(parcel.id, *units, grams=grams), metadata=at_the_hub
    )
    assert inspected.status == pb.RETURN_STATUS_INSPECTED  # two units wait for refurbishment
    assert list(inspected.fraud_flags) == []
    assert [(x.sku, x.quantity, *line_names(x), x.settled_quantity) for x in inspected.lines] == [
        ("TEE", 1, "NEW", "RESTOCK", 1),
        ("TEE", 1, "LIKE_NEW", "RESTOCK", 1),
        ("TEE", 1, "GOOD", "REFURBISH", 0),
        ("PHONE", 1, "LIKE_NEW", "REFURBISH", 0),
        ("PHONE", 1, "NEW", "RESTOCK", 1),
        ("MUG", 1, "DAMAGED", "LIQUIDATE", 1),
        ("MUG", 1, "UNSALEABLE", "RECYCLE", 1),
    ]
    paid = 3 * 2500 + 2 * 60000 + 2 * 1500
    assert (inspected.refund.status, inspected.refund.amount_cents) == (
        pb.REFUND_STATUS_ISSUED,
        paid,
    )
    assert inspected.refund.provider == "ledger" and inspected.refund.issued_at
    assert inspected.inspected_at and inspected.measured_weight_grams == grams

    # Inspected once: a second inspection is refused and changes nothing.
    assert await refusal(stub.InspectReturn(inspection(parcel.id, *units, grams=grams))) == (
        ErrorCode.INVALID_STATE,
        "return_id",
    )
    await eventually(lambda: _count(returns, "ReturnInspected", 1), "the inspection on the stream")
    event = unpack((await published(returns, "ReturnInspected"))[0], ReturnInspected)
    assert (event.return_id, event.location_code) == (parcel.id, "HUB-BER")
    assert sorted((x.sku, *line_names(x), x.quantity) for x in event.lines) == sorted(
        (x.sku, *line_names(x), x.quantity) for x in inspected.lines
    )

    # The refund ledger holds one issued refund, told once.
    async with returns.running.db.snapshot() as session:
        rows = (await session.exec(select(RefundRow))).all()
    assert [(r.return_id, r.status, r.amount_cents, r.attempts) for r in rows] == [
        (parcel.id, "ISSUED", paid, 1)
    ]
    await eventually(lambda: _count(returns, "RefundIssued", 1), "the refund on the stream")
    issued = unpack((await published(returns, "RefundIssued"))[0], RefundIssued)
    assert (issued.return_id, issued.refund_id, issued.amount_cents, issued.provider) == (
        parcel.id,
        inspected.refund.id,
        paid,
        "ledger",
    )


async def test_a_return_closes_when_its_refurbishments_complete(returns: ReturnsUnderTest) -> None:
    await seed(returns)
    parcel = await received(returns, ("TEE", 2), ("PHONE", 1))
    inspected = await returns.stub.InspectReturn(
        inspection(parcel.id, ("TEE", "GOOD"), ("TEE", "NEW"), ("PHONE", "LIKE_NEW", "SN-2"))
    )
    assert inspected.status == pb.RETURN_STATUS_INSPECTED
    client = await nats.connect(returns.running.settings.nats_url)
    js = client.jetstream()
    await ensure_stream(js, "workorders")

    async def complete(sku: str, work_order_id: str, kind: str = "REFURBISH") -> None:
        payload = WorkOrderCompleted(
            work_order_id=work_order_id,
            kind=enum_value(WorkOrderKind, kind),
            sku=sku,
            quantity=1,
            location_code="HUB-BER",
            source_return_id=parcel.id,
        )
        envelope = EventEnvelope(
            event_id=work_order_id, event_type="WorkOrderCompleted", producer="workorders"
        )
        envelope.payload.Pack(payload)
        await js.publish(
            subject_for("workorders", "WorkOrderCompleted"),
            envelope.SerializeToString(),
            headers={"Nats-Msg-Id": work_order_id},
        )

    async def settled() -> list[tuple[str, str, int]]:
        found = await returns.stub.GetReturn(pb.GetReturnRequest(id=parcel.id))
        return [(x.sku, line_names(x)[1], x.settled_quantity) for x in found.lines]

    try:
        await complete("TEE", "wo-kit", kind="KIT_ASSEMBLY")  # not a refurbishment: passes
        await complete("TEE", "wo-1")
        await eventually(
            lambda: _holds(settled, ("TEE", "REFURBISH", 1)), "the tee's refurbishment to settle"
        )
        assert (await returns.stub.GetReturn(pb.GetReturnRequest(id=parcel.id))).status == (
            pb.RETURN_STATUS_INSPECTED
        )
        await complete("PHONE", "wo-2")
        await eventually(lambda: _closed(returns, parcel.id), "the return to close")
        assert await settled() == [
            ("TEE", "REFURBISH", 1),
            ("TEE", "RESTOCK", 1),
            ("PHONE", "REFURBISH", 1),
        ]
    finally:
        await client.close()


async def _holds(
    read: Callable[[], Awaitable[list[tuple[str, str, int]]]], line: tuple[str, str, int]
) -> bool:
    return line in await read()


async def _closed(system: ReturnsUnderTest, return_id: str) -> bool:
    found = await system.stub.GetReturn(pb.GetReturnRequest(id=return_id))
    return found.status == pb.RETURN_STATUS_CLOSED and bool(found.closed_at)


async def test_every_fraud_check_rejects_the_parcel_and_withholds_the_refund(
    returns: ReturnsUnderTest,
) -> None:
    await seed(returns)
    order_id = await shipped_order(returns, "w-6")
    light = await received(returns, ("TEE", 1), order_id=order_id)
    extra = await received(returns, ("MUG", 1), order_id=order_id)
    swapped = await received(returns, ("PHONE", 1), order_id=order_id)
    cases = [
        # A light parcel: 139 g where one tee weighs 200 g (refused below 70%: 140 g).
        (inspection(light.id, ("TEE", "NEW"), grams=139), "WEIGHT_MISMATCH", 2500),
        (inspection(extra.id, ("MUG", "NEW"), ("MUG", "NEW")), "QUANTITY_MISMATCH", 1500),
        # A phone came back, but not the one that left (SN-1 and SN-2 shipped).
        (inspection(swapped.id, ("PHONE", "NEW", "SN-FAKE")), "SERIAL_MISMATCH", 60000),
    ]
    for request, flag, withheld in cases:
        rejected = await returns.stub.InspectReturn(request)
        assert rejected.status == pb.RETURN_STATUS_REJECTED, flag
        assert list(rejected.fraud_flags) == [flag]
        assert (rejected.refund.status, rejected.refund.amount_cents) == (
            pb.REFUND_STATUS_WITHHELD,
            withheld,
        )
        assert all(line_names(x)[1] == "" and x.settled_quantity == 0 for x in rejected.lines)
        assert await refusal(returns.stub.InspectReturn(request)) == (
            ErrorCode.INVALID_STATE,
            "return_id",
        )
    # A borderline parcel (140 g of 200 g) is verified.
    fine = await received(returns, ("TEE", 1), order_id=order_id)
    ok = await returns.stub.InspectReturn(inspection(fine.id, ("TEE", "NEW"), grams=140))
    assert ok.status == pb.RETURN_STATUS_CLOSED and ok.refund.status == pb.REFUND_STATUS_ISSUED

    await eventually(lambda: _count(returns, "ReturnRejected", 3), "the rejections on the stream")
    events = [unpack(e, ReturnRejected) for e in await published(returns, "ReturnRejected")]
    assert sorted((e.return_id, tuple(e.fraud_flags)) for e in events) == sorted(
        [
            (light.id, ("WEIGHT_MISMATCH",)),
            (extra.id, ("QUANTITY_MISMATCH",)),
            (swapped.id, ("SERIAL_MISMATCH",)),
        ]
    )
    # Only the verified one is paid: once its refund is announced, it is the only one.
    await eventually(lambda: _count(returns, "RefundIssued", 1), "the verified refund announced")
    issued = [unpack(e, RefundIssued) for e in await published(returns, "RefundIssued")]
    assert [e.refund_id for e in issued] == [ok.refund.id]
    # Units of a rejected return are not held by it: the customer may send them again.
    again = await returns.stub.RequestReturn(ask(order_id, ("PHONE", 2)))
    assert again.status == pb.RETURN_STATUS_REQUESTED


# Reporting


async def test_the_report_shows_what_local_returns_save_how_fast_they_refund_and_the_backlog(
    returns: ReturnsUnderTest,
) -> None:
    await seed(returns)
    order_id = await shipped_order(returns, "w-7")
    done = await received(returns, ("TEE", 2), order_id=order_id)
    await returns.stub.InspectReturn(inspection(done.id, ("TEE", "NEW"), ("TEE", "GOOD")))
    waiting = await received(returns, ("MUG", 1), order_id=order_id)
    far = ask(order_id, ("PHONE", 1))
    far.customer.CopyFrom(LISBON)
    central = await returns.stub.RequestReturn(far)

    report = await returns.stub.GetReturnsReport(pb.ReturnsReportRequest())
    assert report.returns == 3
    kinds = {
        k.kind: (k.returns, k.handling_cost_cents, k.centralized_cost_cents)
        for k in report.by_destination_kind
    }
    assert kinds == {
        "RETURN_HUB": (
            2,
            done.estimated_cost_cents + waiting.estimated_cost_cents,
            done.centralized_cost_cents + waiting.centralized_cost_cents,
        ),
        "DISTRIBUTION_CENTER": (1, central.estimated_cost_cents, central.centralized_cost_cents),
    }
    assert report.saving_cents == report.centralized_cost_cents - report.handling_cost_cents > 0
    # One refund, one restocked unit, both within the test's few seconds.
    assert 0 < report.request_to_refund_hours_p50 == report.request_to_refund_hours_p90 < 0.1
    assert 0 < report.receipt_to_restock_hours_p50 == report.receipt_to_restock_hours_p90 < 0.1
    assert [(b.location_code, b.awaiting_inspection, b.oldest_minutes) for b in report.backlog] == [
        ("HUB-BER", 1, 0)
    ]
    assert report.awaiting_inspection == 1
    assert waiting.id in {
        r.id
        for r in (await returns.stub.HubQueue(pb.HubQueueRequest(location_code="HUB-BER"))).returns
    }

    later = await returns.stub.GetReturnsReport(pb.ReturnsReportRequest(to="2000-01-01T00:00:00Z"))
    assert (later.returns, later.saving_cents, later.awaiting_inspection) == (0, 0, 1)
    assert await refusal(returns.stub.GetReturnsReport(pb.ReturnsReportRequest(to="soon"))) == (
        ErrorCode.INVALID_INPUT,
        "to",
    )


# The loop with inventory


async def test_inventory_counts_returned_units_at_the_hub_from_the_returns_events(
    returns: ReturnsUnderTest,
) -> None:
    await seed(returns)
    parcel = await received(returns, ("TEE", 3))

    async def hub_level() -> tuple[int, int]:
        levels = await returns.inventory.GetStockLevels(
            inv.GetStockLevelsRequest(skus=["TEE"], location_codes=["HUB-BER"])
        )
        return next(((x.on_hand, x.pending_inspection) for x in levels.levels), (0, 0))

    async def level_is(expected: tuple[int, int]) -> bool:
        return await hub_level() == expected

    await eventually(lambda: level_is((0, 3)), "three tees pending inspection at the hub")
    await returns.stub.InspectReturn(
        inspection(parcel.id, ("TEE", "NEW"), ("TEE", "LIKE_NEW"), ("TEE", "DAMAGED"))
    )
    # Two restocked and sellable at the hub the same day; the damaged one leaves the pile.
    await eventually(lambda: level_is((2, 0)), "two tees restocked at the hub")
