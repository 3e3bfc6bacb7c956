"""Log lines: one JSON object each, with the same fields in every part and the trace they belong
to; readable on a terminal; and never a token, a password or an address."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from services.kernel.logs import REDACTED, handler

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzaG9wLWV1In0.c2lnbmF0dXJlLW9mLWEtdG9rZW4"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def written() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("tests.logs")
    logger.propagate = False
    logger.addHandler(handler("orders", stream))
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.handlers.clear()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_is_json_with_the_shared_fields_and_what_it_is_about(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = written
    logger.info("order %s allocated", "o-1", extra={"order_id": "o-1", "return_id": "r-2"})
    (line,) = lines(stream)
    assert list(line)[:6] == ["time", "level", "service", "logger", "message", "order_id"]
    assert line["level"] == "INFO"
    assert line["service"] == "orders"
    assert line["message"] == "order o-1 allocated"
    assert (line["order_id"], line["return_id"]) == ("o-1", "r-2")
    assert str(line["time"]).endswith("+00:00")


def test_a_line_in_a_trace_names_its_trace(written: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = written
    tracer = TracerProvider().get_tracer("tests")
    with tracer.start_as_current_span("placing") as span:
        logger.info("placing")
    logger.info("outside")
    inside, outside = lines(stream)
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert "trace_id" not in outside


def test_tokens_secrets_passwords_and_addresses_never_reach_a_line(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = written
    address = {"name": "Ada", "street": "Unter den Linden 1", "city": "Berlin"}
    logger.warning(
        "nats at %s refused Bearer %s, then %s",
        "nats://orders:s3cret-pw@127.0.0.1:4222",
        TOKEN,
        {"authorization": "Basic dXNlcjpwYXNz"},
        extra={
            "ship_to": address,
            "api_key": "sk_live_123",
            "webhook": {"secret": "whsec_9"},
            "order_id": "o-1",
        },
    )
    try:
        raise ValueError(f"could not reach postgresql://oms:hunter2@db:5432/oms with {TOKEN}")
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    for secret in ("s3cret-pw", TOKEN, "dXNlcjpwYXNz", "Unter den Linden", "sk_live_123",
                   "whsec_9", "hunter2"):  # fmt: skip
        assert secret not in text
    first, second = lines(stream)
    assert first["message"] == (
        f"nats at nats://orders:***@127.0.0.1:4222 refused Bearer {REDACTED}, "
        f"then {{'authorization': '{REDACTED}'}}"
    )
    assert (first["ship_to"], first["api_key"]) == (REDACTED, REDACTED)
    assert first["webhook"] == {"secret": REDACTED}
    assert first["order_id"] == "o-1"
    assert "postgresql://oms:***@db:5432/oms" in str(second["exception"])


def test_a_terminal_gets_readable_lines() -> None:
    terminal = Terminal()
    logger = logging.getLogger("tests.logs.terminal")
    logger.propagate = False
    logger.addHandler(handler("returns", terminal))
    try:
        logger.info("return received", extra={"return_id": "r-1", "password": "pw"})
    finally:
        logger.handlers.clear()
    line = terminal.getvalue().rstrip("\n")
    assert not line.startswith("{")
    assert line.endswith(f"returns return received  return_id=r-1 password={REDACTED}")
