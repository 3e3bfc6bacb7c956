"""The inventory service: locations, SKUs, stock in every state, reservations, availability."""
