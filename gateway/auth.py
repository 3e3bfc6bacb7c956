"""Bearer tokens: HS256-signed JWTs carrying a role and, for scanners, a location, for
storefronts the channels they sell on.

The signing key lives in the data dir (created on first use) unless configuration gives one; a
weak configured key is refused. Every token has an id (`jti`), a non-empty subject and a lifetime
no longer than the policy allows; an operator revokes a token by its id (`gateway.revocations`).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from services.kernel.bounds import MAX_CHANNELS, MAX_CODE
from services.kernel.caller import Caller, Role

ALGORITHM = "HS256"
ISSUER = "oms"
DEFAULT_TTL = timedelta(hours=12)
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash, 256 bits.
MIN_KEY_BYTES = 32
# A key of few distinct bytes ("aaaa…", "0101…") is guessable whatever its length.
MIN_KEY_DISTINCT_BYTES = 8
# Words of example files and tutorials; a key containing one was copied, not generated.
PLACEHOLDER_WORDS = ("CHANGEME", "REPLACEME", "PLACEHOLDER")
# The subject travels in every gRPC call's metadata; the id in the revocation list.
MAX_SUBJECT_CHARS = 200
TOKEN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
GENERATE_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired, revoked, too long-lived, or
    carries no valid role or subject."""


class WeakSigningKey(ValueError):
    """A signing key anyone could guess: tokens signed with it prove nothing."""


@dataclass(frozen=True)
class TokenPolicy:
    """How long a token may live, and how far the clocks of issuer and gateway may disagree."""

    max_lifetime: timedelta = timedelta(hours=24)
    leeway: timedelta = timedelta(seconds=30)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> TokenPolicy:
        defaults = cls()
        default_hours = defaults.max_lifetime / timedelta(hours=1)
        hours = float(env.get("OMS_TOKEN_MAX_TTL_HOURS", default_hours))
        leeway = float(env.get("OMS_TOKEN_LEEWAY_SECONDS", defaults.leeway.total_seconds()))
        if hours <= 0 or not 0 <= leeway <= 300:
            raise ValueError(
                "OMS_TOKEN_MAX_TTL_HOURS must be more than 0 and OMS_TOKEN_LEEWAY_SECONDS "
                f"within 0..300, got {hours:g} and {leeway:g}"
            )
        return cls(timedelta(hours=hours), timedelta(seconds=leeway))


@dataclass(frozen=True)
class VerifiedToken:
    """A token that checked out: whom it speaks for, its id, and until when it holds."""

    caller: Caller
    token_id: str
    expires_at: datetime


def require_strong_key(key: bytes, source: str) -> bytes:
    """`key` when it is strong enough to sign tokens; `WeakSigningKey` naming `source` else."""
    letters = re.sub(rb"[^A-Za-z]", b"", key).upper()
    if any(word.encode() in letters for word in PLACEHOLDER_WORDS):
        problem = "is a placeholder from an example"
    elif len(key) < MIN_KEY_BYTES:
        problem = f"is {len(key)} bytes long; it must have at least {MIN_KEY_BYTES}"
    elif len(set(key)) < MIN_KEY_DISTINCT_BYTES:
        problem = f"has fewer than {MIN_KEY_DISTINCT_BYTES} distinct characters"
    else:
        return key
    raise WeakSigningKey(
        f"the token signing key ({source}) {problem}. Generate one with: {GENERATE_KEY}"
    )


def signing_key_path(data_dir: Path) -> Path:
    return data_dir / "secrets" / "jwt-signing-key"


def load_or_create_signing_key(data_dir: Path) -> bytes:
    """The key in the data dir; a new random one on first start (readable by the owner only)."""
    path = signing_key_path(data_dir)
    if path.exists():
        return require_strong_key(path.read_bytes().strip(), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key


def signing_key_from_env(data_dir: Path, env: Mapping[str, str] | None = None) -> bytes:
    """`OMS_JWT_SECRET` when set, else the data dir's key; `WeakSigningKey` when weak."""
    environment = os.environ if env is None else env
    configured = environment.get("OMS_JWT_SECRET")
    if configured:
        return require_strong_key(configured.encode(), "OMS_JWT_SECRET")
    return load_or_create_signing_key(data_dir)


def issue_token(
    key: bytes,
    role: Role,
    location_code: str | None = None,
    subject: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    policy: TokenPolicy | None = None,
    channels: Sequence[str] = (),
) -> str:
    policy = policy or TokenPolicy()
    if role is Role.SCANNER and not location_code:
        raise ValueError("a scanner token must name its location")
    if role is Role.STOREFRONT and channels_problem(channels):
        raise ValueError(f"a storefront token must name its channels: {channels_problem(channels)}")
    if not timedelta(0) < ttl <= policy.max_lifetime:
        raise ValueError(f"a token lives more than 0 and at most {policy.max_lifetime}")
    if subject is not None and (not subject.strip() or len(subject) > MAX_SUBJECT_CHARS):
        raise ValueError(f"a subject is 1 to {MAX_SUBJECT_CHARS} characters")
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": subject if subject is not None else f"{role.value}-{secrets.token_hex(4)}",
        "role": role.value,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(16),
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


def token_id_of(token: str) -> str:
    """The id a token carries, read without checking its signature (for revoking it)."""
    try:
        token_id = jwt.decode(token, options={"verify_signature": False}).get("jti")
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error) or "not a token") from error
    if not isinstance(token_id, str) or not TOKEN_ID.fullmatch(token_id):
        raise InvalidToken("the token carries no id")
    return token_id


