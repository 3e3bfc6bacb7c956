"""In-memory fakes of each service's store, for unit tests of its use cases."""
