"""A location's backlog against its daily capacity, from the services that know it: shipments
waiting at orders, returns waiting for inspection at returns. Batched per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from oms.orders.v1 import orders_pb2
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from oms.returns.v1 import returns_pb2
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub
from services.kernel.bounds import MAX_CODES

if TYPE_CHECKING:
    from gateway.services import ServiceStubs


@dataclass(frozen=True)
class BacklogLoaders:
    """Per location code: shipments allocated and not shipped, returns not yet inspected."""

    ship: DataLoader[str, int]
    inspection: DataLoader[str, int]

    @classmethod
    def over(cls, services: ServiceStubs) -> BacklogLoaders:
        async def load_ship(codes: list[str]) -> list[int]:
            request = orders_pb2.ShipBacklogRequest(location_codes=sorted(set(codes)))
            response = await services[OrdersServiceStub].GetShipBacklog(request)
            found = {b.location_code: b.backlog for b in response.backlogs}
            return [found.get(code, 0) for code in codes]

        async def load_inspection(codes: list[str]) -> list[int]:
            request = returns_pb2.InspectionBacklogRequest(location_codes=sorted(set(codes)))
            response = await services[ReturnsServiceStub].GetInspectionBacklog(request)
            found = {b.location_code: b.backlog for b in response.backlogs}
            return [found.get(code, 0) for code in codes]

        # Never cached: a WebSocket's context lives for hours, and a backlog changes by the
        # minute. They still batch a page of locations into one call per service, each code
        # asked once though a backlog and its ratio both load it.
        return cls(
            DataLoader(load_ship, cache=False, max_batch_size=MAX_CODES),
            DataLoader(load_inspection, cache=False, max_batch_size=MAX_CODES),
        )
