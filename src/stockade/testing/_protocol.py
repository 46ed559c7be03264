"""Pieces of the Kubernetes API protocol the fake server speaks: Status objects, paths, selectors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


class SelectorError(ValueError):
    """A label or field selector the fake server does not understand."""


def _labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    return labels if isinstance(labels, Mapping) else {}


def _fields(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    return {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", "")}


def _terms(text: str) -> list[tuple[str, str, str | None]]:
    """``a=b,c!=d,e,!f`` → [(key, op, value)] with op one of = != exists !exists."""
    terms: list[tuple[str, str, str | None]] = []
    for raw in filter(None, (t.strip() for t in text.split(","))):
        if "(" in raw or " " in raw:
            raise SelectorError(f"unsupported selector term {raw!r}")
        if "!=" in raw:
            key, value = raw.split("!=", 1)
            terms.append((key, "!=", value))
        elif "=" in raw:
            key, value = raw.replace("==", "=").split("=", 1)
            terms.append((key, "=", value))
        elif raw.startswith("!"):
            terms.append((raw[1:], "!exists", None))
        else:
            terms.append((raw, "exists", None))
    return terms


def _matches(values: Mapping[str, Any], terms: list[tuple[str, str, str | None]]) -> bool:
    for key, op, value in terms:
        present = key in values
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
        if op == "=" and (not present or str(values[key]) != value):
            return False
        if op == "!=" and present and str(values[key]) == value:
            return False
    return True


def make_selector(label_selector: str, field_selector: str) -> Selector:
    """A predicate for equality-based label selectors and metadata.name/namespace field selectors."""
    labels = _terms(label_selector)
    fields = _terms(field_selector)
    for key, op, _ in fields:
        if key not in ("metadata.name", "metadata.namespace") or op not in ("=", "!="):
            raise SelectorError(f'field label not supported: "{key}"')
    if not labels and not fields:
        return lambda _obj: True
    return lambda obj: _matches(_labels(obj), labels) and _matches(_fields(obj), fields)
