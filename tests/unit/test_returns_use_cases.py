"""The returns' use cases over the in-memory store, built by the service's own bootstrap: where a
return goes and what may be returned, the hub's scan and inspection, dispositions, fraud,
refunds paid once through failures, refurbishments settling, the hub queue and the report."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.returns_pb2 import (
    InspectedUnits,
    RefundIssued,
    ReturnInspected,
    ReturnReceived,
    ReturnRejected,
    ReturnRequested,
    ReturnUnits,
)
from oms.events.v1.workorders_pb2 import WorkOrderCompleted
from oms.returns.v1 import returns_pb2 as pb
from oms.workorders.v1.workorders_pb2 import WorkOrderKind
from services.kernel import paging
from services.kernel.caller import INTERNAL, Caller, Role
from services.kernel.errors import ErrorCode
from services.kernel.events import apply_event
from services.kernel.proto_enums import enum_value
from services.returns.bootstrap import bootstrap
from services.returns.domain.model import (
    CatalogueSku,
    Grade,
    InspectedUnit,
    Inspection,
    NewReturn,
    RefundStatus,
    RequestedLine,
    Return,
    ReturnLineView,
    ReturnSite,
    ReturnStatus,
    ShippedOrder,
    ShippedParcel,
)
from services.returns.domain.policy import ReturnsPolicy
from services.returns.domain.rules import ReturnCostModel
from services.returns.events import subscriptions
from services.returns.refunds import IssueOutcome, RetryPolicy
from services.returns.service import ReturnsService
from services.returns.settings import ReturnsSettings
from tests.fakes.returns import (
    Answer,
    FakeClock,
    FakeInventory,
    FakeOrders,
    FakeRefundProvider,
    ReturnsUnitOfWork,
    memory_uow,
)
from tests.support.refusals import refused

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BERLIN = (52.52, 13.40)
LISBON = (38.71, -9.13)
HUB_BER = ReturnSite("HUB-BER", "RETURN_HUB", 52.50, 13.45)
DC_LIS = ReturnSite("DC-LIS", "DISTRIBUTION_CENTER", 38.72, -9.14)
# (weight in grams, serialized, unit price in cents) per SKU.
SKUS = {"TEE": (200, False, 2500), "PHONE": (400, True, 60000), "MUG": (300, False, 1500)}
SHIPPED = {"TEE": 3, "PHONE": 2, "MUG": 2}
SERIALS = ("SN-1", "SN-2")
# Everything shipped, as the hub's scale sees it.
FULL_WEIGHT = 3 * 200 + 2 * 400 + 2 * 300


def shipped_order(order_id: str, channel: str = "web", shipped_at: datetime = NOW) -> ShippedOrder:
    """Ada's order of three tees, two phones and two mugs, all shipped in one parcel."""
    return ShippedOrder(
        id=order_id,
        channel=channel,
        ship_to=BERLIN,
        placed_by="ada",
        lines=tuple((sku, n, SKUS[sku][2]) for sku, n in SHIPPED.items()),
        parcels=(
            ShippedParcel(
                shipped_at,
                tuple((sku, n, SERIALS if sku == "PHONE" else ()) for sku, n in SHIPPED.items()),
            ),
        ),
    )


@dataclass
class Returns:
    """The service under test with every fake it was built with."""

    service: ReturnsService
    uow: ReturnsUnitOfWork
    orders: FakeOrders
    inventory: FakeInventory
    provider: FakeRefundProvider
    clock: FakeClock

    async def request(
        self,
        *lines: tuple[str, int],
        order_id: str = "o-1",
        reason: str = "UNWANTED",
        customer: tuple[float, float] | None = None,
        requested_by: str = "",
    ) -> Return:
        caller = Caller(requested_by, Role.STOREFRONT, channels=("web",)) if requested_by else None
        new = new_return(order_id, *lines, reason=reason, customer=customer)
        return await self.service.request(new, caller or INTERNAL)

    async def received(self, *lines: tuple[str, int], order_id: str = "o-1") -> Return:
        requested = await self.request(*lines, order_id=order_id)
        return await self.service.receive(requested.id, requested.destination_code)

    async def inspect(
        self,
        return_id: str,
        *units: tuple[str, ...],
        grams: int | None = None,
        at: str = "",
    ) -> Return:
        return await self.service.inspect(inspection(return_id, *units, grams=grams, at=at))


def returns_service(*answers: Answer, settings: ReturnsSettings | None = None) -> Returns:
    """The service two days after Ada's orders o-1 and o-2 shipped, near the Berlin hub; the
    refund provider gives `answers`, then pays."""
    uow = memory_uow()
    clock = FakeClock(NOW + timedelta(days=2))
    orders = FakeOrders(uow, shipped_order("o-1"), shipped_order("o-2"))
    inventory = FakeInventory(
        uow,
        [HUB_BER, DC_LIS],
        [CatalogueSku(sku, grams, serialized) for sku, (grams, serialized, _) in SKUS.items()]
        + [CatalogueSku("CAP", 100, False)],
        other_locations=["STORE-BER"],
    )
    provider = FakeRefundProvider(uow, *answers)
    service = bootstrap(uow, orders, inventory, provider, settings, clock)
    return Returns(service, uow, orders, inventory, provider, clock)


def new_return(
    order_id: str,
    *lines: tuple[str, int],
    reason: str = "UNWANTED",
    customer: tuple[float, float] | None = None,
    idempotency_key: str = "",
) -> NewReturn:
    requested = tuple(RequestedLine(sku, n, reason) for sku, n in lines)
    return NewReturn(order_id, requested, customer, idempotency_key)


