"""``stockade dashboard`` from the command line: it serves, refuses what would expose it, and says why."""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from stockade.cli.main import main
from stockade.testing._tls import make_server_certificate
from tests.dashboard.http import call

COMMAND = [sys.executable, "-m", "stockade.cli.main", "dashboard"]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_it_serves_on_loopback_until_interrupted(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'history.db'}"
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token\n")
    process = subprocess.Popen(
        [*COMMAND, "--store", store, "--port", "0", "--token-file", str(token_file)],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,  # a backgrounded test run ignores SIGINT; give the child the default
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        found = re.search(r"dashboard on (http://127\.0\.0\.1:\d+)/", line)
        assert found is not None, line
        url = found.group(1)
        assert call(url, "/healthz").body == "ok"
        assert call(url, "/").status == 303  # the token is asked for
        opened = call(url, "/", headers={"Authorization": "Bearer s3cret-token"})
        assert opened.status == 200 and "The store holds no cluster yet" in opened.body
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_it_serves_https_with_a_secure_session_cookie(tmp_path: Path) -> None:
    pair = make_server_certificate(tmp_path)
    (tmp_path / "token").write_text("s3cret-token")
    process = subprocess.Popen(
        [
            *COMMAND,
            "--store",
            f"sqlite:///{tmp_path / 'history.db'}",
            "--port",
            "0",
            "--token-file",
            str(tmp_path / "token"),
            "--tls-cert",
            str(pair.cert_file),
            "--tls-key",
            str(pair.key_file),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        found = re.search(r"dashboard on (https://127\.0\.0\.1:\d+)/", process.stderr.readline())
        assert found is not None
        url = found.group(1)
        assert call(url, "/healthz", ca=pair.ca_pem).body == "ok"
        form = call(url, "/login", ca=pair.ca_pem)
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.body)
        assert csrf is not None
        signed = call(
            url,
            "/login",
            method="POST",
            body=f"csrf={csrf.group(1)}&token=s3cret-token",
            headers={"Cookie": f"stockade_csrf={csrf.group(1)}"},
            ca=pair.ca_pem,
        )
        assert signed.status == 303
        assert any(c.startswith("stockade_session=") and "Secure" in c for c in signed.cookies)
        with pytest.raises(ssl.SSLError):
            call(url, "/healthz")  # not trusted without the CA: it is the certificate given
    finally:
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--host", "0.0.0.0"], "serves beyond this machine"),
        (["--token-file", "/nonexistent/token"], "cannot read the token file"),
        (["--port", "70000"], "is not a port"),
        (["--user-header", "X Bad"], "is not a header name"),
        (["--store", "mysql://nowhere/db"], "mysql"),
        (["--tls-cert", "BAD"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "BAD", "--tls-key", "BAD"], "cannot serve TLS with"),
    ],
)
def test_refusals_exit_2_with_the_reason(
    arguments: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    arguments = [str(tmp_path / "bad.pem") if a == "BAD" else a for a in arguments]
    if "--store" not in arguments:
        arguments = [*arguments, "--store", f"sqlite:///{tmp_path / 'h.db'}"]
    with pytest.raises(SystemExit) as stopped:
        main(["dashboard", *arguments])
    assert stopped.value.code == 2
    assert says in capsys.readouterr().err


def test_an_empty_token_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "token").write_text("\n")
    with pytest.raises(SystemExit):
        main(["dashboard", "--token-file", str(tmp_path / "token"), "--store", f"sqlite:///{tmp_path / 'h.db'}"])
    assert "is empty" in capsys.readouterr().err


def test_a_port_in_use_is_a_usage_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*COMMAND, "--store", f"sqlite:///{tmp_path / 'h.db'}", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ},
            check=False,
        )
    assert done.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}" in done.stderr
