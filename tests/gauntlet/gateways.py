"""Several gateways as one, as a client behind a load balancer sees them: calls take turns over
them, and a gateway that cannot be reached is passed over for the next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from services.kernel.caller import Role
from tests.support.graphql import Answer, GraphQLClient


class EitherGateway:
    """Sends each call to the next gateway in turn; one that refuses the connection gets the
    call sent to the one after it (nothing reached it, so even a call that must not be sent
    twice may go elsewhere)."""

    def __init__(self, gateways: Sequence[GraphQLClient]) -> None:
        self.gateways = list(gateways)
        self._turn = 0

    def token(
        self, role: Role = Role.ADMIN, location: str | None = None, subject: str | None = None
    ) -> str:
        return self.gateways[0].token(role, location, subject)

    async def call(self, token: str, document: str, **variables: Any) -> Answer:
        self._turn += 1
        unreachable: httpx.ConnectError | None = None
        for offset in range(len(self.gateways)):
            gateway = self.gateways[(self._turn + offset) % len(self.gateways)]
            try:
                return await gateway.call(token, document, **variables)
            except httpx.ConnectError as error:
                unreachable = error
        assert unreachable is not None
        raise unreachable
