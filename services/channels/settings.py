"""The channels service's own settings, read once from the environment at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

# Past the orders call's deadline (10 s), so an order whose placement is still in flight is
# rarely placed twice at once (and harmlessly when it is: placing is idempotent in orders).
DEFAULT_RETRY_AFTER = timedelta(seconds=15)
DEFAULT_AMAZON_POLL_EVERY = timedelta(minutes=2)
# ShipBob has no inventory webhook: each node's levels are pulled this often (and on demand).
DEFAULT_SHIPBOB_PULL_EVERY = timedelta(minutes=15)


@dataclass(frozen=True)
class ChannelsSettings:
    # How long an order stays PENDING (or CANCELLING) before the worker takes it for left on its
    # way by a crash or an outage and places (or cancels) it again.
    retry_after: timedelta = DEFAULT_RETRY_AFTER
    # How often each Amazon channel is polled (getOrders refills one call a minute).
    amazon_poll_every: timedelta = DEFAULT_AMAZON_POLL_EVERY
    # How often each ShipBob node's inventory levels are pulled.
    shipbob_pull_every: timedelta = DEFAULT_SHIPBOB_PULL_EVERY

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ChannelsSettings:
        return cls(
            retry_after=_seconds(env, "OMS_CHANNELS_RETRY_AFTER_SECONDS", DEFAULT_RETRY_AFTER),
            amazon_poll_every=_seconds(
                env, "OMS_CHANNELS_AMAZON_POLL_SECONDS", DEFAULT_AMAZON_POLL_EVERY
            ),
            shipbob_pull_every=_seconds(
                env, "OMS_CHANNELS_SHIPBOB_PULL_SECONDS", DEFAULT_SHIPBOB_PULL_EVERY
            ),
        )


def _seconds(env: Mapping[str, str], name: str, default: timedelta) -> timedelta:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a number of seconds") from None
    if not 0 < seconds <= 86400:
        raise ValueError(f"{name}: {seconds} is not within (0, 86400]")
    return timedelta(seconds=seconds)
