"""The workorders service: opens REFURBISH work orders for returned units sent to refurbishment
(from oms.returns.return_inspected), publishes WorkOrderOpened, and lists work orders."""
