"""``admission.k8s.io/v1`` AdmissionReview: read a request defensively, write a response.

:func:`parse_review` turns the body the API server POSTs into an :class:`AdmissionRequest`, or
raises :class:`ReviewError` naming what is wrong (malformed JSON, another apiVersion or kind, no
``request.uid``, a field of the wrong type); nothing else escapes it. The error carries the uid when
one could be read, so the answer can still be matched to its request.

:func:`response_review` builds the answer: ``allowed``, a ``status`` with ``code`` and ``message``,
``warnings``, ``auditAnnotations`` and a base64 ``JSONPatch``. Warnings are made what the API server
accepts: printable (control characters shown as escapes) and at most :data:`MAX_WARNING_LENGTH`
characters each, shortened with ``...``, never dropped; past :data:`MAX_WARNINGS` the rest are
counted in one last warning.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from stockade.model.text import visible
from stockade.policies.model import GroupVersionKind as GroupVersionKind  # re-exported: part of a request
from stockade.policies.model import GroupVersionResource as GroupVersionResource

API_VERSION: Final = "admission.k8s.io/v1"
KIND: Final = "AdmissionReview"
OPERATIONS: Final = frozenset({"CREATE", "UPDATE", "DELETE", "CONNECT"})
# The API server's limit for one warning (longer ones are its to truncate, and it may drop them).
MAX_WARNING_LENGTH: Final = 120
# More than this many warnings: the rest are summarised in one (a kubectl user reads them all).
MAX_WARNINGS: Final = 20
MAX_ANNOTATION_LENGTH: Final = 4096
_ELLIPSIS: Final = "..."


class ReviewError(Exception):
    """An AdmissionReview that cannot be read. ``uid``: the request's uid when it could be read."""

    def __init__(self, message: str, uid: str | None = None, code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.uid = uid
        self.code = code


@dataclass(frozen=True, slots=True)
class UserInfo:
    username: str = ""
    groups: tuple[str, ...] = ()
    uid: str = ""


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    """The parts of ``request`` a decision reads. ``object`` / ``old_object``: the raw objects
    (None when absent: DELETE has no ``object``, CREATE no ``oldObject``)."""

    uid: str
    kind: GroupVersionKind
    resource: GroupVersionResource
    operation: str
    sub_resource: str = ""
    name: str = ""
    namespace: str = ""
    user: UserInfo = field(default_factory=UserInfo)
    object: Mapping[str, Any] | None = None
    old_object: Mapping[str, Any] | None = None
    dry_run: bool = False
    # The review's own apiVersion, echoed in the answer (always admission.k8s.io/v1 here).
    api_version: str = API_VERSION
    # The request as sent: what the break-glass trail reads of a CONNECT (its user's extra, the
    # exec options), beyond the parts a decision needs.
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def display(self) -> str:
        """``Kind namespace/name`` for messages and logs."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind.kind} {where or '(unnamed)'}"


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


class _Reader:
    """Typed reads of the request object; every mismatch is a ReviewError naming the field."""

    def __init__(self, request: Mapping[str, Any], uid: str | None) -> None:
        self.request = request
        self.uid = uid

    def fail(self, field_path: str, expected: str, value: object) -> ReviewError:
        return ReviewError(f"request.{field_path} must be {expected}, not {_describe(value)}", self.uid)

    def string(self, mapping: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
        value = mapping.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value):
            raise self.fail(f"{where}{key}", "a non-empty string" if required else "a string", value)
        return value

    def mapping(self, key: str, *, required: bool = False) -> Mapping[str, Any] | None:
        value = self.request.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, dict):
            raise self.fail(key, "an object", value)
        return value


def parse_review(body: bytes) -> AdmissionRequest:
    """The request of an ``admission.k8s.io/v1`` AdmissionReview; raises :class:`ReviewError`."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ReviewError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ReviewError(f"the body must be a JSON object (an AdmissionReview), not {_describe(document)}")
    request = document.get("request")
    uid = request.get("uid") if isinstance(request, dict) else None
    uid = uid if isinstance(uid, str) and uid else None
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if api_version != API_VERSION or kind != KIND:
        raise ReviewError(
            f"expected apiVersion {API_VERSION} and kind {KIND}, found {_shown(api_version)} and {_shown(kind)}"
            " (configure the webhook with admissionReviewVersions: [v1])",
            uid,
        )
    if not isinstance(request, dict):
        raise ReviewError(f"the AdmissionReview has no request object (found {_describe(request)})", uid)
    if uid is None:
        raise ReviewError("request.uid must be a non-empty string", None)
    read = _Reader(request, uid)
    gvk = read.mapping("kind", required=True)
    gvr = read.mapping("resource", required=True)
    assert gvk is not None and gvr is not None
    operation = read.string(request, "operation", "", required=True)
    if operation not in OPERATIONS:
        raise ReviewError(
            f"request.operation must be one of {', '.join(sorted(OPERATIONS))}, not {_shown(operation)}", uid
        )
    user = read.mapping("userInfo")
    groups: tuple[str, ...] = ()
    if user is not None:
        raw_groups = user.get("groups")
        if raw_groups is not None:
            if not isinstance(raw_groups, list) or not all(isinstance(g, str) for g in raw_groups):
                raise read.fail("userInfo.groups", "a list of strings", raw_groups)
            groups = tuple(raw_groups)
    dry_run = request.get("dryRun")
    if dry_run is not None and not isinstance(dry_run, bool):
        raise read.fail("dryRun", "a boolean", dry_run)
    return AdmissionRequest(
        raw=request,
        uid=uid,
        kind=GroupVersionKind(
            read.string(gvk, "group", "kind."),
            read.string(gvk, "version", "kind."),
            read.string(gvk, "kind", "kind.", required=True),
        ),
        resource=GroupVersionResource(
            read.string(gvr, "group", "resource."),
            read.string(gvr, "version", "resource."),
            read.string(gvr, "resource", "resource.", required=True),
        ),
        operation=operation,
        sub_resource=read.string(request, "subResource", ""),
        name=read.string(request, "name", ""),
        namespace=read.string(request, "namespace", ""),
        user=UserInfo(
            read.string(user, "username", "userInfo.") if user else "",
            groups,
            read.string(user, "uid", "userInfo.") if user else "",
        ),
        object=read.mapping("object"),
        old_object=read.mapping("oldObject"),
        dry_run=bool(dry_run),
    )


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(visible(value[:80]))
    return _describe(value)


# -- answers ---------------------------------------------------------------------------------------
def shorten(text: str, limit: int = MAX_WARNING_LENGTH) -> str:
    """``text`` made printable and at most ``limit`` characters (cut with ``...``)."""
    shown = visible(text)
    return shown if len(shown) <= limit else shown[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def fit_warnings(warnings: Iterable[str]) -> list[str]:
    """Warnings as the API server takes them: each shortened, duplicates once, at most
    :data:`MAX_WARNINGS` with the rest counted in the last."""
    fitted = list(dict.fromkeys(shorten(w) for w in warnings if w))
    if len(fitted) > MAX_WARNINGS:
        rest = len(fitted) - (MAX_WARNINGS - 1)
        fitted = [*fitted[: MAX_WARNINGS - 1], f"and {rest} more warnings, not shown (at most {MAX_WARNINGS} are)"]
    return fitted


def response_review(
    uid: str,
    *,
    allowed: bool,
    code: int | None = None,
    message: str | None = None,
    reason: str | None = None,
    warnings: Sequence[str] = (),
    audit_annotations: Mapping[str, str] | None = None,
    patch: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """An AdmissionReview answering request ``uid``. ``patch``: JSONPatch operations (mutation)."""
    response: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if code is not None or message:
        status: dict[str, Any] = {}
        if code is not None:
            status["code"] = code
        if message:
            status["message"] = visible(message)
        if reason:
            status["reason"] = reason
        if not allowed:
            status["status"] = "Failure"
        response["status"] = status
    fitted = fit_warnings(warnings)
    if fitted:
        response["warnings"] = fitted
    if audit_annotations:
        response["auditAnnotations"] = {
            key: shorten(value, MAX_ANNOTATION_LENGTH) for key, value in audit_annotations.items()
        }
    if patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(orjson.dumps(list(patch))).decode("ascii")
    return {"apiVersion": API_VERSION, "kind": KIND, "response": response}


def encode(review: Mapping[str, Any]) -> bytes:
    return orjson.dumps(review)