def inspection(
    return_id: str,
    *units: tuple[str, ...],
    grams: int | None = None,
    at: str = "",
) -> Inspection:
    return Inspection(
        return_id,
        tuple(InspectedUnit(u[0], Grade(u[1]), u[2] if len(u) > 2 else "") for u in units),
        measured_weight_grams=grams,
        notes="checked at the bench",
        acting_location_code=at,
    )


def lines(r: Return) -> list[tuple[str, int, str, str, int]]:
    return [(x.sku, x.quantity, x.grade, x.disposition, x.settled_quantity) for x in r.lines]


# Requesting


async def test_a_return_goes_to_the_hub_within_reach_for_a_fraction_of_the_central_cost() -> None:
    system = returns_service()
    first = await system.request(("TEE", 1), reason="SIZE_TOO_SMALL")
    assert (first.status, first.destination_code, first.destination_kind) == (
        ReturnStatus.REQUESTED,
        "HUB-BER",
        "RETURN_HUB",
    )
    # Dropped off at the hub (labour only) against a label to Lisbon and the DC's labour.
    assert (first.estimated_cost_cents, first.centralized_cost_cents) == (500, 3500)
    assert first.lines == (ReturnLineView("TEE", 1, "SIZE_TOO_SMALL"),)
    assert (first.order_id, first.placed_by, first.requested_at) == ("o-1", "ada", system.clock.now)
    assert first.refund is None and first.received_at is None
    assert system.uow.published(ReturnRequested) == [
        ReturnRequested(
            return_id=first.id,
            order_id="o-1",
            destination_code="HUB-BER",
            lines=[ReturnUnits(sku="TEE", quantity=1)],
        )
    ]
    assert await system.service.get(first.id) == first


async def test_beyond_the_hubs_reach_the_return_goes_to_the_distribution_centre() -> None:
    system = returns_service()
    # A customer who moved to Lisbon: the DC is near, and the local and central routes are one.
    moved = await system.request(("MUG", 2), customer=LISBON)
    assert (moved.destination_code, moved.estimated_cost_cents) == ("DC-LIS", 2000)
    assert moved.centralized_cost_cents == 2000

    # A hub 4 km away is out of a reach of 1 km: the parcel travels to Lisbon.
    policy = ReturnsPolicy(cost_model=ReturnCostModel(local_reach_km=1))
    near = returns_service(settings=ReturnsSettings(policy=policy))
    far = await near.request(("TEE", 1))
    assert (far.destination_code, far.estimated_cost_cents, far.centralized_cost_cents) == (
        "DC-LIS",
        3500,
        3500,
    )


async def test_only_shipped_units_not_yet_requested_may_be_returned() -> None:
    system = returns_service()
    await system.request(("TEE", 2))
    cases = [
        (new_return("o-1", ("TEE", 2)), (ErrorCode.INVALID_QUANTITY, "lines.0.quantity")),
        (
            new_return("o-1", ("MUG", 1), ("TEE", 1), ("TEE", 1)),
            (ErrorCode.INVALID_QUANTITY, "lines.2.quantity"),
        ),
        (new_return("o-1", ("PHONE", 3)), (ErrorCode.INVALID_QUANTITY, "lines.0.quantity")),
        (new_return("o-1", ("TEE", 0)), (ErrorCode.INVALID_QUANTITY, "lines.0.quantity")),
        (new_return("o-1"), (ErrorCode.INVALID_QUANTITY, "lines")),
        # In the catalogue, never shipped.
        (new_return("o-1", ("CAP", 1)), (ErrorCode.INVALID_QUANTITY, "lines.0.quantity")),
        (new_return("o-1", ("NOPE", 1)), (ErrorCode.NOT_FOUND, "lines.0.sku")),
        (
            new_return("o-1", ("TEE", 1), reason="BORED"),
            (ErrorCode.INVALID_INPUT, "lines.0.reason"),
        ),
        (new_return("no-such-order", ("TEE", 1)), (ErrorCode.NOT_FOUND, "order_id")),
        (new_return(" ", ("TEE", 1)), (ErrorCode.INVALID_INPUT, "order_id")),
    ]
    for request, expected in cases:
        assert await refused(system.service.request(request)) == expected, request
    # Refusals store and announce nothing; the last tee is still there to return.
    assert len(system.uow.data.returns) == 1
    assert len(system.uow.published(ReturnRequested)) == 1
    assert (await system.request(("TEE", 1))).status is ReturnStatus.REQUESTED
    # Another order's units are its own.
    assert (await system.request(("TEE", 3), order_id="o-2")).status is ReturnStatus.REQUESTED


async def test_someone_elses_order_is_answered_as_an_unknown_one() -> None:
    system = returns_service()
    assert await refused(system.request(("TEE", 1), requested_by="eve")) == (
        ErrorCode.NOT_FOUND,
        "order_id",
    )
    assert system.uow.data.returns == {}
    mine = await system.request(("TEE", 1), requested_by="ada")
    assert mine.placed_by == "ada"


@pytest.mark.parametrize(
    ("channel", "days_after_shipping", "accepted"),
    [
        ("web", timedelta(days=30), True),
        ("web", timedelta(days=30, seconds=1), False),
        ("flash-sale", timedelta(days=1), True),
        ("flash-sale", timedelta(days=1, seconds=1), False),
    ],
)
async def test_the_return_window_runs_from_the_last_parcel_per_channel(
    channel: str, days_after_shipping: timedelta, accepted: bool
) -> None:
    policy = ReturnsPolicy(window_days=30, window_days_by_channel={"FLASH_SALE": 1})
    system = returns_service(settings=ReturnsSettings(policy=policy))
    system.orders.orders["o-3"] = shipped_order("o-3", channel=channel)
    system.clock.now = NOW + days_after_shipping
    request = system.request(("MUG", 1), order_id="o-3")
    if accepted:
        assert (await request).status is ReturnStatus.REQUESTED
    else:
        assert await refused(request) == (ErrorCode.OUTSIDE_WINDOW, "lines.0.sku")


