"""Secret redaction, shared by the cluster source and snapshots."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from stockade.sources.redaction import LAST_APPLIED, REDACTED, redact_secret


def test_values_are_blanked_and_key_names_kept() -> None:
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "annotations": {LAST_APPLIED: '{"data": {"password": "aHVudGVyMg=="}}', "a": "b"}},
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"user": "admin"},
    }
    assert redact_secret(secret) is secret
    assert secret["data"] == {"password": REDACTED} and secret["stringData"] == {"user": REDACTED}
    assert secret["metadata"]["annotations"] == {"a": "b"}


def test_redact_secret_handles_odd_shapes() -> None:
    odd: dict[str, Any] = {"data": "not-a-map", "stringData": None, "metadata": {"annotations": None}}
    assert redact_secret(odd) == {"data": {}, "stringData": None, "metadata": {"annotations": None}}
    plain: dict[str, Any] = {"metadata": {"name": "x"}}
    assert redact_secret(plain) == {"metadata": {"name": "x"}}


def test_reading_snapshots_does_not_load_the_kubernetes_client() -> None:
    """Offline scans start fast and run where the cluster client is not wanted."""
    probe = "import sys, stockade.sources.snapshot; print('kubernetes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
