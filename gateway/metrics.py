"""The gateway's own measures: each GraphQL operation counted by name, type and outcome and timed,
and given a span when tracing is on (`services.kernel.tracing`): the root of its trace, or a child
of the caller's when the request carried a W3C `traceparent`."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from strawberry.extensions import SchemaExtension

from services.kernel import tracing
from services.kernel.metrics import LATENCY_BUCKETS

# Operation names come from clients: only this many distinct ones get a series of their own,
# and only names GraphQL itself could declare, so no client can grow the metrics without end.
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
OTHER = "other"
ANONYMOUS = "anonymous"

GRAPHQL_REQUESTS = Counter(
    "oms_graphql_requests",
    "GraphQL operations answered, by operation name, type and outcome (ok or error)",
    ["operation", "type", "outcome"],
)
GRAPHQL_DURATION = Histogram(
    "oms_graphql_duration_seconds",
    "Time to answer a GraphQL operation, by operation name",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)

_seen: set[str] = set()


def operation_label(name: str | None) -> str:
    """The label an operation is counted under: its name while there is room, else `other`."""
    if not name:
        return ANONYMOUS
    if not _NAME.fullmatch(name):
        return OTHER
    if name not in _seen:
        if len(_seen) >= MAX_OPERATION_NAMES:
            return OTHER
        _seen.add(name)
    return name


class OperationMetrics(SchemaExtension):
    """Counts and times each operation, in a span of its own when tracing is on."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        context = self.execution_context
        caller = getattr(context.context, "caller_trace", None)
        attributes = {"graphql.operation.name": OTHER}
        with tracing.operation_span("graphql", attributes, caller) as span:
            yield
            label = operation_label(context.operation_name)
            kind = context.operation_type.value if context.graphql_document else "unknown"
            errors = getattr(context.result, "errors", None) or context.pre_execution_errors
            if span is not None:
                span.update_name(f"graphql {kind} {label}")
                span.set_attribute("graphql.operation.name", label)
        GRAPHQL_REQUESTS.labels(label, kind, "error" if errors else "ok").inc()
        GRAPHQL_DURATION.labels(label).observe(time.perf_counter() - started)
