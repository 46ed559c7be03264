"""A throwaway certificate authority and a server certificate for 127.0.0.1 / localhost."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from stockade.admission.certs import issue


@dataclass(frozen=True, slots=True)
class ServerCertificate:
    ca_pem: bytes
    cert_file: Path
    key_file: Path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def make_server_certificate(directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> ServerCertificate:
    """Create a CA and a serving certificate signed by it (the admission webhook's own issuing
    code, :func:`stockade.admission.certs.issue`); key files are 0600."""
    now = datetime.datetime.now(datetime.UTC)
    issued = issue(
        "stockade-fake-apiserver-ca",
        "stockade-fake-apiserver",
        hosts,
        start=now - datetime.timedelta(minutes=5),
        end=now + datetime.timedelta(days=2),
    )
    cert_file, key_file = directory / "tls.crt", directory / "tls.key"
    cert_file.write_bytes(issued.cert_pem)
    write_private(key_file, issued.key_pem)
    (directory / "ca.crt").write_bytes(issued.ca_pem)
    return ServerCertificate(issued.ca_pem, cert_file, key_file)
