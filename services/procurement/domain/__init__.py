"""Procurement's rules, pure: purchase orders and receipts, the three-way match, replenishment."""