# Receiving


async def test_the_hub_scans_a_parcel_once_and_only_at_its_destination() -> None:
    system = returns_service()
    parcel = await system.request(("TEE", 2), ("MUG", 1))
    receive = system.service.receive
    assert await refused(receive(parcel.id, "STORE-BER")) == (
        ErrorCode.WRONG_LOCATION,
        "location_code",
    )
    assert await refused(receive(parcel.id, "HUB-XXX")) == (ErrorCode.NOT_FOUND, "location_code")
    assert await refused(receive(parcel.id, " ")) == (ErrorCode.INVALID_INPUT, "location_code")
    assert await refused(receive("nope", "HUB-BER")) == (ErrorCode.NOT_FOUND, "return_id")
    # Inventory away: the refusal stands without the finer code.
    system.inventory.away = True
    assert await refused(receive(parcel.id, "HUB-XXX")) == (
        ErrorCode.WRONG_LOCATION,
        "location_code",
    )
    assert await refused(system.inspect(parcel.id, ("TEE", "NEW"))) == (
        ErrorCode.INVALID_STATE,
        "return_id",
    )
    assert system.uow.published(ReturnReceived) == []

    system.clock.advance(timedelta(hours=5))
    got = await receive(parcel.id, "HUB-BER")
    assert (got.status, got.received_at) == (
        ReturnStatus.RECEIVED,
        NOW + timedelta(days=2, hours=5),
    )
    assert await refused(receive(parcel.id, "HUB-BER")) == (ErrorCode.INVALID_STATE, "return_id")
    # Scanned once, told once.
    assert system.uow.published(ReturnReceived) == [
        ReturnReceived(
            return_id=parcel.id,
            location_code="HUB-BER",
            lines=[ReturnUnits(sku="TEE", quantity=2), ReturnUnits(sku="MUG", quantity=1)],
        )
    ]


# Inspecting

EVERY_UNIT = [
    ("TEE", "NEW"),
    ("TEE", "LIKE_NEW"),
    ("TEE", "GOOD"),
    ("PHONE", "LIKE_NEW", "SN-1"),
    ("PHONE", "NEW", "SN-2"),
    ("MUG", "DAMAGED"),
    ("MUG", "UNSALEABLE"),
]


async def test_the_inspection_is_refused_until_the_scan_is_right() -> None:
    system = returns_service()
    parcel = await system.received(("TEE", 3), ("PHONE", 2), ("MUG", 2))
    cases = [
        (
            inspection(parcel.id, *EVERY_UNIT, at="STORE-BER"),
            (ErrorCode.FORBIDDEN, "return_id"),
        ),
        (
            inspection(parcel.id, *EVERY_UNIT[:3], ("PHONE", "NEW"), *EVERY_UNIT[4:]),
            (ErrorCode.INVALID_INPUT, "lines.3.serial_number"),
        ),
        (
            inspection(parcel.id, *EVERY_UNIT, grams=-1),
            (ErrorCode.INVALID_INPUT, "measured_weight_grams"),
        ),
        (inspection("nope", *EVERY_UNIT), (ErrorCode.NOT_FOUND, "return_id")),
    ]
    for request, expected in cases:
        assert await refused(system.service.inspect(request)) == expected
    # Nothing was kept of the refused inspections.
    assert (await system.service.get(parcel.id)).status is ReturnStatus.RECEIVED
    assert system.uow.data.refunds == {} and system.provider.calls == []
    assert system.uow.published(ReturnInspected) == system.uow.published(ReturnRejected) == []


