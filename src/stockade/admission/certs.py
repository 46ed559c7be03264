"""TLS for the webhook: a self-signed CA and a serving certificate for the webhook Service.

The API server calls the webhook at ``https://<service>.<namespace>.svc:443`` and checks the
certificate against the ``caBundle`` of the webhook configuration, so the serving certificate names
the Service in every form a client may use, and the CA certificate (never its key) is the bundle.
The CA key signs once and is dropped: nothing can issue another certificate from this CA later, and
rotating means generating a new pair and applying the Secret and the webhook configurations
together (cert-manager does this without a gap; see ``--tls cert-manager``).

Keys are ECDSA P-256 (what the API server and every TLS client accept, small and fast to verify).
Private key files are created with mode 0600 (never widened and narrowed afterwards).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stockade.outputs import PRIVATE, write_output

DEFAULT_DAYS = 365
CA_FILE, CERT_FILE, KEY_FILE = "ca.crt", "tls.crt", "tls.key"
if TYPE_CHECKING:
    from cryptography import x509

_CLOCK_SKEW = datetime.timedelta(minutes=5)  # a node whose clock runs a little behind still accepts it


def service_dns_names(service: str, namespace: str) -> tuple[str, ...]:
    """The names a client may reach the Service by, shortest first."""
    return (
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
    )


@dataclass(frozen=True, slots=True)
class ServingCertificate:
    """PEM bytes of the CA certificate, the serving certificate and its private key."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes = field(repr=False)  # never in a repr, a log line or an error message

    @property
    def ca_bundle(self) -> str:
        """The CA certificate as a webhook configuration's ``caBundle`` wants it (base64 of the PEM)."""
        return base64.b64encode(self.ca_pem).decode("ascii")


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    ca: Path
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def generate(
    service: str,
    namespace: str,
    *,
    days: int = DEFAULT_DAYS,
    now: datetime.datetime | None = None,
) -> ServingCertificate:
    """A new CA and a serving certificate it signed, for the Service ``service`` in ``namespace``."""
    if days < 1:
        raise ValueError(f"certificate validity must be at least one day (got {days})")
    start = (now or datetime.datetime.now(datetime.UTC)) - _CLOCK_SKEW
    end = start + _CLOCK_SKEW + datetime.timedelta(days=days)
    names = service_dns_names(service, namespace)
    return issue(f"stockade-admission-ca ({namespace}/{service})", names[2], names, start=start, end=end)


def issue(
    ca_name: str, subject: str, hosts: Sequence[str], *, start: datetime.datetime, end: datetime.datetime
) -> ServingCertificate:
    """A new CA named ``ca_name`` and a serving certificate it signed for ``hosts`` (DNS names or
    IP addresses), valid from ``start`` to ``end`` (ECDSA P-256, SHA-256)."""
    # Imported here: building the CLI's parser and the cert-manager manifests need none of it.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca_key = ec.generate_private_key(ec.SECP256R1())
    issuer = _name(ca_name)
    ca_identifier = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(issuer)
        .issuer_name(issuer)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(ca_identifier, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_identifier), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ServingCertificate(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def _general_name(host: str) -> x509.GeneralName:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def write_files(certificate: ServingCertificate, directory: Path) -> CertificateFiles:
    """``ca.crt``, ``tls.crt`` and ``tls.key`` (0600) in ``directory`` (made 0700 when missing).

    Each file is written atomically; the key's temporary file is created 0600, so the key is never
    readable by others, not even for a moment. A symbolic link in a file's place is refused
    (:class:`~stockade.outputs.OutputPathError`)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    files = CertificateFiles(directory / CA_FILE, directory / CERT_FILE, directory / KEY_FILE)
    write_output(files.ca, certificate.ca_pem)
    write_output(files.cert, certificate.cert_pem)
    write_output(files.key, certificate.key_pem, mode=PRIVATE)
    return files


def create(
    directory: Path, service: str, namespace: str, *, days: int = DEFAULT_DAYS
) -> tuple[ServingCertificate, bytes]:
    """Generate a pair for the Service and write it into ``directory``; returns it and the CA bundle PEM."""
    certificate = generate(service, namespace, days=days)
    write_files(certificate, directory)
    return certificate, certificate.ca_pem
