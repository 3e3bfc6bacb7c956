"""The returns service's settings from the environment and the webhook's wire format, without
I/O: what an operator sets is what the service does, and what the platform verifies is what
the service sends."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from services.returns.bootstrap import (
    policy_from_env,
    refund_provider_from_env,
    retry_policy_from_env,
)
from services.returns.refunds import (
    IssueOutcome,
    LedgerRefunds,
    RefundPayment,
    WebhookRefunds,
    outcome_for_status,
    signature,
)
from services.returns.service import channel_key


def test_defaults_follow_the_brief() -> None:
    policy = policy_from_env({})
    assert policy.window("web") == timedelta(days=30)
    assert policy.weight_tolerance == 0.3
    assert policy.cost_model.local_reach_km == 50
    assert policy.currency == "EUR"
    assert isinstance(refund_provider_from_env({}), LedgerRefunds)
    retry = retry_policy_from_env({})
    assert (retry.base_seconds, retry.max_seconds, retry.lease) == (2, 600, timedelta(seconds=30))


def test_each_channel_may_have_its_own_return_window() -> None:
    policy = policy_from_env(
        {"OMS_RETURN_WINDOW_DAYS": "14", "OMS_RETURN_WINDOW_DAYS_MARKET_PLACE": "60"}
    )
    assert channel_key("market-place") == "MARKET_PLACE"
    assert policy.window("market-place") == timedelta(days=60)
    assert policy.window("web") == timedelta(days=14)


def test_the_webhook_provider_needs_its_url_and_secret() -> None:
    env = {"OMS_REFUND_PROVIDER": "webhook", "OMS_REFUND_WEBHOOK_URL": "http://pay.example/r"}
    with pytest.raises(ValueError, match="SECRET"):
        refund_provider_from_env(env)
    provider = refund_provider_from_env({**env, "OMS_REFUND_WEBHOOK_SECRET": "s"})
    assert provider.name == "webhook"
    with pytest.raises(ValueError, match="ledger or webhook"):
        refund_provider_from_env({"OMS_REFUND_PROVIDER": "cash"})


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


def test_the_body_is_the_agreed_json_and_its_signature_is_an_hmac_of_the_raw_bytes() -> None:
    payment = RefundPayment("rf-1", "rt-1", "or-1", 5000, "EUR")
    body = WebhookRefunds.body(payment)
    assert json.loads(body) == {
        "refund_id": "rf-1",
        "return_id": "rt-1",
        "order_id": "or-1",
        "amount_cents": 5000,
        "currency": "EUR",
    }
    expected = hmac.new(b"key", body, hashlib.sha256).hexdigest()
    assert signature("key", body) == f"sha256={expected}"