async def test_each_grade_gets_its_disposition_and_the_paid_price_is_refunded_once() -> None:
    system = returns_service()
    parcel = await system.received(("TEE", 3), ("PHONE", 2), ("MUG", 2))
    system.clock.advance(timedelta(hours=2))
    inspected = await system.inspect(parcel.id, *EVERY_UNIT, grams=FULL_WEIGHT, at="HUB-BER")

    assert inspected.status is ReturnStatus.INSPECTED  # two units wait for refurbishment
    assert inspected.fraud_flags == () and inspected.closed_at is None
    assert lines(inspected) == [
        ("TEE", 1, "NEW", "RESTOCK", 1),
        ("TEE", 1, "LIKE_NEW", "RESTOCK", 1),
        ("TEE", 1, "GOOD", "REFURBISH", 0),
        ("PHONE", 1, "LIKE_NEW", "REFURBISH", 0),  # serialized: wiped and tested first
        ("PHONE", 1, "NEW", "RESTOCK", 1),
        ("MUG", 1, "DAMAGED", "LIQUIDATE", 1),
        ("MUG", 1, "UNSALEABLE", "RECYCLE", 1),
    ]
    assert (inspected.inspected_at, inspected.measured_weight_grams, inspected.notes) == (
        system.clock.now,
        FULL_WEIGHT,
        "checked at the bench",
    )
    paid = 3 * 2500 + 2 * 60000 + 2 * 1500
    refund = inspected.refund
    assert refund is not None
    assert (refund.status, refund.amount_cents, refund.currency, refund.provider) == (
        RefundStatus.ISSUED,
        paid,
        "EUR",
        "fake",
    )
    assert refund.issued_at == system.clock.now
    [payment] = system.provider.calls
    assert (payment.refund_id, payment.return_id, payment.order_id, payment.amount_cents) == (
        refund.id,
        parcel.id,
        "o-1",
        paid,
    )

    def totals(sku: str, grade: str, disposition: str, n: int) -> InspectedUnits:
        return InspectedUnits(
            sku=sku,
            quantity=n,
            grade=enum_value(pb.Grade, grade),
            disposition=enum_value(pb.Disposition, disposition),
        )

    assert system.uow.published(ReturnInspected) == [
        ReturnInspected(
            return_id=parcel.id,
            location_code="HUB-BER",
            lines=[
                totals("TEE", "NEW", "RESTOCK", 1),
                totals("TEE", "LIKE_NEW", "RESTOCK", 1),
                totals("TEE", "GOOD", "REFURBISH", 1),
                totals("PHONE", "LIKE_NEW", "REFURBISH", 1),
                totals("PHONE", "NEW", "RESTOCK", 1),
                totals("MUG", "DAMAGED", "LIQUIDATE", 1),
                totals("MUG", "UNSALEABLE", "RECYCLE", 1),
            ],
        )
    ]
    assert system.uow.published(RefundIssued) == [
        RefundIssued(return_id=parcel.id, refund_id=refund.id, amount_cents=paid, provider="fake")
    ]

    # Inspected once: a second inspection is refused and changes nothing.
    assert await refused(system.inspect(parcel.id, *EVERY_UNIT)) == (
        ErrorCode.INVALID_STATE,
        "return_id",
    )
    assert await system.service.refunds.issue_due() == 0
    assert system.provider.payments(refund.id) == 1 and len(system.provider.calls) == 1
    assert (
        len(system.uow.published(ReturnInspected)) == len(system.uow.published(RefundIssued)) == 1
    )


@pytest.mark.parametrize(
    ("unit", "disposition", "status"),
    [
        (("TEE", "NEW"), "RESTOCK", ReturnStatus.CLOSED),
        (("TEE", "LIKE_NEW"), "RESTOCK", ReturnStatus.CLOSED),
        (("TEE", "GOOD"), "REFURBISH", ReturnStatus.INSPECTED),
        (("TEE", "DAMAGED"), "LIQUIDATE", ReturnStatus.CLOSED),
        (("TEE", "UNSALEABLE"), "RECYCLE", ReturnStatus.CLOSED),
        (("PHONE", "NEW", "SN-2"), "RESTOCK", ReturnStatus.CLOSED),
        (("PHONE", "LIKE_NEW", "SN-2"), "REFURBISH", ReturnStatus.INSPECTED),
        (("PHONE", "GOOD", "SN-2"), "REFURBISH", ReturnStatus.INSPECTED),
    ],
)
async def test_a_grade_decides_the_disposition_and_whether_the_return_closes_at_once(
    unit: tuple[str, ...], disposition: str, status: ReturnStatus
) -> None:
    system = returns_service()
    parcel = await system.received((unit[0], 1))
    inspected = await system.inspect(parcel.id, unit)
    settled = 0 if disposition == "REFURBISH" else 1
    assert lines(inspected) == [(unit[0], 1, unit[1], disposition, settled)]
    assert inspected.status is status
    assert inspected.closed_at == (system.clock.now if status is ReturnStatus.CLOSED else None)
    assert inspected.refund is not None and inspected.refund.amount_cents == SKUS[unit[0]][2]


@pytest.mark.parametrize(
    ("requested", "units", "grams", "flag", "withheld"),
    [
        # 139 g where one tee weighs 200 g: refused below 70% (140 g).
        (("TEE", 1), [("TEE", "NEW")], 139, "WEIGHT_MISMATCH", 2500),
        (("MUG", 1), [("MUG", "NEW"), ("MUG", "NEW")], None, "QUANTITY_MISMATCH", 1500),
        # The empty box: fewer units than asked for.
        (("TEE", 2), [("TEE", "NEW")], None, "QUANTITY_MISMATCH", 5000),
        # A phone came back, but not one that left (SN-1 and SN-2 shipped).
        (("PHONE", 1), [("PHONE", "NEW", "SN-FAKE")], None, "SERIAL_MISMATCH", 60000),
        (
            ("PHONE", 2),
            [("PHONE", "NEW", "SN-1"), ("PHONE", "NEW", "SN-1")],
            None,
            "SERIAL_MISMATCH",
            120000,
        ),
    ],
)
async def test_each_fraud_check_rejects_the_parcel_and_withholds_the_refund(
    requested: tuple[str, int],
    units: list[tuple[str, ...]],
    grams: int | None,
    flag: str,
    withheld: int,
) -> None:
    system = returns_service()
    parcel = await system.received(requested)
    rejected = await system.inspect(parcel.id, *units, grams=grams)
    assert (rejected.status, rejected.fraud_flags) == (ReturnStatus.REJECTED, (flag,))
    assert rejected.refund is not None
    assert (rejected.refund.status, rejected.refund.amount_cents) == (
        RefundStatus.WITHHELD,
        withheld,
    )
    assert lines(rejected) == [(requested[0], requested[1], "", "", 0)]
    assert system.uow.published(ReturnRejected) == [
        ReturnRejected(
            return_id=parcel.id,
            location_code="HUB-BER",
            lines=[ReturnUnits(sku=requested[0], quantity=requested[1])],
            fraud_flags=[flag],
        )
    ]
    assert system.uow.published(ReturnInspected) == []
    # A withheld refund is never paid, however long the worker runs.
    system.clock.advance(timedelta(days=1))
    assert await system.service.refunds.issue_due() == 0
    assert system.provider.calls == [] and system.uow.published(RefundIssued) == []
    assert await refused(system.inspect(parcel.id, *units, grams=grams)) == (
        ErrorCode.INVALID_STATE,
        "return_id",
    )
    # The units of a rejected return are not held by it: the customer may send them again.
    again = await system.request(requested)
    assert again.status is ReturnStatus.REQUESTED


