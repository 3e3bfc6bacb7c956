"""Work orders in GraphQL: creating kits and value-add work, the bench's operations, cancelling,
listing and the repair report."""
