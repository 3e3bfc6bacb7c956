"""The GraphQL gateway: one schema over the services, for storefronts, scanners and back office."""