async def test_a_parcel_at_the_weight_tolerance_is_verified() -> None:
    system = returns_service()
    parcel = await system.received(("TEE", 1))
    verified = await system.inspect(parcel.id, ("TEE", "NEW"), grams=140)
    assert (verified.status, verified.fraud_flags) == (ReturnStatus.CLOSED, ())
    assert verified.refund is not None and verified.refund.status is RefundStatus.ISSUED


# Refunds


async def test_a_provider_failure_leaves_the_refund_pending_and_the_worker_pays_it_once() -> None:
    system = returns_service(IssueOutcome.RETRY, ConnectionResetError("platform hung up"))
    refunds = system.service.refunds
    parcel = await system.received(("TEE", 2))
    answer = await system.inspect(parcel.id, ("TEE", "NEW"), ("TEE", "NEW"))
    assert answer.refund is not None
    refund_id = answer.refund.id
    assert answer.refund.status is RefundStatus.PENDING and system.provider.paid == []
    # Retried 2 s after the first failure, then 4 s after the second (the default backoff).
    assert await refunds.issue_due() == 0
    system.clock.advance(timedelta(seconds=2))
    assert await refunds.issue_due() == 0  # the adapter raised: a retry, not a lost refund
    assert system.uow.refund(refund_id).last_error == "ConnectionResetError: platform hung up"
    system.clock.advance(timedelta(seconds=3))
    assert await refunds.issue_due() == 0
    system.clock.advance(timedelta(seconds=1))
    assert await refunds.issue_due() == 1

    assert [c.refund_id for c in system.provider.calls] == [refund_id] * 3
    assert system.provider.payments(refund_id) == 1
    stored = system.uow.refund(refund_id)
    assert (stored.attempts, stored.next_attempt_at, stored.last_error) == (3, None, "")
    issued = (await system.service.get(parcel.id)).refund
    assert issued is not None and (issued.status, issued.issued_at) == (
        RefundStatus.ISSUED,
        system.clock.now,
    )
    assert system.uow.published(RefundIssued) == [
        RefundIssued(return_id=parcel.id, refund_id=refund_id, amount_cents=5000, provider="fake")
    ]
    system.clock.advance(timedelta(hours=1))
    assert await refunds.issue_due() == 0 and len(system.provider.calls) == 3


async def test_the_retry_policy_spaces_attempts_up_to_its_longest_delay() -> None:
    retry = RetryPolicy(base_seconds=10, max_seconds=15, lease=timedelta(seconds=5))
    settings = ReturnsSettings(retry=retry)
    system = returns_service(*[IssueOutcome.RETRY] * 3, settings=settings)
    parcel = await system.received(("TEE", 1))
    answer = await system.inspect(parcel.id, ("TEE", "NEW"))
    assert answer.refund is not None
    stored = system.uow.refund(answer.refund.id)
    start = system.clock.now
    assert (stored.attempts, stored.next_attempt_at) == (1, start + timedelta(seconds=10))
    system.clock.advance(timedelta(seconds=10))
    assert await system.service.refunds.issue_due() == 0
    # 20 s by doubling, capped at 15 s.
    assert system.uow.refund(answer.refund.id).next_attempt_at == system.clock.now + timedelta(
        seconds=15
    )
    system.clock.advance(timedelta(seconds=15))
    assert await system.service.refunds.issue_due() == 0
    system.clock.advance(timedelta(seconds=15))
    assert await system.service.refunds.issue_due() == 1
    assert system.uow.refund(answer.refund.id).attempts == 4


async def test_a_refusal_by_the_platform_is_not_retried() -> None:
    system = returns_service(IssueOutcome.GIVE_UP)
    parcel = await system.received(("TEE", 1))
    answer = await system.inspect(parcel.id, ("TEE", "NEW"))
    assert answer.refund is not None and answer.refund.status is RefundStatus.PENDING
    system.clock.advance(timedelta(days=1))
    assert await system.service.refunds.issue_due() == 0
    assert len(system.provider.calls) == 1 and system.provider.paid == []
    stored = system.uow.refund(answer.refund.id)
    # Left for an operator: pending, never tried again, with the platform's answer.
    assert (stored.refund.status, stored.next_attempt_at, stored.last_error) == (
        RefundStatus.PENDING,
        None,
        "answered GIVE_UP",
    )
    assert system.uow.published(RefundIssued) == []


async def test_the_worker_leaves_a_refund_to_the_attempt_holding_its_lease() -> None:
    system = returns_service()
    refunds = system.service.refunds
    worker_paid: list[int] = []

    async def worker_runs() -> None:
        worker_paid.append(await refunds.issue_due())

    parcel = await system.received(("TEE", 1))
    # Between the inspection's commit and its own first attempt, and during that attempt.
    system.uow.after_next_commit.append(worker_runs)
    system.provider.meanwhile = worker_runs
    answer = await system.inspect(parcel.id, ("TEE", "NEW"))
    assert worker_paid == [0, 0]
    assert answer.refund is not None and answer.refund.status is RefundStatus.ISSUED
    assert len(system.provider.calls) == 1 and system.provider.payments(answer.refund.id) == 1
    assert system.uow.refund(answer.refund.id).attempts == 1  # the inspection's own
    assert len(system.uow.published(RefundIssued)) == 1


