"""The channels service: connections to sales platforms, and the orders they send, placed with the
orders service or parked as exceptions the back office retries."""
