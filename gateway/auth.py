"""Bearer tokens: HS256-signed JWTs carrying a role and, for scanners, a location, for
storefronts the channels they sell on.

The signing key lives in the data dir (created on first use) unless configuration gives one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from services.kernel.bounds import MAX_CHANNELS, MAX_CODE
from services.kernel.caller import Caller, Role

ALGORITHM = "HS256"
ISSUER = "oms"
DEFAULT_TTL = timedelta(hours=12)


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired or carries no valid role."""


def signing_key_path(data_dir: Path) -> Path:
    return data_dir / "secrets" / "jwt-signing-key"


def load_or_create_signing_key(data_dir: Path) -> bytes:
    """The key in the data dir; a new random one on first start (readable by the owner only)."""
    path = signing_key_path(data_dir)
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key


def signing_key_from_env(data_dir: Path, env: dict[str, str] | None = None) -> bytes:
    """`OMS_JWT_SECRET` when set, else the data dir's key."""
    environment = os.environ if env is None else env
    configured = environment.get("OMS_JWT_SECRET")
    if configured:
        return configured.encode()
    return load_or_create_signing_key(data_dir)


def issue_token(
    key: bytes,
    role: Role,
    location_code: str | None = None,
    subject: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    channels: Sequence[str] = (),
) -> str:
    if role is Role.SCANNER and not location_code:
        raise ValueError("a scanner token must name its location")
    if role is Role.STOREFRONT and channels_problem(channels):
        raise ValueError(f"a storefront token must name its channels: {channels_problem(channels)}")
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": subject or f"{role.value}-{secrets.token_hex(4)}",
        "role": role.value,
        "iat": now,
        "exp": now + ttl,
    }
    if location_code:
        claims["loc"] = location_code
    if role is Role.STOREFRONT:
        claims[CHANNELS_CLAIM] = list(channels)
    return jwt.encode(claims, key, algorithm=ALGORITHM)


# The sales channels a storefront token is bound to: it places and reads orders of these only.
CHANNELS_CLAIM = "channels"


def channels_problem(channels: object) -> str | None:
    """Why `channels` is no storefront's list of channels (1..MAX_CHANNELS codes); None when it
    is one."""
    if not isinstance(channels, (list, tuple)) or not channels:
        return "at least one channel"
    if len(channels) > MAX_CHANNELS:
        return f"at most {MAX_CHANNELS} channels"
    for channel in channels:
        if (
            not isinstance(channel, str)
            or not 0 < len(channel) <= MAX_CODE
            or not channel.isprintable()
            or any(ch.isspace() for ch in channel)
        ):
            return f"channel codes of 1-{MAX_CODE} characters without spaces"
    return None


def verify_token(key: bytes, token: str) -> Caller:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "sub"]},
        )
        role = Role(str(claims.get("role", "")))
    except (jwt.PyJWTError, ValueError) as error:
        raise InvalidToken(str(error) or "invalid token") from error
    location = claims.get("loc")
    if role is Role.SCANNER and not location:
        raise InvalidToken("scanner token without a location")
    channels = claims.get(CHANNELS_CLAIM, [])
    if role is Role.STOREFRONT and channels_problem(channels):
        raise InvalidToken(
            f"storefront token without valid channels ({channels_problem(channels)})"
        )
    return Caller(
        subject=str(claims["sub"]),
        role=role,
        location_code=location,
        channels=tuple(channels) if role is Role.STOREFRONT else (),
    )


def principal_from_header(key: bytes, authorization: str | None) -> Caller:
    """The principal from an `Authorization: Bearer <token>` value."""
    if not authorization:
        raise InvalidToken("missing Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization must be 'Bearer <token>'")
    return verify_token(key, token.strip())