async def test_a_lease_running_out_mid_call_sends_the_same_key_and_announces_once() -> None:
    system = returns_service()
    refunds = system.service.refunds

    async def the_call_outlives_its_lease() -> None:
        system.clock.advance(timedelta(seconds=31))
        assert await refunds.issue_due() == 1

    system.provider.meanwhile = the_call_outlives_its_lease
    parcel = await system.received(("TEE", 1))
    answer = await system.inspect(parcel.id, ("TEE", "NEW"))
    assert answer.refund is not None and answer.refund.status is RefundStatus.ISSUED
    # Two calls for one refund, both keyed by its id: the platform pays a key once.
    calls = system.provider.calls_for(answer.refund.id)
    assert len(calls) == 2 and calls[0] == calls[1]
    assert system.uow.published(RefundIssued) == [
        RefundIssued(
            return_id=parcel.id, refund_id=answer.refund.id, amount_cents=2500, provider="fake"
        )
    ]


async def test_a_refund_whose_first_attempt_died_is_paid_by_the_worker_after_the_lease() -> None:
    system = returns_service(asyncio.CancelledError())
    refunds = system.service.refunds
    parcel = await system.received(("TEE", 1))
    with pytest.raises(asyncio.CancelledError):  # the process went down mid-call
        await system.inspect(parcel.id, ("TEE", "NEW"))
    [refund] = system.uow.data.refunds.values()
    assert (refund.refund.status, refund.attempts) == (RefundStatus.PENDING, 1)
    assert (await system.service.get(parcel.id)).status is ReturnStatus.CLOSED
    system.clock.advance(timedelta(seconds=29))
    assert await refunds.issue_due() == 0
    system.clock.advance(timedelta(seconds=1))
    assert await refunds.issue_due() == 1
    assert system.provider.payments(refund.refund.id) == 1
    assert len(system.uow.published(RefundIssued)) == 1


async def test_refunds_of_another_provider_wait_for_a_process_configured_with_it() -> None:
    system = returns_service(IssueOutcome.RETRY)
    parcel = await system.received(("TEE", 1))
    answer = await system.inspect(parcel.id, ("TEE", "NEW"))
    assert answer.refund is not None
    webhook = FakeRefundProvider(system.uow, name="webhook")
    other = bootstrap(system.uow, system.orders, system.inventory, webhook, clock=system.clock)
    system.clock.advance(timedelta(minutes=1))
    assert await other.refunds.issue_due() == 0 and webhook.calls == []
    assert await system.service.refunds.issue_due() == 1
    assert system.provider.payments(answer.refund.id) == 1


# Settling refurbished units


def completed(
    return_id: str, sku: str, quantity: int = 1, kind: str = "REFURBISH", event_id: str = ""
) -> EventEnvelope:
    payload = WorkOrderCompleted(
        work_order_id=f"wo-{sku}",
        kind=enum_value(WorkOrderKind, kind),
        sku=sku,
        quantity=quantity,
        location_code="HUB-BER",
        source_return_id=return_id,
    )
    envelope = EventEnvelope(
        event_id=event_id or str(uuid.uuid4()), event_type="WorkOrderCompleted"
    )
    envelope.payload.Pack(payload)
    return envelope


async def test_a_return_closes_when_its_last_refurbishment_completes() -> None:
    system = returns_service()
    [subscription] = subscriptions(system.service)
    parcel = await system.received(("TEE", 2), ("PHONE", 1))
    inspected = await system.inspect(
        parcel.id, ("TEE", "GOOD"), ("TEE", "NEW"), ("PHONE", "LIKE_NEW", "SN-2")
    )
    assert inspected.status is ReturnStatus.INSPECTED

    async def settled() -> list[tuple[str, int, str, str, int]]:
        return lines(await system.service.get(parcel.id))

    # Kits, work orders without a return, and unknown returns settle nothing.
    assert await apply_event(
        system.uow, subscription, completed(parcel.id, "TEE", kind="KIT_ASSEMBLY")
    )
    assert await apply_event(system.uow, subscription, completed("", "TEE"))
    assert await apply_event(system.uow, subscription, completed("no-such-return", "TEE"))
    assert await settled() == lines(inspected)

    tee = completed(parcel.id, "TEE", event_id="wo-tee-done")
    assert await apply_event(system.uow, subscription, tee)
    assert not await apply_event(system.uow, subscription, tee)  # redelivered: applied once
    # The same SKU again under another id: no more tees wait for refurbishment.
    assert await apply_event(system.uow, subscription, completed(parcel.id, "TEE", quantity=5))
    assert await settled() == [
        ("TEE", 1, "GOOD", "REFURBISH", 1),
        ("TEE", 1, "NEW", "RESTOCK", 1),
        ("PHONE", 1, "LIKE_NEW", "REFURBISH", 0),
    ]
    assert (await system.service.get(parcel.id)).status is ReturnStatus.INSPECTED

    system.clock.advance(timedelta(days=3))
    assert await apply_event(system.uow, subscription, completed(parcel.id, "PHONE"))
    closed = await system.service.get(parcel.id)
    assert (closed.status, closed.closed_at) == (ReturnStatus.CLOSED, system.clock.now)
    assert lines(closed)[2] == ("PHONE", 1, "LIKE_NEW", "REFURBISH", 1)


