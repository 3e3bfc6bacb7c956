"""Who may resync a channel: the channels service decides from the caller, before it asks
inventory or owes anything (the back office's resync itself: tests/integration/
test_channels_push.py)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from services.channels.availability_push import AvailabilityPush
from services.kernel.caller import Caller, Role
from services.kernel.errors import ErrorCode
from tests.support.refusals import refused


@pytest.mark.parametrize("role", [Role.STOREFRONT, Role.SCANNER], ids=str)
async def test_a_storefront_or_a_scanner_may_not_resync_a_channel(role: Role) -> None:
    # Nothing behind it: a refusal that got as far as inventory or the store would crash instead.
    nothing = cast(Any, None)
    push = AvailabilityPush(nothing, nothing, nothing)
    caller = Caller("someone", role, "DC-LOU", ("shopify-us",))
    assert await refused(push.resync_on_demand("shopify-us", caller)) == (ErrorCode.FORBIDDEN, None)
