"""Sales channel types the back-office contract names; resolvers come with the channels service."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class ChannelPlatform(Enum):
    SHOPIFY = "SHOPIFY"
    AMAZON = "AMAZON"
    WHOLESALE = "WHOLESALE"


@strawberry.input
class ConnectChannelInput:
    code: str = strawberry.field(
        description="The sales channel's code, as orders from it carry in `channel`."
    )
    platform: ChannelPlatform
    account: str = strawberry.field(
        description="The platform's name for the account: the shop domain "
        "(brand.myshopify.com), the Amazon seller id."
    )
    webhook_secret: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The shared secret the platform signs its webhooks with (Shopify: the app's "
        "client secret).",
    )
    api_base_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Where the connector calls the platform's API; the platform's own when left "
        "out.",
    )
    access_token: str | None = strawberry.field(
        default=strawberry.UNSET, description="The credential for calls to the platform's API."
    )


TYPES = (ChannelPlatform, ConnectChannelInput)
