"""Every process logs one way: a JSON object per line with one field set across the parts (time,
level, service, trace id, logger, message, and the order, return or work order a line is about,
given with `extra=`), or a readable line when a person watches a terminal. Tokens, secrets,
passwords and full addresses never reach a line: known keys are redacted, and so are credentials
in URLs and bearer tokens in the text."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from services.kernel import tracing

# What a line may say it is about, given with `extra=` (`log.info("...", extra={"order_id":
# order.id})`), in the order they are written.
SUBJECT_FIELDS = ("order_id", "return_id", "work_order_id", "event_id", "channel", "location")
REDACTED = "[redacted]"
# Extras whose values are never written, whatever they hold (case-insensitive substrings).
SECRET_KEYS = (
    "token",
    "secret",
    "password",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
    "signature",
    "address",
    "ship_to",
    "street",
    "email",
    "phone",
)
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/\s:@]*):[^/\s@]*@"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# A JSON Web Token anywhere in a line: three base64url parts, the first a JSON header.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")
# The attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in SECRET_KEYS)


def scrub(text: str) -> str:
    """`text` with credentials in URLs, bearer tokens and JWTs blanked out."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    text = _BEARER.sub(lambda m: f"{m[1]} {REDACTED}", text)
    return _JWT.sub(REDACTED, text)


def _redacted(value: Any, key: str = "") -> Any:
    if key and is_secret_key(key):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: _redacted(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


class Redaction(logging.Filter):
    """Blanks what must never be logged, on the record itself, before any handler formats it:
    the values of secret keys among its extras and its arguments, and credentials in its text."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in set(record.__dict__) - _STANDARD:
            record.__dict__[key] = _redacted(record.__dict__[key], key)
        if isinstance(record.args, Mapping):
            record.args = _redacted(record.args)
        elif isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    extras = {key: record.__dict__[key] for key in set(record.__dict__) - _STANDARD}
    ordered = {key: extras.pop(key) for key in SUBJECT_FIELDS if key in extras}
    return ordered | dict(sorted(extras.items()))


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, service, trace_id (when in a trace), logger,
    message, the record's extras, and the exception's traceback when there is one."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
        }
        trace_id = tracing.current_trace_id()
        if trace_id:
            line["trace_id"] = trace_id
        line["logger"] = record.name
        line["message"] = scrub(record.getMessage())
        line |= _extras(record)
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class Readable(logging.Formatter):
    """A line for a person at a terminal: time, level, service, message, then the extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = [f"{key}={value}" for key, value in _extras(record).items()]
        trace_id = tracing.current_trace_id()
        if trace_id:
            fields.append(f"trace={trace_id[:8]}")
        text = f"{when} {record.levelname:<7} {self.service} {scrub(record.getMessage())}"
        if fields:
            text += "  " + " ".join(fields)
        if record.exc_info:
            text += "\n" + scrub(self.formatException(record.exc_info))
        return text


def handler(service: str, stream: TextIO) -> logging.Handler:
    """A handler writing to `stream`: JSON lines, or readable lines on a terminal."""
    written = logging.StreamHandler(stream)
    interactive = hasattr(stream, "isatty") and stream.isatty()
    written.setFormatter(Readable(service) if interactive else JsonLines(service))
    written.addFilter(Redaction())
    return written


def configure(service: str, stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Sends every logger's records (uvicorn's and the libraries' too) through one handler on
    standard error. Called once, at the start of a process."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler(service, stream or sys.stderr))
    root.setLevel(level)
