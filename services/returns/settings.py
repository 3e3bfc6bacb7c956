"""The returns service's own settings, read once from the environment at start-up:

| Variable | Default | Meaning |
|---|---|---|
| `OMS_RETURN_WINDOW_DAYS` | `30` | days after a parcel shipped that its units may be returned |
| `OMS_RETURN_WINDOW_DAYS_<CHANNEL>` | — | the same for one sales channel (`web-eu` → `WEB_EU`) |
| `OMS_RETURN_WEIGHT_TOLERANCE` | `0.3` | flagged below (1 - this) of the expected weight |
| `OMS_RETURN_LOCAL_REACH_KM` | `50` | how far a customer takes a parcel to a return hub |
| `OMS_REFUND_CURRENCY` | `EUR` | currency of refunds (orders carry no currency yet) |
| `OMS_REFUND_PROVIDER` | `ledger` | `ledger` (the service's own refund table) or `webhook` |
| `OMS_REFUND_WEBHOOK_URL` | — | where the returns platform takes refunds (`webhook`) |
| `OMS_REFUND_WEBHOOK_SECRET` | — | the HMAC-SHA256 key that signs each refund (README) |
| `OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS` | `3` | the deadline of one whole call; below the lease |
| `OMS_REFUND_RETRY_BASE_SECONDS` | `2` | first retry delay; it doubles per attempt |
| `OMS_REFUND_RETRY_MAX_SECONDS` | `600` | longest retry delay |
| `OMS_REFUND_LEASE_SECONDS` | `30` | how long an attempt in flight holds its refund |
| `OMS_REFUND_WORKER_INTERVAL_SECONDS` | `2` | how often pending refunds are looked at |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from services.returns.domain.policy import ReturnsPolicy
from services.returns.domain.rules import ReturnCostModel
from services.returns.refunds import RetryPolicy

WINDOW_PREFIX = "OMS_RETURN_WINDOW_DAYS_"


@dataclass(frozen=True)
class WebhookSettings:
    """Where and how refunds are sent to the returns platform."""

    url: str
    secret: str
    # The deadline of one whole call to the platform, not of each read.
    timeout_seconds: float = 3.0


@dataclass(frozen=True)
class ReturnsSettings:
    """The returns policy, the refund provider and how refunds are retried."""

    policy: ReturnsPolicy = field(default_factory=ReturnsPolicy)
    # The refund provider: the returns platform's webhook, or the service's own ledger (None).
    webhook: WebhookSettings | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # How often the worker looks for refunds due another attempt.
    worker_interval: timedelta = field(default_factory=lambda: timedelta(seconds=2))

    def __post_init__(self) -> None:
        """A call that outlasts its lease would let a second attempt start while the first is
        still waiting for its answer."""
        if self.webhook is None:
            return
        deadline, lease = self.webhook.timeout_seconds, self.retry.lease.total_seconds()
        if not 0 < deadline < lease:
            raise ValueError(
                f"OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS ({deadline:g}) must be more than 0 and "
                f"below OMS_REFUND_LEASE_SECONDS ({lease:g})"
            )

    @property
    def refund_provider(self) -> str:
        return "ledger" if self.webhook is None else "webhook"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReturnsSettings:
        """The settings the variables above name; ValueError for a value they do not allow."""
        return cls(
            webhook=webhook_from_env(env),
            retry=retry_policy_from_env(env),
            policy=policy_from_env(env),
            worker_interval=timedelta(
                seconds=float(env.get("OMS_REFUND_WORKER_INTERVAL_SECONDS", "2"))
            ),
        )


def policy_from_env(env: Mapping[str, str]) -> ReturnsPolicy:
    defaults = ReturnsPolicy()
    return ReturnsPolicy(
        window_days=int(env.get("OMS_RETURN_WINDOW_DAYS", defaults.window_days)),
        window_days_by_channel={
            name.removeprefix(WINDOW_PREFIX): int(days)
            for name, days in env.items()
            if name.startswith(WINDOW_PREFIX)
        },
        weight_tolerance=float(env.get("OMS_RETURN_WEIGHT_TOLERANCE", defaults.weight_tolerance)),
        cost_model=ReturnCostModel(
            local_reach_km=float(
                env.get("OMS_RETURN_LOCAL_REACH_KM", defaults.cost_model.local_reach_km)
            )
        ),
        currency=env.get("OMS_REFUND_CURRENCY", defaults.currency),
    )


def webhook_from_env(env: Mapping[str, str]) -> WebhookSettings | None:
    """The webhook's settings when `OMS_REFUND_PROVIDER` names it; None for the ledger."""
    name = env.get("OMS_REFUND_PROVIDER", "ledger")
    if name == "ledger":
        return None
    if name != "webhook":
        raise ValueError(f"OMS_REFUND_PROVIDER must be ledger or webhook, not {name!r}")
    url, secret = env.get("OMS_REFUND_WEBHOOK_URL"), env.get("OMS_REFUND_WEBHOOK_SECRET")
    if not url or not secret:
        raise ValueError("the webhook provider needs OMS_REFUND_WEBHOOK_URL and _SECRET")
    timeout = float(env.get("OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS", "3"))
    return WebhookSettings(url, secret, timeout)


def retry_policy_from_env(env: Mapping[str, str]) -> RetryPolicy:
    return RetryPolicy(
        base_seconds=float(env.get("OMS_REFUND_RETRY_BASE_SECONDS", "2")),
        max_seconds=float(env.get("OMS_REFUND_RETRY_MAX_SECONDS", "600")),
        lease=timedelta(seconds=float(env.get("OMS_REFUND_LEASE_SECONDS", "30"))),
    )
