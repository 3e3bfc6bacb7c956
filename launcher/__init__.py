"""Runs the whole system on one machine: `oms up`, `oms token`, and code generation."""
