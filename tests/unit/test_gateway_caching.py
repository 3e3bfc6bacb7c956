"""The gateway validates a document once, then serves it from its validation cache."""

from __future__ import annotations

from strawberry.extensions.validation_cache import _get_validate_cache

from gateway.schema import build_schema
from gateway.settings import QueryLimits
from services.kernel.caller import Role
from tests.fakes.gateway import context_for

QUERY = '{ availability(skus: ["TEE"], channel: "web") { sku available } }'


async def test_a_repeated_document_is_validated_once() -> None:
    limits = QueryLimits(validation_cache_size=97)  # a size of its own: a cache of its own
    schema = build_schema(limits)
    cache = _get_validate_cache(limits.validation_cache_size)
    for _ in range(5):
        result = await schema.execute(QUERY, context_value=context_for(Role.STOREFRONT))
        assert result.errors is None
    info = cache.cache_info()  # type: ignore[attr-defined]  # strawberry annotates this lru_cache as a bare Callable
    assert (info.misses, info.hits) == (1, 4)
