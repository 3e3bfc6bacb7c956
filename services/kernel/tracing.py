"""Traces with OpenTelemetry, off unless `OTEL_TRACES_EXPORTER` asks for them: one trace follows
a request from the gateway through every gRPC call and across NATS, where the trace context is
recorded in the event's envelope with the change (the relay publishes later, from another task)
and carried in the published message's headers to the consumer.

`OTEL_TRACES_EXPORTER` is `otlp` (to `OTEL_EXPORTER_OTLP_ENDPOINT`, OTLP over HTTP), `console`
(one JSON line per span on standard output: the process's log under `oms up`), both separated
by a comma, or `none`; `OTEL_SERVICE_NAME` names the process (its part's name otherwise).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

from oms.events.v1.envelope_pb2 import EventEnvelope

EXPORTERS_VARIABLE = "OTEL_TRACES_EXPORTER"
TRACER_NAME = "oms"

# Set once by `configure`; None while tracing is off (nothing is recorded or sent).
_provider: TracerProvider | None = None


def exporters_asked(env: Mapping[str, str]) -> list[str]:
    """The exporters `OTEL_TRACES_EXPORTER` names (`otlp`, `console`); unknown names refused."""
    names = [n.strip() for n in env.get(EXPORTERS_VARIABLE, "").split(",") if n.strip()]
    names = [name for name in names if name != "none"]
    unknown = set(names) - {"otlp", "console"}
    if unknown:
        raise ValueError(f"{EXPORTERS_VARIABLE}: unknown exporter {', '.join(sorted(unknown))}")
    return names


def _one_line(span: ReadableSpan) -> str:
    return str(span.to_json(indent=None)) + os.linesep


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter(formatter=_one_line)
    # Imported only when asked for: it reads its OTEL_EXPORTER_OTLP_* settings itself.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure(part: str, env: Mapping[str, str] = os.environ) -> bool:
    """Turns tracing on for this process when `OTEL_TRACES_EXPORTER` names an exporter;
    whether it is on. Called once at start, before any channel or server is built."""
    names = exporters_asked(env)
    if not names:
        return False
    resource = Resource.create({SERVICE_NAME: env.get("OTEL_SERVICE_NAME") or part})
    provider = TracerProvider(resource=resource)
    for name in names:
        exporter = _exporter(name)
        # The console's spans are written as they end, so a log shows them in order.
        processor = SimpleSpanProcessor if name == "console" else BatchSpanProcessor
        provider.add_span_processor(processor(exporter))
    trace.set_tracer_provider(provider)
    use(provider)
    return True


def use(provider: TracerProvider | None) -> None:
    """Records this process's own spans with `provider` from now on (None: tracing off):
    `configure`'s, or a test's with an in-memory exporter."""
    global _provider
    _provider = provider


def enabled() -> bool:
    return _provider is not None


def shutdown() -> None:
    """Sends the spans still buffered."""
    if _provider is not None:
        _provider.shutdown()


def server_interceptors() -> list[Any]:
    """A span for each call a gRPC server handles, a child of its caller's."""
    if not enabled():
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor()]  # type: ignore[no-untyped-call]


def client_interceptors() -> list[Any]:
    """A span for each call a channel makes, with the trace context in its metadata."""
    if not enabled():
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return list(aio_client_interceptors())  # type: ignore[no-untyped-call]


def tracer() -> trace.Tracer:
    if _provider is not None:
        return _provider.get_tracer(TRACER_NAME)
    return trace.get_tracer(TRACER_NAME)


def record_context(carrier: MutableMapping[str, str]) -> None:
    """Writes the current trace context (`traceparent`) into `carrier`, an event envelope's
    `trace_context`; nothing when no span is being recorded."""
    if enabled():
        propagate.inject(carrier)


def publish_headers(subject: str, data: bytes) -> dict[str, str]:
    """The headers that carry an outbox row's trace context to its consumers, under a span of
    the publication that continues the trace the event was recorded in."""
    if not enabled():
        return {}
    try:
        recorded = dict(EventEnvelope.FromString(data).trace_context)
    except DecodeError:
        return {}
    if not recorded:
        return {}
    headers: dict[str, str] = {}
    with tracer().start_as_current_span(
        f"publish {subject}", context=propagate.extract(recorded), kind=trace.SpanKind.PRODUCER
    ):
        propagate.inject(headers)
    return headers


@contextlib.contextmanager
def consuming(
    headers: Mapping[str, str] | None, envelope: EventEnvelope, consumer: str
) -> Iterator[None]:
    """A span for applying one event, in the trace its headers (else its envelope) carry."""
    if not enabled():
        yield
        return
    # Every message has headers (its Nats-Msg-Id); one published before tracing was on, or by
    # a relay without it, has its context in the envelope alone.
    carried = dict(headers or {})
    if "traceparent" not in carried:
        carried = dict(envelope.trace_context)
    with tracer().start_as_current_span(
        f"consume {envelope.event_type}",
        context=propagate.extract(carried),
        kind=trace.SpanKind.CONSUMER,
        attributes={"messaging.consumer.group.name": consumer, "oms.event_id": envelope.event_id},
    ):
        yield


# The W3C Trace Context headers a caller may send (https://www.w3.org/TR/trace-context/).
CALLER_HEADERS = ("traceparent", "tracestate")


def callers_context(headers: Mapping[str, str]) -> dict[str, str]:
    """The trace context a caller sent in `headers` (an HTTP request's, any case), to be
    continued; empty when it sent none."""
    found = {name: headers.get(name) for name in CALLER_HEADERS}
    return {name: value for name, value in found.items() if value}


@contextlib.contextmanager
def operation_span(
    name: str, attributes: Mapping[str, str], caller: Mapping[str, str] | None = None
) -> Iterator[trace.Span | None]:
    """The span of one GraphQL operation in the gateway (None while tracing is off): in the
    trace the caller's `traceparent` names (a storefront's request), else the root of a new one.
    A malformed `traceparent` is ignored, as the W3C recommendation says."""
    if not enabled():
        yield None
        return
    parent = propagate.extract(caller) if caller and "traceparent" in caller else None
    with tracer().start_as_current_span(
        name, context=parent, kind=trace.SpanKind.SERVER, attributes=dict(attributes)
    ) as span:
        yield span


def current_trace_id() -> str:
    """The current span's trace id in hex, or "" outside a recorded span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""
