"""The `/graphql` endpoint: authenticates callers and answers every refusal as GraphQL JSON."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from gateway.auth import InvalidToken, principal_from_header
from gateway.backends import Backends
from gateway.context import Context
from gateway.errors import TIMEOUT, UNAVAILABLE
from gateway.permissions import UNAUTHENTICATED
from services.kernel.caller import Caller

# Subscriptions need a long-lived connection; this view serves them over WebSocket only.
HTTP_OPERATION_TYPES = frozenset({OperationType.QUERY, OperationType.MUTATION})


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with bearer-token authentication and JSON error bodies."""

    def __init__(self, schema: BaseSchema, signing_key: bytes) -> None:
        super().__init__(
            schema,
            # One way in per concern: queries and mutations by POST, subscriptions by WebSocket.
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self._signing_key = signing_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as refusal:
            response = error_response(refusal.status_code, refusal.reason)
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        backends: Backends = request.state.backends
        return Context.create(
            backends.services, backends.feed, long_lived=isinstance(request, WebSocket)
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # Here rather than in get_context so that the GraphiQL page itself needs no token.
        context.principal = self._authenticate(request.headers.get("authorization"))
        try:
            result = await self.schema.execute(
                request_data.query,
                variable_values=request_data.variables,
                context_value=context,
                root_value=root_value,
                operation_name=request_data.operation_name,
                allowed_operation_types=HTTP_OPERATION_TYPES,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            raise HTTPException(400, "Subscriptions are served over WebSocket only") from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error
        if is_request_error(result):
            sub_response.status_code = HTTPStatus.BAD_REQUEST
        elif is_service_away(result):
            sub_response.status_code = HTTPStatus.SERVICE_UNAVAILABLE
        return result

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        try:
            context.principal = principal_from_header(
                self._signing_key, authorization if isinstance(authorization, str) else None
            )
        except InvalidToken as error:
            raise ConnectionRejectionError({"message": str(error)}) from error
        return await super().on_ws_connect(context)

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        # Anything but an object would fail deep inside the view with a 500.
        if not isinstance(parsed, dict):
            raise HTTPException(400, "The request body must be a JSON object")
        return parsed

    def _authenticate(self, authorization: str | None) -> Caller:
        try:
            return principal_from_header(self._signing_key, authorization)
        except InvalidToken as error:
            raise HTTPException(401, f"Unauthenticated: {error}") from error


def is_request_error(result: ExecutionResult) -> bool:
    """The document or its variables were refused before execution (no data, no field path)."""
    errors = result.errors or []
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


def error_response(status_code: int, message: str) -> JSONResponse:
    """A refusal outside of execution, shaped like any GraphQL error response."""
    code = UNAUTHENTICATED if status_code == 401 else HTTPStatus(status_code).name
    headers = {"WWW-Authenticate": "Bearer"} if status_code == 401 else None
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status_code,
        headers=headers,
    )
