"""Procurement in GraphQL: suppliers, purchase orders and receipts, supplier invoices and the
replenishment plan."""
