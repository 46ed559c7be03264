"""The webhook's self-signed CA and serving certificate: the chain verifies, the names are the Service's,
a real TLS client that trusts only the CA bundle connects by the Service's name, and the key is 0600."""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from stockade.admission.certs import (
    ServingCertificate,
    create,
    generate,
    service_dns_names,
    write_files,
)
from stockade.outputs import OutputPathError

SERVICE, NAMESPACE = "stockade-admission", "posture"


@pytest.fixture(scope="module")
def pair() -> ServingCertificate:
    return generate(SERVICE, NAMESPACE)


def test_the_service_names_in_every_form_a_client_uses() -> None:
    assert service_dns_names("web", "shop") == ("web", "web.shop", "web.shop.svc", "web.shop.svc.cluster.local")


def test_the_ca_signed_the_serving_certificate(pair: ServingCertificate) -> None:
    ca = x509.load_pem_x509_certificate(pair.ca_pem)
    cert = x509.load_pem_x509_certificate(pair.cert_pem)
    cert.verify_directly_issued_by(ca)  # raises when the signature or issuer is wrong
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    # The private key is the serving certificate's.
    key = serialization.load_pem_private_key(pair.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
    # And not the CA's: another certificate cannot be issued with what the output holds.
    assert ca.public_key().public_numbers() != cert.public_key().public_numbers()  # type: ignore[union-attr]


def test_the_sans_are_the_service_names(pair: ServingCertificate) -> None:
    cert = x509.load_pem_x509_certificate(pair.cert_pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert names == list(service_dns_names(SERVICE, NAMESPACE))
    assert f"{SERVICE}.{NAMESPACE}.svc" in names


def test_validity_starts_a_little_in_the_past_and_lasts_the_days_asked() -> None:
    now = datetime.datetime(2030, 6, 1, 12, 0, tzinfo=datetime.UTC)
    pair = generate(SERVICE, NAMESPACE, days=30, now=now)
    for pem in (pair.ca_pem, pair.cert_pem):
        cert = x509.load_pem_x509_certificate(pem)
        assert now - datetime.timedelta(minutes=10) < cert.not_valid_before_utc < now
        assert cert.not_valid_after_utc == now + datetime.timedelta(days=30)
    with pytest.raises(ValueError, match="at least one day"):
        generate(SERVICE, NAMESPACE, days=0)


def test_the_key_is_in_no_repr(pair: ServingCertificate) -> None:
    assert b"PRIVATE KEY" in pair.key_pem
    assert "PRIVATE" not in repr(pair) and pair.key_pem.decode() not in repr(pair)


@contextmanager
def _tls_server(cert: Path, key: Path) -> Iterator[int]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # closing a socket does not wake a thread blocked in accept()
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def _connect(port: int, ca_pem: bytes, hostname: str) -> bytes:
    client = ssl.create_default_context(cadata=ca_pem.decode("ascii"))  # trusts this CA only
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        client.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        return tls.recv(2)


def test_a_tls_client_trusting_only_the_bundle_connects_by_the_service_name(tmp_path: Path) -> None:
    pair, bundle = create(tmp_path / "tls", SERVICE, NAMESPACE)
    assert bundle == pair.ca_pem
    with _tls_server(tmp_path / "tls" / "tls.crt", tmp_path / "tls" / "tls.key") as port:
        for name in service_dns_names(SERVICE, NAMESPACE):
            assert _connect(port, bundle, name) == b"ok"
        with pytest.raises(ssl.SSLCertVerificationError):
            _connect(port, bundle, f"{SERVICE}.elsewhere.svc")  # another namespace's Service
        with pytest.raises(ssl.SSLCertVerificationError):
            _connect(port, generate(SERVICE, NAMESPACE).ca_pem, f"{SERVICE}.{NAMESPACE}.svc")  # another CA


def test_the_key_file_is_0600_whatever_the_umask(tmp_path: Path, pair: ServingCertificate) -> None:
    previous = os.umask(0)  # a umask that would leave a file created 0666 world-writable
    try:
        files = write_files(pair, tmp_path / "new")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.key.parent.stat().st_mode) == 0o700  # the directory made for it
    assert files.key.read_bytes() == pair.key_pem
    assert files.cert.read_bytes() == pair.cert_pem and files.ca.read_bytes() == pair.ca_pem
    assert stat.S_IMODE(files.cert.stat().st_mode) == 0o666  # public: the umask decides
    # Written again over a key someone made readable: replaced by a new 0600 file.
    files.key.chmod(0o644)
    write_files(pair, tmp_path / "new")
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600


def test_a_symbolic_link_in_the_keys_place_is_refused(tmp_path: Path, pair: ServingCertificate) -> None:
    victim = tmp_path / "victim"
    victim.write_text("do not overwrite")
    directory = tmp_path / "tls"
    directory.mkdir()
    (directory / "tls.key").symlink_to(victim)
    with pytest.raises(OutputPathError, match="symbolic link"):
        write_files(pair, directory)
    assert victim.read_text() == "do not overwrite"