async def test_a_return_not_awaiting_refurbishment_is_not_settled() -> None:
    system = returns_service()
    [subscription] = subscriptions(system.service)
    waiting = await system.received(("TEE", 1))
    assert await apply_event(system.uow, subscription, completed(waiting.id, "TEE"))
    assert (await system.service.get(waiting.id)).status is ReturnStatus.RECEIVED


# Reading


async def test_the_hub_queue_holds_received_returns_oldest_receipt_first() -> None:
    system = returns_service()
    first = await system.request(("TEE", 1))
    second = await system.request(("MUG", 1))
    third = await system.request(("PHONE", 1))
    queue = system.service.hub_queue
    assert await queue("HUB-BER") == []
    for parcel in (second, first, third):
        system.clock.advance(timedelta(minutes=1))
        await system.service.receive(parcel.id, "HUB-BER")
    assert [r.id for r in await queue("HUB-BER")] == [second.id, first.id, third.id]
    await system.inspect(first.id, ("TEE", "NEW"))
    assert [r.id for r in await queue("HUB-BER")] == [second.id, third.id]
    assert await queue("STORE-BER") == []
    assert await refused(queue("HUB-XXX")) == (ErrorCode.NOT_FOUND, "location_code")
    assert await refused(queue(" ")) == (ErrorCode.INVALID_INPUT, "location_code")


async def test_the_list_of_returns_pages_newest_first_filtered_as_each_caller_may_see_it() -> None:
    system = returns_service()
    made = []
    for lines, customer, minutes in (
        (("TEE", 1), None, 1),
        (("MUG", 1), LISBON, 1),
        (("PHONE", 1), None, 0),  # requested at the same moment: by id
        (("TEE", 1), LISBON, 1),
        (("MUG", 1), None, 0),
    ):
        system.clock.advance(timedelta(minutes=minutes))
        made.append(await system.request(lines, customer=customer))
    newest = [r.id for r in sorted(made, key=lambda r: (r.requested_at, r.id), reverse=True)]
    page = system.service.page

    async def every(
        status: ReturnStatus | None = None, destination: str = "", caller: Caller = INTERNAL
    ) -> list[str]:
        found, after, more = [], "", True
        while more:
            edges, more = await page(2, after, status, destination, caller)
            found += [r.id for _, r in edges]
            after = edges[-1][0] if edges else ""
        return found

    assert await every() == newest
    at_hub = [r.id for r in made if r.destination_code == "HUB-BER"]
    assert len(at_hub) == 3
    assert await every(destination="HUB-BER") == [i for i in newest if i in at_hub]
    await system.service.receive(made[0].id, "HUB-BER")
    assert await every(ReturnStatus.RECEIVED) == [made[0].id]
    assert await every(ReturnStatus.REQUESTED, "DC-LIS") == [made[3].id, made[1].id]
    # A scanner lists its own location's returns, a storefront its own orders'.
    at_the_hub = Caller("hub-ber-1", Role.SCANNER, "HUB-BER")
    assert await every(caller=at_the_hub) == [i for i in newest if i in at_hub]
    assert await every(caller=Caller("ada", Role.STOREFRONT)) == newest
    assert await every(caller=Caller("eve", Role.STOREFRONT)) == []
    for call, expected in [
        (page(2, "", None, "DC-LIS", at_the_hub), (ErrorCode.FORBIDDEN, "destination_code")),
        (page(0, "", None, ""), (ErrorCode.INVALID_INPUT, "first")),
        (page(101, "", None, ""), (ErrorCode.INVALID_INPUT, "first")),
        (page(2, "", None, " "), (ErrorCode.INVALID_INPUT, "destination_code")),
        (page(2, "not-a-cursor", None, ""), (ErrorCode.INVALID_INPUT, "after")),
        (
            page(2, paging.encode_cursor("stock", "TEE"), None, ""),
            (ErrorCode.INVALID_INPUT, "after"),
        ),
        (
            page(2, paging.encode_cursor("return", "x|y"), None, ""),
            (ErrorCode.INVALID_INPUT, "after"),
        ),
    ]:
        assert await refused(call) == expected


async def test_many_keeps_the_order_asked_and_get_refuses_an_unknown_return() -> None:
    system = returns_service()
    first = await system.request(("TEE", 1))
    second = await system.request(("MUG", 1))
    assert [r.id for r in await system.service.many([second.id, "nope", first.id])] == [
        second.id,
        first.id,
    ]
    assert await refused(system.service.get("nope")) == (ErrorCode.NOT_FOUND, "id")


async def test_the_report_shows_what_local_returns_save_how_fast_they_refund_and_the_backlog() -> (
    None
):
    system = returns_service()
    start = system.clock.now
    hour = timedelta(hours=1)
    done = await system.request(("TEE", 2))
    system.clock.advance(hour)
    await system.service.receive(done.id, "HUB-BER")
    system.clock.advance(2 * hour)
    await system.inspect(done.id, ("TEE", "NEW"), ("TEE", "GOOD"))
    system.clock.advance(hour)
    waiting = await system.request(("MUG", 1))
    system.clock.advance(hour)
    await system.service.receive(waiting.id, "HUB-BER")
    system.clock.advance(hour)
    await system.request(("PHONE", 1), customer=LISBON)
    system.clock.advance(hour)

    report = await system.service.report(None, None)
    assert report.returns == 3
    assert [
        (k.kind, k.returns, k.handling_cost_cents, k.centralized_cost_cents)
        for k in report.by_destination_kind
    ] == [
        ("DISTRIBUTION_CENTER", 1, 1000, 1000),
        # Two tees and a mug dropped off, against labels to Lisbon and the DC's labour.
        ("RETURN_HUB", 2, 1000 + 500, 4500 + 3500),
    ]
    assert (report.handling_cost_cents, report.centralized_cost_cents, report.saving_cents) == (
        2500,
        9000,
        6500,
    )
    # Refunded 3 h after the request; the restocked tee 2 h after its receipt.
    assert report.request_to_refund_hours == (3.0, 3.0)
    assert report.receipt_to_restock_hours == (2.0, 2.0)
    assert [(b.location_code, b.awaiting_inspection, b.oldest_minutes) for b in report.backlog] == [
        ("HUB-BER", 1, 120)
    ]

    later = await system.service.report(start + 3.5 * hour, None)
    assert (later.returns, later.request_to_refund_hours, later.awaiting_inspection) == (
        2,
        (0.0, 0.0),
        1,
    )
    before = await system.service.report(None, start)
    assert (before.returns, before.saving_cents, before.awaiting_inspection) == (0, 0, 1)


