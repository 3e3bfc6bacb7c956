"""Returns in GraphQL: requesting them, the hub's scan and inspection, hub queues and the report,
through the returns service."""
