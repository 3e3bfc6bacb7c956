"""The one GraphQL schema: every domain's root fields and types, with limits on what a document
may ask for and masking of internal faults."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gateway import channels
from gateway.document_errors import DocumentErrorCode, DocumentErrorCodes, coded_rule
from gateway.errors import UNEXPECTED_ERROR, MaskFaults, away
from gateway.fulfillment_nodes import FulfillmentNodesMutation, FulfillmentNodesQuery
from gateway.inventory.counts import StockCountMutation, StockCountQuery
from gateway.inventory.imports import BulkImportMutation
from gateway.inventory.resolvers import InventoryMutation, InventoryQuery, InventorySubscription
from gateway.metrics import OperationMetrics
from gateway.ops_summary import OpsSummaryQuery
from gateway.orders.resolvers import OrdersMutation, OrdersQuery
from gateway.procurement.resolvers import ProcurementMutation, ProcurementQuery
from gateway.returns.resolvers import ReturnsMutation, ReturnsQuery
from gateway.scalars import SCALARS
from gateway.settings import QueryLimits
from gateway.workorders.resolvers import WorkOrdersMutation, WorkOrdersQuery

log = logging.getLogger(__name__)

Query = merge_types(
    "Query",
    (
        InventoryQuery,
        StockCountQuery,
        OrdersQuery,
        ReturnsQuery,
        WorkOrdersQuery,
        OpsSummaryQuery,
        ProcurementQuery,
        channels.ChannelsQuery,
        FulfillmentNodesQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        InventoryMutation,
        BulkImportMutation,
        StockCountMutation,
        OrdersMutation,
        ReturnsMutation,
        WorkOrdersMutation,
        ProcurementMutation,
        channels.ChannelsMutation,
        FulfillmentNodesMutation,
    ),
)
Subscription = merge_types("Subscription", (InventorySubscription,))


def is_internal_fault(error: GraphQLError) -> bool:
    """Errors raised as GraphQLError (malformed documents, refusals with a code) are meant for
    the caller; any other exception is a fault whose message may leak internals."""
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class ParserCacheLeavingErrorsToStrawberry(ParserCache):
    """Strawberry's parser cache, except that a document it cannot parse is left for strawberry
    to parse again where it answers the caller with the syntax error: raised from the cache, the
    error escapes a WebSocket operation as a fault. Only documents that parse are cached."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except GraphQLError:
            context.graphql_document = None
        yield


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Refusals and malformed documents are the caller's business and answered to them;
        # only faults belong in the log, with their stack traces — except a service away,
        # which is one line each (an outage would otherwise bury the log in traces).
        faults = [e for e in errors if is_internal_fault(e)]
        for error in faults:
            if away(error.original_error):
                log.warning("%s: %s", ".".join(map(str, error.path or ())), error.original_error)
        super().process_errors([e for e in faults if not away(e.original_error)], execution_context)


def build_schema(limits: QueryLimits | None = None) -> GatewaySchema:
    limits = limits or QueryLimits()
    # The depth and alias rules are built once: the validation cache's key includes the rule
    # classes, and the limiters make a new class each time they are constructed.
    depth = QueryDepthLimiter(max_depth=limits.max_depth).validation_rules
    aliases = MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules
    rules = [
        *(coded_rule(rule, DocumentErrorCode.QUERY_TOO_DEEP) for rule in depth),
        *(coded_rule(rule, DocumentErrorCode.TOO_MANY_ALIASES) for rule in aliases),
    ]
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        # Factories: each operation gets fresh extension instances; the caches they wrap are
        # shared module-level LRU caches keyed by size, and by the document's text: the view
        # refuses texts over `limits.max_query_chars` before they get here.
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: ParserCacheLeavingErrorsToStrawberry(maxsize=limits.parser_cache_size),
            lambda: ValidationCache(maxsize=limits.validation_cache_size),
            lambda: AddValidationRules(rules),
            # Before MaskFaults: it codes the errors MaskFaults has left.
            lambda: DocumentErrorCodes(max_tokens=limits.max_tokens),
            lambda: MaskFaults(should_mask_error=is_internal_fault, error_message=UNEXPECTED_ERROR),
            OperationMetrics,
        ],
    )
