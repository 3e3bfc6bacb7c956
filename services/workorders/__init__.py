"""The workorders service: opens REFURBISH work orders for returned units sent to refurbishment
(from oms.returns.return_inspected), creates kit and value-add work orders holding their
components in inventory, records the bench's operations, and reports on the bench."""
