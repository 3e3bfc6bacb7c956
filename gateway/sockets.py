"""graphql-transport-ws for authenticated callers: a socket holds only while its token does.

The token is checked again on every message after the handshake, and a watcher closes the socket
when the token expires or is revoked, so a subscription never outlives the right to it. Documents
longer than the limit are refused like on HTTP, before anything parses them.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, cast

from graphql import GraphQLFormattedError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    Message,
    SubscribeMessage,
)

from gateway.auth import TokenVerifier
from gateway.context import Context
from gateway.edge import query_too_long

if TYPE_CHECKING:
    from gateway.view import GraphQLView

# Close code of a socket whose caller is no longer allowed (as for a refused connection_init).
FORBIDDEN = 4403
# How often an open socket looks for its token in the revocation list between messages.
REVOCATION_CHECK_SECONDS = 15.0


class TokenBoundHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """One socket's protocol handler, closing the socket once its caller's token no longer holds."""

    _watch: asyncio.Task[None] | None = None

    @property
    def _gateway(self) -> GraphQLView:
        return cast("GraphQLView", self.view)

    @property
    def _tokens(self) -> TokenVerifier:
        return self._gateway.tokens

    async def handle_message(self, message: Message) -> None:
        if self.connection_acknowledged and (refusal := self._refusal()):
            await self._close(refusal)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._watch is None:
            self._watch = asyncio.create_task(self._close_when_token_ends())

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Any = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        limit = self._gateway.query_limits.max_query_chars
        if self.connection_acknowledged and (refusal := query_too_long(query, limit)):
            error: GraphQLFormattedError = {
                "message": refusal.reason,
                "extensions": {"code": refusal.code.value},
            }
            await self.send_message(ErrorMessage(id=message["id"], type="error", payload=[error]))
            return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await super().shutdown()

    def _refusal(self) -> str | None:
        token = self.context.token
        return "no token" if token is None else self._tokens.refusal(token)

    async def _close_when_token_ends(self) -> None:
        token = self.context.token
        while token is not None and (refusal := self._refusal()) is None:
            wait = min(self._tokens.seconds_left(token), REVOCATION_CHECK_SECONDS)
            await asyncio.sleep(wait)
        await self._close(refusal or "no token")

    async def _close(self, refusal: str) -> None:
        # The socket may already be closing (the client left): nothing more to say then.
        with contextlib.suppress(RuntimeError):
            await self.websocket.close(code=FORBIDDEN, reason=f"Forbidden: {refusal}")
