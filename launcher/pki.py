"""The system's own certificate authority: one CA, and a certificate for each process, named
after what it is (`inventory`, ..., `gateway`), which `services.kernel.tls` presents and checks.

The CA is made once and kept; its key never leaves the folder it was made in, and no process
but the one issuing certificates reads it. Every key is an ECDSA P-256 key, readable by its
owner only.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.kernel.settings import SERVICE_NAMES
from services.kernel.tls import CA_FILE, CERTIFICATE_FILE, GATEWAY, KEY_FILE

PARTIES = (*SERVICE_NAMES, GATEWAY)
CA_KEY_FILE = "ca.key"
CA_YEARS = 10
CERTIFICATE_DAYS = 397
ORGANIZATION = "OMS"


def write_private(path: Path, data: bytes) -> None:
    """Writes `path` readable by its owner only, replacing it whole (never half-written)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    partial.replace(path)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def load_or_create(cls, folder: Path) -> CertificateAuthority:
        """The CA in `folder` (`ca.crt`, `ca.key`), made there on first use."""
        certificate_path, key_path = folder / CA_FILE, folder / CA_KEY_FILE
        if certificate_path.exists() and key_path.exists():
            certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{key_path} is not an EC key")
            return cls(certificate, key)
        authority = cls.create()
        write_private(key_path, _key_pem(authority.key))
        write_private(certificate_path, authority.pem)
        return authority

    @classmethod
    def create(cls, common_name: str = "OMS internal CA") -> CertificateAuthority:
        key = _new_key()
        now = _now()
        public = key.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    def issue(self, party: str, days: int = CERTIFICATE_DAYS) -> tuple[bytes, bytes]:
        """A certificate and key for `party`, as client and as server: its name is both its
        identity (what a server checks a client against) and the name clients ask for."""
        key = _new_key()
        now = _now()
        public = key.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(party))
            .issuer_name(self.certificate.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(party)]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM), _key_pem(key)

    def issue_into(self, folder: Path, party: str, days: int = CERTIFICATE_DAYS) -> Path:
        """Writes `party`'s credentials in `folder/<party>/` as `tls.Credentials.load` reads
        them; returns that folder."""
        certificate, key = self.issue(party, days)
        own = folder / party
        write_private(own / KEY_FILE, key)
        write_private(own / CERTIFICATE_FILE, certificate)
        write_private(own / CA_FILE, self.pem)
        return own


def issue_all(folder: Path, parties: Iterable[str] = PARTIES) -> CertificateAuthority:
    """The CA in `folder` (made when missing) and fresh credentials for every party under it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    authority = CertificateAuthority.load_or_create(folder)
    for party in parties:
        authority.issue_into(folder, party)
    return authority
