"""The OMS microservices, one package per domain, and the thin kernel they share."""
