"""The thin part every service shares: settings, database engine, outbox, events, gRPC."""
