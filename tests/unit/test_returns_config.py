"""The returns service's settings from the environment and the webhook's wire format, without
I/O: what an operator sets is what the service does, and what the platform verifies is what
the service sends."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from services.returns.bootstrap import refund_provider_for
from services.returns.domain.model import RefundPayment
from services.returns.domain.policy import channel_key
from services.returns.refunds import (
    IssueOutcome,
    LedgerRefunds,
    WebhookRefunds,
    outcome_for_status,
    signature,
)
from services.returns.settings import ReturnsSettings, WebhookSettings


def test_defaults_follow_the_brief() -> None:
    settings = ReturnsSettings.from_env({})
    policy = settings.policy
    assert policy.window("web") == timedelta(days=30)
    assert policy.weight_tolerance == 0.3
    assert policy.cost_model.local_reach_km == 50
    assert policy.currency == "EUR"
    assert settings.refund_provider == "ledger"
    assert isinstance(refund_provider_for(settings), LedgerRefunds)
    retry = settings.retry
    assert (retry.base_seconds, retry.max_seconds, retry.lease) == (2, 600, timedelta(seconds=30))
    assert settings.worker_interval == timedelta(seconds=2)
    assert settings == ReturnsSettings()


def test_each_channel_may_have_its_own_return_window() -> None:
    policy = ReturnsSettings.from_env(
        {"OMS_RETURN_WINDOW_DAYS": "14", "OMS_RETURN_WINDOW_DAYS_MARKET_PLACE": "60"}
    ).policy
    assert channel_key("market-place") == "MARKET_PLACE"
    assert policy.window("market-place") == timedelta(days=60)
    assert policy.window("web") == timedelta(days=14)


def test_the_webhook_provider_needs_its_url_and_secret() -> None:
    env = {"OMS_REFUND_PROVIDER": "webhook", "OMS_REFUND_WEBHOOK_URL": "http://pay.example/r"}
    with pytest.raises(ValueError, match="SECRET"):
        ReturnsSettings.from_env(env)
    settings = ReturnsSettings.from_env({**env, "OMS_REFUND_WEBHOOK_SECRET": "s"})
    assert settings.webhook == WebhookSettings("http://pay.example/r", "s", 3.0)
    provider = refund_provider_for(settings)
    assert provider.name == "webhook"
    with pytest.raises(ValueError, match="ledger or webhook"):
        ReturnsSettings.from_env({"OMS_REFUND_PROVIDER": "cash"})


def test_every_refund_setting_is_read() -> None:
    settings = ReturnsSettings.from_env(
        {
            "OMS_RETURN_WEIGHT_TOLERANCE": "0.1",
            "OMS_RETURN_LOCAL_REACH_KM": "25",
            "OMS_REFUND_CURRENCY": "CHF",
            "OMS_REFUND_PROVIDER": "webhook",
            "OMS_REFUND_WEBHOOK_URL": "http://pay.example/r",
            "OMS_REFUND_WEBHOOK_SECRET": "s",
            "OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS": "1.5",
            "OMS_REFUND_RETRY_BASE_SECONDS": "0.5",
            "OMS_REFUND_RETRY_MAX_SECONDS": "60",
            "OMS_REFUND_LEASE_SECONDS": "10",
            "OMS_REFUND_WORKER_INTERVAL_SECONDS": "0.25",
        }
    )
    policy = settings.policy
    assert (policy.weight_tolerance, policy.cost_model.local_reach_km, policy.currency) == (
        0.1,
        25,
        "CHF",
    )
    assert settings.webhook == WebhookSettings("http://pay.example/r", "s", 1.5)
    retry = settings.retry
    assert (retry.base_seconds, retry.max_seconds, retry.lease) == (0.5, 60, timedelta(seconds=10))
    assert settings.worker_interval == timedelta(seconds=0.25)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, IssueOutcome.ISSUED),
        (201, IssueOutcome.ISSUED),
        (204, IssueOutcome.ISSUED),
        (409, IssueOutcome.RETRY),
        (429, IssueOutcome.RETRY),
        (500, IssueOutcome.RETRY),
        (503, IssueOutcome.RETRY),
        (400, IssueOutcome.GIVE_UP),
        (401, IssueOutcome.GIVE_UP),
        (404, IssueOutcome.GIVE_UP),
        (422, IssueOutcome.GIVE_UP),
    ],
)
def test_what_each_answer_of_the_platform_means(status: int, outcome: IssueOutcome) -> None:
    assert outcome_for_status(status) is outcome


def test_the_body_is_the_agreed_json_and_its_signature_covers_a_timestamp_and_the_body() -> None:
    payment = RefundPayment("rf-1", "rt-1", "or-1", 5000, "EUR")
    body = WebhookRefunds.body(payment)
    assert json.loads(body) == {
        "refund_id": "rf-1",
        "return_id": "rt-1",
        "order_id": "or-1",
        "amount_cents": 5000,
        "currency": "EUR",
    }
    provider = WebhookRefunds("http://pay.example/r", "key", clock=lambda: 1_700_000_000.9)
    headers = provider.headers(payment, body)
    expected = hmac.new(b"key", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers["X-OMS-Signature"] == f"t=1700000000,v1={expected}"
    assert signature("key", 1_700_000_000, body) == headers["X-OMS-Signature"]
    assert headers["Idempotency-Key"] == "rf-1"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("deadline", ["30", "45", "0"])
def test_a_webhook_call_must_end_before_its_lease_does(deadline: str) -> None:
    env = {
        "OMS_REFUND_PROVIDER": "webhook",
        "OMS_REFUND_WEBHOOK_URL": "http://pay.example/r",
        "OMS_REFUND_WEBHOOK_SECRET": "s",
        "OMS_REFUND_LEASE_SECONDS": "30",
    }
    with pytest.raises(ValueError, match="below OMS_REFUND_LEASE_SECONDS"):
        ReturnsSettings.from_env({**env, "OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS": deadline})
    settings = ReturnsSettings.from_env({**env, "OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS": "29.5"})
    assert settings.webhook is not None and settings.webhook.timeout_seconds == 29.5
