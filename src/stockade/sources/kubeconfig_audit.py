"""``--audit-kubeconfig FILE``: what kind of credential each user of a kubeconfig carries, and nothing more.

Kubeconfigs are never objects (`stockade.sources.credentials` drops them on sight). To check the
kubeconfigs handed to people, this source reads one on request and keeps, per user, only what a
rule needs: the kind of credential (client certificate, token, username and password, exec
plugin, auth provider) and, for a certificate, its names, groups and validity (the certificate is
public; the key, token and password are never kept). Each user becomes a ``KubeconfigUser``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from stockade.model.finding import InputProblem
from stockade.model.resource import Origin, Resource, resource_from_raw
from stockade.sources.base import ProgressCallback, SourceResult
from stockade.sources.bounded import read_or_report

API_VERSION = "stockade.io/v1alpha1"
MAX_BYTES = 4 * 1024 * 1024


def certificate_facts(data: object) -> dict[str, Any] | None:
    if not isinstance(data, str):
        return None
    try:
        certificate = x509.load_pem_x509_certificate(base64.b64decode(data, validate=True))
    except (ValueError, binascii.Error):
        return None
    subject = certificate.subject
    common = [str(a.value) for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return {
        "commonName": common[0] if common else "",
        "groups": [str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)],
        "notBefore": certificate.not_valid_before_utc.isoformat(),
        "notAfter": certificate.not_valid_after_utc.isoformat(),
    }


def user_facts(user: Mapping[str, Any]) -> dict[str, Any]:
    """The kind of credential a kubeconfig user carries; never a secret value."""
    if "client-certificate-data" in user or "client-certificate" in user:
        facts = certificate_facts(user.get("client-certificate-data"))
        return {
            "credential": "client-certificate",
            "certificate": facts,
            "certificateFile": user.get("client-certificate"),
            "certificateReadable": facts is not None,
        }
    if "token" in user or "tokenFile" in user:
        return {"credential": "token"}
    if "username" in user or "password" in user:
        return {"credential": "basic"}
    if "exec" in user:
        return {"credential": "exec"}
    if "auth-provider" in user:
        return {"credential": "auth-provider"}
    return {"credential": "none"}


@dataclass(frozen=True, slots=True)
class KubeconfigAuditSource:
    paths: tuple[str, ...]

    def collect(self, progress: ProgressCallback | None = None) -> SourceResult:
        result = SourceResult()
        for path in self.paths:
            self._read(path, result)
        return result

    def _read(self, path: str, result: SourceResult) -> None:
        data = read_or_report(path, MAX_BYTES, result.errors)
        if data is None:
            return
        try:
            document = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            result.errors.append(InputProblem(path, "not YAML", line=line, kind="parse"))
            return
        users = document.get("users") if isinstance(document, Mapping) else None
        if not isinstance(users, list):
            result.errors.append(InputProblem(path, "not a kubeconfig (no users list)", kind="parse"))
            return
        for entry in users:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("user"), Mapping):
                continue
            name = str(entry.get("name", ""))
            raw = {
                "apiVersion": API_VERSION,
                "kind": "KubeconfigUser",
                "metadata": {"name": f"{Path(path).name}:{name}"},
                "spec": {"file": path, "user": name, **user_facts(entry["user"])},
            }
            resource = resource_from_raw(raw, Origin(path))
            if isinstance(resource, Resource):
                result.resources.append(resource)
