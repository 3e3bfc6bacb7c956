"""The returns service: routes each return to the hub near the customer, takes the hub's scan
and inspection, decides each unit's disposition, checks for fraud and refunds verified goods."""
