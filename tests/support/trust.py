"""The tests' own CA, made once per test process with a certificate for every part, so that the
services and gateways under test talk mutual TLS as they do in production."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import grpc

from launcher.pki import issue_all
from services.kernel.grpc_client import DEFAULT_DEADLINE_SECONDS, open_channel
from services.kernel.tls import GATEWAY, Credentials


@functools.cache
def pki_root() -> Path:
    """The folder holding the CA (`ca.crt`, `ca.key`) and every part's folder."""
    folder = Path(tempfile.mkdtemp(prefix="oms-test-pki-"))
    atexit.register(shutil.rmtree, folder, True)
    issue_all(folder)
    return folder


def tls_dir(part: str) -> Path:
    """`part`'s certificate folder, as `OMS_TLS_DIR` names it."""
    return pki_root() / part


def credentials(part: str) -> Credentials:
    return Credentials.load(tls_dir(part))


def gateway_channel(
    target: str, service: str, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
) -> grpc.aio.Channel:
    """A channel to `service` as the gateway opens one: a test on it may speak for a user."""
    return open_channel(target, service, credentials(GATEWAY), deadline_seconds)
