"""The procurement service: suppliers, purchase orders and receipts, supplier invoices matched
three ways, and the replenishment plan that counts returns on their way back as supply."""
