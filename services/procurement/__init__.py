"""The procurement service: its domain arrives in a later issue; today it runs, owns its
database and outbox, and serves gRPC health and reflection."""
