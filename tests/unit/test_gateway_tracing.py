"""The gateway continues the trace its caller started: a storefront that sends a W3C
`traceparent` finds the GraphQL operation's span in its own trace (an in-memory exporter, no HTTP
and no services)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.datastructures import Headers

from gateway.schema import build_schema
from services.kernel import tracing
from services.kernel.caller import Role
from tests.fakes.gateway import context_for

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLERS_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLERS_SPAN}-01"


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        yield exporter
    finally:
        tracing.use(None)


async def operation_span(headers: dict[str, str], exported: InMemorySpanExporter) -> ReadableSpan:
    context = context_for(Role.ADMIN)
    context.caller_trace = tracing.callers_context(Headers(headers))
    result = await build_schema().execute("query Ping { __typename }", context_value=context)
    assert result.errors is None
    (span,) = exported.get_finished_spans()
    assert span.name == "graphql query Ping"
    return span


async def test_an_operation_continues_the_trace_its_caller_sent(
    exported: InMemorySpanExporter,
) -> None:
    span = await operation_span({"TraceParent": TRACEPARENT, "tracestate": "shop=1"}, exported)

    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None and format(span.parent.span_id, "016x") == CALLERS_SPAN
    assert span.parent.is_remote


@pytest.mark.parametrize("headers", [{}, {"traceparent": "00-not-a-trace-01"}], ids=["none", "bad"])
async def test_without_a_valid_traceparent_an_operation_starts_a_trace(
    headers: dict[str, str], exported: InMemorySpanExporter
) -> None:
    span = await operation_span(headers, exported)

    assert span.parent is None
    assert format(span.context.trace_id, "032x") != TRACE_ID
