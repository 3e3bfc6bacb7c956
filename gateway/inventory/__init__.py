"""The inventory part of the schema: locations, SKUs, stock levels, availability and its feed."""