def read_token(
    key: bytes,
    token: str,
    policy: TokenPolicy | None = None,
    revoked: Container[str] = frozenset(),
) -> VerifiedToken:
    """The token's caller, id and expiry, once its signature, issuer, times, lifetime, subject,
    role and id check out and the id is not revoked."""
    policy = policy or TokenPolicy()
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            leeway=policy.leeway,
            options={"require": ["exp", "iat", "iss", "sub", "jti"]},
        )
        role = Role(str(claims.get("role", "")))
    except (jwt.PyJWTError, ValueError) as error:
        raise InvalidToken(str(error) or "invalid token") from error
    subject, token_id = claims["sub"], claims["jti"]
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT_CHARS:
        raise InvalidToken(f"the subject must be 1 to {MAX_SUBJECT_CHARS} characters")
    if not isinstance(token_id, str) or not TOKEN_ID.fullmatch(token_id):
        raise InvalidToken("the token id (jti) is malformed")
    # PyJWT has checked that both are numbers.
    issued_at = datetime.fromtimestamp(int(claims["iat"]), UTC)
    expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    if expires_at - issued_at > policy.max_lifetime:
        raise InvalidToken(f"the token lives longer than {policy.max_lifetime}")
    if token_id in revoked:
        raise InvalidToken("the token has been revoked")
    location = claims.get("loc")
    if role is Role.SCANNER and not location:
        raise InvalidToken("scanner token without a location")
    channels = claims.get(CHANNELS_CLAIM, [])
    if role is Role.STOREFRONT and channels_problem(channels):
        raise InvalidToken(
            f"storefront token without valid channels ({channels_problem(channels)})"
        )
    caller = Caller(
        subject=subject,
        role=role,
        location_code=location,
        channels=tuple(channels) if role is Role.STOREFRONT else (),
    )
    return VerifiedToken(caller, token_id, expires_at)


def verify_token(key: bytes, token: str, policy: TokenPolicy | None = None) -> Caller:
    """The caller a valid token speaks for (`read_token` without a revocation list)."""
    return read_token(key, token, policy).caller


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` value."""
    if not authorization:
        raise InvalidToken("missing Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Authorization must be 'Bearer <token>'")
    return token.strip()


@dataclass(frozen=True)
class TokenVerifier:
    """The gateway's check of bearer tokens: its key, its policy and the revoked ids."""

    key: bytes
    policy: TokenPolicy = TokenPolicy()
    revoked: Container[str] = frozenset()
    # How many tokens verified before are remembered by their text: a client sends the same
    # token with every request, and checking its signature and claims again cost a fifth of
    # an availability request's CPU. The oldest is forgotten first.
    remembered: int = 4096
    _verified: dict[str, VerifiedToken] = field(default_factory=dict, compare=False, repr=False)

    def from_header(self, authorization: str | None) -> VerifiedToken:
        """The token of an `Authorization: Bearer <token>` value, verified (a token verified
        before only checked again for expiry and revocation, which can change)."""
        text = bearer_token(authorization)
        known = self._verified.get(text)
        if known is not None:
            reason = self.refusal(known)
            if reason is None:
                return known
            del self._verified[text]
            raise InvalidToken(reason)
        token = read_token(self.key, text, self.policy, self.revoked)
        while len(self._verified) >= self.remembered > 0:
            del self._verified[next(iter(self._verified))]
        if self.remembered > 0:
            self._verified[text] = token
        return token

    def refusal(self, token: VerifiedToken, now: datetime | None = None) -> str | None:
        """Why a token verified earlier no longer holds (expired, revoked); None while it does."""
        if (now or datetime.now(UTC)) >= token.expires_at + self.policy.leeway:
            return "the token has expired"
        if token.token_id in self.revoked:
            return "the token has been revoked"
        return None

    def seconds_left(self, token: VerifiedToken, now: datetime | None = None) -> float:
        """How long until the token expires, leeway included."""
        remaining = token.expires_at + self.policy.leeway - (now or datetime.now(UTC))
        return max(remaining.total_seconds(), 0.0)
