"""Token rules, the revocation list, the checks made of a request before parsing it, and the
services the schema calls — without a network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from gateway.auth import (
    InvalidToken,
    TokenPolicy,
    TokenVerifier,
    WeakSigningKey,
    issue_token,
    load_or_create_signing_key,
    read_token,
    require_strong_key,
    signing_key_path,
)
from gateway.dependencies import classes_reached, services_called
from gateway.edge import MediaType, answer_media_type, nested_deeper_than
from gateway.orders.resolvers import OrdersQuery
from gateway.revocations import RevocationList, revoke
from gateway.schema import build_schema
from launcher.cli import main
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from services.kernel.caller import Role

KEY = b"unit-test-signing-key-0123456789abcdef"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def signed(**claims: object) -> str:
    base = {
        "iss": "oms",
        "sub": "shop-eu",
        "role": "storefront",
        "jti": "id-1",
        "channels": ["web"],
    }
    return jwt.encode({**base, **claims}, KEY, "HS256")


# Lifetimes and clocks


def test_clock_leeway_accepts_a_token_just_expired_and_no_later() -> None:
    now = datetime.now(UTC)
    token = signed(iat=now - timedelta(hours=1), exp=now - timedelta(seconds=10))
    assert read_token(KEY, token, TokenPolicy(leeway=timedelta(seconds=30))).caller.subject
    with pytest.raises(InvalidToken, match="expired"):
        read_token(KEY, token, TokenPolicy(leeway=timedelta(seconds=5)))


def test_lifetimes_are_capped_when_issued_and_when_verified() -> None:
    policy = TokenPolicy(max_lifetime=timedelta(hours=24))
    with pytest.raises(ValueError, match="at most"):
        issue_token(KEY, Role.ADMIN, ttl=timedelta(hours=25), policy=policy)
    now = datetime.now(UTC)
    week = signed(iat=now, exp=now + timedelta(days=7))
    with pytest.raises(InvalidToken, match="longer than"):
        read_token(KEY, week, policy)
    day = signed(iat=now, exp=now + timedelta(hours=24))
    assert read_token(KEY, day, policy).expires_at == datetime.fromtimestamp(
        int((now + timedelta(hours=24)).timestamp()), UTC
    )


@pytest.mark.parametrize("subject", ["", "  ", "x" * 201])
def test_a_subject_is_required_and_bounded(subject: str) -> None:
    now = datetime.now(UTC)
    with pytest.raises(InvalidToken, match="subject"):
        read_token(KEY, signed(sub=subject, iat=now, exp=now + timedelta(hours=1)))
    with pytest.raises(ValueError, match="subject"):
        issue_token(KEY, Role.STOREFRONT, subject=subject, channels=("web",))


def test_every_token_has_its_own_id() -> None:
    ids = {read_token(KEY, issue_token(KEY, Role.ADMIN)).token_id for _ in range(3)}
    assert len(ids) == 3
    now = datetime.now(UTC)
    with pytest.raises(InvalidToken, match="jti"):
        read_token(KEY, signed(jti=None, iat=now, exp=now + timedelta(hours=1)))


def test_a_verified_token_stops_holding_when_it_expires_or_is_revoked() -> None:
    revoked: set[str] = set()
    verifier = TokenVerifier(KEY, TokenPolicy(leeway=timedelta(seconds=30)), revoked)
    token = verifier.from_header(f"Bearer {issue_token(KEY, Role.ADMIN)}")
    assert verifier.refusal(token) is None
    assert verifier.refusal(token, token.expires_at + timedelta(seconds=29)) is None
    assert verifier.refusal(token, token.expires_at + timedelta(seconds=30)) == (
        "the token has expired"
    )
    assert verifier.seconds_left(token, token.expires_at) == 30
    revoked.add(token.token_id)
    assert verifier.refusal(token) == "the token has been revoked"


def test_a_token_verified_before_is_still_refused_once_revoked_and_few_are_remembered() -> None:
    revoked: set[str] = set()
    verifier = TokenVerifier(KEY, TokenPolicy(), revoked, remembered=3)
    texts = [issue_token(KEY, Role.ADMIN) for _ in range(5)]
    first = verifier.from_header(f"Bearer {texts[0]}")
    assert verifier.from_header(f"Bearer {texts[0]}") is first, "remembered, not read again"
    revoked.add(first.token_id)
    with pytest.raises(InvalidToken, match="revoked"):
        verifier.from_header(f"Bearer {texts[0]}")
    for text in texts:
        if text != texts[0]:
            verifier.from_header(f"Bearer {text}")
    assert len(verifier._verified) == 3  # the oldest forgotten first
    assert verifier.from_header(f"Bearer {texts[-1]}") is verifier._verified[texts[-1]]
    with pytest.raises(InvalidToken):
        verifier.from_header(f"Bearer {texts[-1][:-2]}")  # a forged variant is read, not recalled


# Signing keys


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (b"CHANGE-ME", "placeholder"),
        (b"change_me-0123456789abcdefghijklmnopqrstuvwxyz", "placeholder"),
        (b"0123456789abcdefghij", "at least 32"),
        (b"ab" * 32, "distinct"),
    ],
)
def test_weak_keys_are_refused(key: bytes, problem: str) -> None:
    with pytest.raises(WeakSigningKey, match=problem):
        require_strong_key(key, "OMS_JWT_SECRET")


def test_the_generated_key_is_strong_and_a_weakened_key_file_is_refused(tmp_path: Path) -> None:
    key = load_or_create_signing_key(tmp_path)
    assert require_strong_key(key, "generated") == key
    signing_key_path(tmp_path).write_bytes(b"CHANGE-ME")
    with pytest.raises(WeakSigningKey, match="jwt-signing-key"):
        load_or_create_signing_key(tmp_path)


# The revocation list


def test_a_revocation_is_seen_at_once_and_kept_for_a_tokens_lifetime(tmp_path: Path) -> None:
    path, keep_for = tmp_path / "revoked", timedelta(hours=24)
    revoked = RevocationList(path, keep_for)
    assert "id-1" not in revoked
    revoke(path, "id-1", keep_for, now=datetime.now(UTC) - timedelta(hours=25))
    revoke(path, "id-2", keep_for)
    assert "id-2" in revoked
    # id-1 was revoked longer ago than any token lives: dropped when the list was rewritten.
    assert "id-1" not in revoked and "id-1" not in path.read_text()
    path.write_text(path.read_text() + "not an id!\nid-3 not-a-date\n")
    assert "id-3" in revoked and "id-2" in revoked


def test_an_unreadable_list_keeps_the_ids_known(tmp_path: Path) -> None:
    path = tmp_path / "revoked"
    revoke(path, "id-1", timedelta(hours=1))
    revoked = RevocationList(path, timedelta(hours=1))
    assert "id-1" in revoked
    path.write_bytes(b"\xff\xfe not utf-8")
    assert "id-1" in revoked


# oms token


def test_oms_token_refuses_a_weak_configured_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_JWT_SECRET", "CHANGE-ME")
    assert main(["token", "--role", "admin", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "OMS_JWT_SECRET" in err and "placeholder" in err and "Traceback" not in err


def test_oms_token_caps_lifetimes_and_revokes_by_id_or_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMS_JWT_SECRET", raising=False)
    monkeypatch.delenv("OMS_TOKEN_REVOCATION_FILE", raising=False)
    monkeypatch.setenv("OMS_TOKEN_MAX_TTL_HOURS", "8")
    data_dir = ["--data-dir", str(tmp_path)]
    assert main(["token", "--role", "admin", "--ttl-hours", "9", *data_dir]) == 2
    assert "at most 8:00:00" in capsys.readouterr().err

    assert main(["token", "--role", "admin", "--ttl-hours", "8", *data_dir]) == 0
    comment, token = capsys.readouterr().out.strip().splitlines()[-2:]
    token_id = read_token(load_or_create_signing_key(tmp_path), token).token_id
    assert f"id {token_id}" in comment

    assert main(["token", "--revoke", token, *data_dir]) == 0
    listed = tmp_path / "secrets" / "revoked-tokens"
    assert token_id in RevocationList(listed, timedelta(hours=8))
    assert main(["token", "--revoke", "bad id!", *data_dir]) == 2
    assert "not a token id" in capsys.readouterr().err


# Before parsing


@pytest.mark.parametrize(
    ("document", "deeper_than_3"),
    [
        ('{"a": [[1]]}', False),
        ('{"a": [[[1]]]}', True),
        ('{"a": "[[[[[[", "b": {"c": 1}}', False),
        ('{"a": "\\"[[[[", "b": 1}', False),
        ("[]" * 1000, False),
    ],
)
def test_nesting_is_measured_outside_strings(document: str, deeper_than_3: bool) -> None:
    assert nested_deeper_than(document, 3) is deeper_than_3
    assert nested_deeper_than(document.encode(), 3) is deeper_than_3


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, MediaType.JSON),
        ("*/*", MediaType.JSON),
        ("application/graphql-response+json", MediaType.GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", MediaType.JSON),
        ("application/json;q=0.5, application/graphql-response+json", MediaType.GRAPHQL_RESPONSE),
        ("application/graphql-response+json;charset=latin-1, */*", MediaType.JSON),
        ("text/html", MediaType.JSON),
    ],
)
def test_the_answer_is_in_the_media_type_the_client_prefers(
    accept: str | None, media_type: MediaType
) -> None:
    assert answer_media_type(accept) is media_type


# Readiness


def test_the_services_the_schema_calls_are_found_in_its_code() -> None:
    # Through the helper that names the stub (`_orders`), not in the resolver itself.
    field = OrdersQuery.__strawberry_definition__.get_field("order")  # type: ignore[attr-defined]
    assert field is not None and field.base_resolver is not None
    assert OrdersServiceStub in classes_reached([field.base_resolver.wrapped_func])
    assert services_called(build_schema()) == {
        "inventory",
        "orders",
        "returns",
        "workorders",
        "procurement",
        "channels",
    }
