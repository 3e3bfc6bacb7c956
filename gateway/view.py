"""The `/graphql` endpoint: GraphQL over HTTP as its spec asks (content negotiation, status codes,
queries only by GET), authenticating callers before reading their requests, bounding what it
reads, and answering every refusal as GraphQL JSON with a stable code."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any

from cross_web import HTTPException, StarletteRequestAdapter
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from gateway.auth import InvalidToken, TokenVerifier, VerifiedToken
from gateway.backends import Backends
from gateway.context import Context
from gateway.edge import (
    JsonTooDeep,
    MediaType,
    Refusal,
    RefusalCode,
    answer_media_type,
    declared_length,
    nested_deeper_than,
    query_too_long,
    read_body,
    refusal_response,
    replay,
    too_large,
)
from gateway.errors import TIMEOUT, UNAVAILABLE
from gateway.settings import QueryLimits, RequestLimits
from gateway.sockets import TokenBoundHandler
from services.kernel import tracing

# Our GraphiQL page: it loads GraphiQL from the gateway's own files (gateway/static/graphiql).
GRAPHIQL_PAGE = Path(__file__).parent / "static" / "graphiql" / "index.html"
# Subscriptions need a long-lived connection; this view serves them over WebSocket only.
POST_OPERATION_TYPES = frozenset({OperationType.QUERY, OperationType.MUTATION})
# GET must not change anything (it is cached, prefetched and logged in URLs).
GET_OPERATION_TYPES = frozenset({OperationType.QUERY})


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with bearer tokens, bounded requests and JSON refusals."""

    graphql_transport_ws_handler_class = TokenBoundHandler

    def __init__(
        self,
        schema: BaseSchema,
        tokens: TokenVerifier,
        requests: RequestLimits | None = None,
        query_limits: QueryLimits | None = None,
    ) -> None:
        super().__init__(
            schema,
            # Strawberry's own GET handling is replaced by `execute_single`'s: queries only.
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.tokens = tokens
        self.requests = requests or RequestLimits()
        self.query_limits = query_limits or QueryLimits()

    async def render_graphql_ide(self, request: Request) -> Response:
        # Strawberry's own page asks a CDN for its scripts: blank on a network without one.
        return HTMLResponse(GRAPHIQL_PAGE.read_text(encoding="utf-8"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = answer_media_type(request.headers.get("accept"))
        try:
            response = await self.run(await self._admitted(request))
        except HTTPException as refusal:
            response = refusal_response(refusal, media_type)
        await response(scope, receive, send)

    async def _admitted(self, request: Request) -> Request:
        """The request once its caller is authenticated and its body read within the limits;
        the GraphiQL page alone is served to anyone (it holds no data)."""
        if self.should_render_graphql_ide(StarletteRequestAdapter(request)):
            return request
        token = self._authenticate(request.headers.get("authorization"))
        limits = self.requests
        if (declared_length(request.headers) or 0) > limits.max_body_bytes:
            raise too_large(limits.max_body_bytes)
        body = await read_body(request.receive, limits.max_body_bytes, limits.body_timeout_seconds)
        admitted = Request(request.scope, replay(body, request.receive))
        admitted.state.token = token
        return admitted

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        backends: Backends = request.state.backends
        context = Context.create(
            backends.services, backends.feed, long_lived=isinstance(request, WebSocket)
        )
        context.caller_trace = tracing.callers_context(request.headers)
        if isinstance(request, WebSocket):
            context.handshake_authorization = request.headers.get("authorization")
        else:
            self._grant(context, getattr(request.state, "token", None))
        return context

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = answer_media_type(request.headers.get("accept"))
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = MediaType(sub_response.media_type or MediaType.JSON)
        response.headers["content-type"] = media_type.content_type
        return response

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        if refusal := query_too_long(request_data.query, self.query_limits.max_query_chars):
            raise refusal
        by_get = request_adapter.method == "GET"
        try:
            result = await self.schema.execute(
                request_data.query,
                variable_values=request_data.variables,
                context_value=context,
                root_value=root_value,
                operation_name=request_data.operation_name,
                allowed_operation_types=GET_OPERATION_TYPES if by_get else POST_OPERATION_TYPES,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.MUTATION:
                raise Refusal(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    RefusalCode.METHOD_NOT_ALLOWED,
                    "Mutations are served over POST only",
                    headers={"Allow": "POST"},
                ) from error
            raise HTTPException(400, "Subscriptions are served over WebSocket only") from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error
        if is_request_error(result):
            # The spec: application/json answers every well-formed request with 200, the
            # GraphQL response media type says 400 when the document was refused unrun.
            by_status = sub_response.media_type == MediaType.GRAPHQL_RESPONSE
            sub_response.status_code = HTTPStatus.BAD_REQUEST if by_status else HTTPStatus.OK
        elif is_service_away(result):
            sub_response.status_code = HTTPStatus.SERVICE_UNAVAILABLE
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer = await super().process_result(request, result)
        if is_request_error(result):
            # Nothing ran, so there is no data entry at all (not even null).
            answer.pop("data", None)
        return answer

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if not isinstance(authorization, str):
            # Clients such as Python's gql authenticate on the upgrade request instead.
            authorization = context.handshake_authorization
        try:
            self._grant(context, self.tokens.from_header(authorization))
        except InvalidToken as error:
            raise ConnectionRejectionError({"message": str(error)}) from error
        return await super().on_ws_connect(context)

    def decode_json(self, data: str | bytes) -> object:
        # Bodies, GET parameters and WebSocket messages alike: the parser recurses per level.
        if nested_deeper_than(data, self.requests.max_json_depth):
            raise JsonTooDeep(data, self.requests.max_json_depth)
        return super().decode_json(data)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = self.decode_json(data)
        except JsonTooDeep as error:
            raise Refusal(HTTPStatus.BAD_REQUEST, RefusalCode.JSON_TOO_DEEP, error.msg) from error
        except ValueError as error:  # JSONDecodeError, and bytes that are not UTF-8
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        # Anything but an object would fail deep inside the view with a 500.
        if not isinstance(parsed, dict):
            raise HTTPException(400, "The request body must be a JSON object")
        return parsed

    def _authenticate(self, authorization: str | None) -> VerifiedToken:
        try:
            return self.tokens.from_header(authorization)
        except InvalidToken as error:
            raise Refusal(
                HTTPStatus.UNAUTHORIZED, RefusalCode.UNAUTHENTICATED, f"Unauthenticated: {error}"
            ) from error

    @staticmethod
    def _grant(context: Context, token: VerifiedToken | None) -> None:
        context.token = token
        context.principal = token.caller if token else None


def is_request_error(result: ExecutionResult) -> bool:
    """The document or its variables were refused before execution (no data, no field path)."""
    errors: list[GraphQLError] = result.errors or []
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


def is_service_away(result: ExecutionResult) -> bool:
    """Nothing was answered because a service is away (UNAVAILABLE or TIMEOUT, see
    gateway/errors.py): no root field has data and every error says so."""
    errors = result.errors or []
    return (
        bool(errors)
        and all((error.extensions or {}).get("code") in (UNAVAILABLE, TIMEOUT) for error in errors)
        and all(value is None for value in (result.data or {}).values())
    )
