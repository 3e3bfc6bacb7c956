"""Inventory rules as pure functions of plain data: no database, no network."""
