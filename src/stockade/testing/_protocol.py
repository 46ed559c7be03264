"""Pieces of the Kubernetes API protocol the fake server speaks: Status objects, paths, selectors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stockade.errors import SelectorError
from stockade.model.selectors import parse_selector_query
from stockade.testing._store import Selector

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status(
    code: int, message: str, reason: str | None = None, details: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A ``kind: Status`` failure body as the API server sends it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details:
        body["details"] = dict(details)
    return body


@dataclass(frozen=True, slots=True)
class ResourcePath:
    """A parsed ``/api/v1/...`` or ``/apis/<group>/<version>/...`` path."""

    group: str
    version: str
    resource: str
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def parse_resource_path(path: str) -> ResourcePath | None:
    """Split a resource URL path; None when it is not one (discovery paths included)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace: str | None = None
    # /namespaces/<ns>/<resource>/... is a namespaced request; /namespaces/<name>[/<sub>] on the
    # core group is the Namespace object itself (its subresources are finalize and status).
    if len(rest) >= 3 and rest[0] == "namespaces" and not (group == "" and rest[2] in ("finalize", "status")):
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        return None
    return ResourcePath(
        group=group,
        version=version,
        resource=rest[0],
        namespace=namespace,
        name=rest[1] if len(rest) > 1 else None,
        subresource=rest[2] if len(rest) > 2 else None,
    )


def _labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    return labels if isinstance(labels, Mapping) else {}


# The field selectors the fake server serves; the API server knows more, per resource.
_FIELDS = ("metadata.name", "metadata.namespace")


def _field_terms(text: str) -> list[tuple[str, str, bool]]:
    """``metadata.name=a,metadata.namespace!=b`` → [(field, value, must_equal)]."""
    terms: list[tuple[str, str, bool]] = []
    for raw in filter(None, (t.strip() for t in text.split(","))):
        must_equal = "!=" not in raw
        key, sep, value = raw.partition("!=") if not must_equal else raw.replace("==", "=").partition("=")
        if not sep or key.strip() not in _FIELDS:
            raise SelectorError(f'field label not supported: "{key.strip()}"')
        terms.append((key.strip(), value.strip(), must_equal))
    return terms


def _fields_match(obj: Mapping[str, Any], terms: list[tuple[str, str, bool]]) -> bool:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    fields = {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", "")}
    return all((fields[key] == value) is must_equal for key, value, must_equal in terms)


def make_selector(label_selector: str, field_selector: str) -> Selector:
    """A predicate for a list request's ``labelSelector`` and metadata.name/namespace ``fieldSelector``.

    Raises SelectorError (the server answers 400) for a selector the fake server cannot read.
    """
    labels = parse_selector_query(label_selector)
    fields = _field_terms(field_selector)
    if labels.selects_all and not fields:
        return lambda _obj: True
    return lambda obj: labels.matches(_labels(obj)) and _fields_match(obj, fields)
