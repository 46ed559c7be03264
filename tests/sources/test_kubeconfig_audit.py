"""`--audit-kubeconfig`: each user's kind of credential and certificate facts, never a secret value."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from stockade.cli.main import main

KEY_DATA = base64.b64encode(b"-----BEGIN EC PRIVATE KEY-----\nnot-a-real-key-value\n").decode()
TOKEN = "static-token-value-never-printed"


def certificate(common: str, groups: list[str], days: int) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = x509.Name(
        [
            *(x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(built.public_bytes(serialization.Encoding.PEM)).decode()


def test_users_are_judged_and_no_secret_leaves_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "admin.conf"
    config.write_text(
        "apiVersion: v1\nkind: Config\nusers:\n"
        f"  - name: kubernetes-admin\n    user:\n      client-certificate-data: {certificate('kubernetes-admin', ['system:masters'], 3650)}\n"
        f"      client-key-data: {KEY_DATA}\n"
        f"  - name: alice\n    user:\n      client-certificate-data: {certificate('alice', ['developers'], 90)}\n"
        f"  - name: ci\n    user:\n      token: {TOKEN}\n"
        "  - name: oidc\n    user:\n      exec: {apiVersion: client.authentication.k8s.io/v1, command: kubelogin}\n"
    )
    code = main(
        [
            "scan",
            "--no-progress",
            "--audit-kubeconfig",
            str(config),
            "--rules",
            "AU-006",
            "-f",
            "json",
            "--include-passed",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    found = {
        f["resource"]["name"]: (f["status"], f["rule"]["severity"], f["message"]) for f in json.loads(out)["findings"]
    }
    assert found["admin.conf:kubernetes-admin"][:2] == ("fail", "critical")
    assert "issued for 10 years" in found["admin.conf:kubernetes-admin"][2]
    assert found["admin.conf:alice"][:2] == ("fail", "high") and "issued for" not in found["admin.conf:alice"][2]
    assert found["admin.conf:ci"][0] == "fail"
    assert found["admin.conf:oidc"][0] == "pass"
    assert TOKEN not in out and "not-a-real-key-value" not in out and KEY_DATA not in out


def test_a_kubeconfig_given_as_a_path_is_still_never_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "admin.conf"
    config.write_text(f"apiVersion: v1\nkind: Config\nusers:\n  - name: ci\n    user:\n      token: {TOKEN}\n")
    main(["scan", "--no-progress", str(config), "-f", "json"])
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err
    assert "credentials are not read" in captured.err


@pytest.mark.parametrize(("content", "message"), [("users: [unclosed\n", "not YAML"), ("kind: Pod\n", "no users list")])
def test_bad_kubeconfigs_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.conf"
    bad.write_text(content)
    code = main(["scan", "--no-progress", "--audit-kubeconfig", str(bad)])
    captured = capsys.readouterr()
    assert code == 3 and "bad.conf" in captured.out + captured.err and message in captured.out + captured.err
