"""Mutual TLS between the system's own processes: each one holds a certificate signed by the
system's CA, in a directory of its own (`ca.crt`, `tls.crt`, `tls.key`, the names cert-manager
and `kubernetes.io/tls` Secrets use), named after what it is (`inventory`, `gateway`, ...).

A server admits only clients with a certificate from that CA; a client checks that the server
holds the certificate of the service it meant to call, whatever address it dialled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

from services.kernel.settings import PLAINTEXT_VARIABLE, tls_dir

CA_FILE = "ca.crt"
CERTIFICATE_FILE = "tls.crt"
KEY_FILE = "tls.key"
GATEWAY = "gateway"

if TYPE_CHECKING:  # generic in the type stubs only
    ServicerContext = grpc.aio.ServicerContext[Any, Any]
else:
    ServicerContext = grpc.aio.ServicerContext


class MissingCredentials(RuntimeError):
    """A process meant to use TLS finds no certificate where its settings say."""


@dataclass(frozen=True, repr=False)
class Credentials:
    """One party's certificate and private key, and the CA certificate every party trusts."""

    ca: bytes
    certificate: bytes
    private_key: bytes

    @classmethod
    def load(cls, directory: Path) -> Credentials:
        files = [directory / name for name in (CA_FILE, CERTIFICATE_FILE, KEY_FILE)]
        missing = [path.name for path in files if not path.is_file()]
        if missing:
            raise MissingCredentials(
                f"no TLS credentials in {directory} (missing {', '.join(missing)}): "
                "`oms up` and `oms certs` make them; OMS_TLS_DIR says where they are; "
                f"{PLAINTEXT_VARIABLE}=1 runs without TLS, for a lone development process only"
            )
        ca, certificate, key = (path.read_bytes() for path in files)
        return cls(ca, certificate, key)

    def for_server(self) -> grpc.ServerCredentials:
        """A server's side: its certificate, and a client certificate from the CA required."""
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate)],
            root_certificates=self.ca,
            require_client_auth=True,
        )

    def for_channel(self) -> grpc.ChannelCredentials:
        """A client's side: the CA it checks servers against, and its own certificate."""
        return grpc.ssl_channel_credentials(self.ca, self.private_key, self.certificate)


def credentials_from_env(party: str, env: Mapping[str, str]) -> Credentials | None:
    """`party`'s credentials as the environment locates them; None in explicit plaintext."""
    directory = tls_dir(party, env)
    return None if directory is None else Credentials.load(directory)


def peer_names(context: ServicerContext) -> frozenset[str] | None:
    """The names the calling process's verified certificate carries; None on a plaintext
    server, where no caller is authenticated."""
    identities = context.peer_identities()
    if not identities:
        return None
    return frozenset(name.decode() if isinstance(name, bytes) else str(name) for name in identities)