async def test_each_caller_sees_and_works_on_the_returns_that_are_theirs() -> None:
    system = returns_service()
    parcel = await system.request(("TEE", 1))  # Ada's, bound for the Berlin hub
    at_the_hub = Caller("hub-ber-1", Role.SCANNER, "HUB-BER")
    elsewhere = Caller("store-1", Role.SCANNER, "STORE-BER")
    ada, eve = Caller("ada", Role.STOREFRONT), Caller("eve", Role.STOREFRONT)
    ops = Caller("ops", Role.BACKOFFICE)
    for caller in (at_the_hub, ada, ops):
        assert [r.id for r in await system.service.many([parcel.id], caller)] == [parcel.id]
    for caller in (elsewhere, eve):
        assert await system.service.many([parcel.id], caller) == []
        # Answered as a return that does not exist.
        assert await refused(system.service.get(parcel.id, caller)) == (ErrorCode.NOT_FOUND, "id")
    # A scanner scans and reads its queue at its own location only.
    assert await refused(system.service.receive(parcel.id, "HUB-BER", elsewhere)) == (
        ErrorCode.FORBIDDEN,
        "location_code",
    )
    assert await refused(system.service.hub_queue("HUB-BER", elsewhere)) == (
        ErrorCode.FORBIDDEN,
        "location_code",
    )
    received = await system.service.receive(parcel.id, "HUB-BER", at_the_hub)
    assert received.status is ReturnStatus.RECEIVED
    assert [r.id for r in await system.service.hub_queue("HUB-BER", at_the_hub)] == [parcel.id]


async def test_a_request_under_an_idempotency_key_creates_one_return_however_often_retried() -> (
    None
):
    system = returns_service()
    keyed = new_return("o-1", ("TEE", 1), idempotency_key="scan-42")
    first = await system.service.request(keyed)
    # Retried, even with other lines: the first return, and nothing more is created.
    for retry in (keyed, new_return("o-1", ("TEE", 2), idempotency_key="scan-42")):
        assert (await system.service.request(retry)).id == first.id
    assert len(system.uow.data.returns) == 1
    assert len(system.uow.published(ReturnRequested)) == 1
    # A retry is answered from the returns' own data: the orders service need not answer.
    system.orders.orders.clear()
    assert (await system.service.request(keyed)).id == first.id
    # The key belongs to its order: another order's request with it is a request of its own.
    system.orders.orders["o-2"] = shipped_order("o-2")
    other = await system.service.request(new_return("o-2", ("TEE", 1), idempotency_key="scan-42"))
    assert other.id != first.id
    # Someone who may not see the first return learns nothing from its key.
    eve = Caller("eve", Role.STOREFRONT, channels=("web",))
    assert await refused(system.service.request(keyed, eve)) == (ErrorCode.NOT_FOUND, "order_id")
    too_long = new_return("o-1", ("TEE", 1), idempotency_key="k" * 129)
    assert await refused(system.service.request(too_long)) == (
        ErrorCode.INVALID_INPUT,
        "idempotency_key",
    )


async def test_a_storefront_sees_its_return_without_fraud_signals_or_the_inspectors_notes() -> None:
    system = returns_service()
    ada = Caller("ada", Role.STOREFRONT, channels=("web",))
    keyed = new_return("o-1", ("TEE", 1), idempotency_key="k-1")
    parcel = await system.service.request(keyed, ada)
    await system.service.receive(parcel.id, parcel.destination_code)
    # Weighed far too light: rejected, with the inspector's notes.
    await system.inspect(parcel.id, ("TEE", "NEW"), grams=10)
    [complete] = await system.service.many([parcel.id], Caller("ops", Role.BACKOFFICE))
    assert complete.fraud_flags == ("WEIGHT_MISMATCH",)
    assert (complete.notes, complete.measured_weight_grams) == ("checked at the bench", 10)
    for seen in (
        (await system.service.many([parcel.id], ada))[0],
        await system.service.get(parcel.id, ada),
        await system.service.request(keyed, ada),  # a retry
    ):
        assert (seen.status, seen.fraud_flags, seen.notes, seen.measured_weight_grams) == (
            ReturnStatus.REJECTED,
            (),
            "",
            None,
        )


async def test_a_storefront_returns_orders_of_its_own_channels_only() -> None:
    system = returns_service()
    elsewhere = Caller("ada", Role.STOREFRONT, channels=("amazon-de",))
    refusal = system.service.request(new_return("o-1", ("TEE", 1)), elsewhere)
    assert await refused(refusal) == (ErrorCode.NOT_FOUND, "order_id")
    assert system.uow.data.returns == {}
