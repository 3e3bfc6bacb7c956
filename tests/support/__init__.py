"""Helpers the suites share: real brokers, real databases, real service processes."""
