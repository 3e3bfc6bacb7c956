"""OMS benchmark: `python -m bench` runs `oms up` as a user would and measures it by GraphQL."""
