"""Orders in GraphQL: placing, reading, cancelling and shipping them through the orders service."""

# The returns domain takes the customer's address in the same shape as an order's ship-to.
from gateway.orders.inputs import AddressInput

__all__ = ["AddressInput"]
