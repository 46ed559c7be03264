"""Writes over HTTP: create (POST), replace (PUT), patch (PATCH) and delete (DELETE) of one
object, with the answers and ``Status`` bodies the API server gives (409 on a stale
resourceVersion or an existing name, 404, 400, 415, 422)."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

import orjson

from stockade.testing._catalog import ResourceType
from stockade.testing._patch import PatchError, json_patch, merge_patch
from stockade.testing._protocol import ResourcePath, status
from stockade.testing._store import Conflict, Missing, Obj, Stale, Store

MAX_BODY = 3 * 1024 * 1024  # the API server's request size limit
MERGE_TYPES = ("application/merge-patch+json", "application/strategic-merge-patch+json")
JSON_PATCH = "application/json-patch+json"
_SUFFIX = string.ascii_lowercase + string.digits


class _Refused(Exception):
    def __init__(self, code: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.reason = code, message, reason


@dataclass(frozen=True, slots=True)
class WriteRequest:
    store: Store
    resource: ResourceType
    target: ResourcePath
    body: bytes
    content_type: str

    @property
    def qualified(self) -> str:
        return f"{self.resource.name}.{self.resource.group}" if self.resource.group else self.resource.name

    @property
    def namespace(self) -> str:
        return self.target.namespace or ""

    def answer(self, method: str) -> tuple[int, dict[str, Any]]:
        try:
            if method == "POST":
                return 201, self._served(self._create())
            if method == "PUT":
                return 200, self._served(self._replace())
            if method == "PATCH":
                return 200, self._served(self._patch())
            return 200, self._served(self._delete())
        except _Refused as refused:
            return refused.code, status(refused.code, refused.message, refused.reason, self._details())
        except Missing:
            return 404, status(404, f'{self.qualified} "{self.target.name}" not found', details=self._details())
        except Stale:
            message = (
                f'Operation cannot be fulfilled on {self.qualified} "{self.target.name}": the object has been'
                " modified; please apply your changes to the latest version and try again"
            )
            return 409, status(409, message, "Conflict", self._details())

    def _details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"group": self.resource.group, "kind": self.resource.name}
        if self.target.name:
            details["name"] = self.target.name
        return details

    def _served(self, obj: Obj) -> dict[str, Any]:
        version = self.target.version
        return {**obj, "apiVersion": f"{self.resource.group}/{version}" if self.resource.group else version}

    def _json_body(self) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as error:
            raise _Refused(400, f"the request body is not valid JSON: {error}", "BadRequest") from None

    def _object(self) -> dict[str, Any]:
        """The body as an object of this resource, placed in the path's namespace."""
        obj = self._json_body()
        if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
            raise _Refused(400, "the request body must be a JSON object with metadata", "BadRequest")
        expected = f"{self.resource.group}/{self.target.version}" if self.resource.group else self.target.version
        api_version, kind = obj.setdefault("apiVersion", expected), obj.setdefault("kind", self.resource.kind)
        if api_version != expected or kind != self.resource.kind:
            raise _Refused(
                400,
                f"the body is a {api_version} {kind}, the path is for {expected} {self.resource.kind}",
                "BadRequest",
            )
        meta = obj.setdefault("metadata", {})
        body_namespace = meta.get("namespace")
        if body_namespace not in (None, "", self.namespace or None):
            raise _Refused(
                400,
                "the namespace of the provided object does not match the namespace sent on the request",
                "BadRequest",
            )
        if self.resource.namespaced:
            meta["namespace"] = self.namespace
        return obj

    def _create(self) -> Obj:
        obj = self._object()
        meta = obj["metadata"]
        if not meta.get("name") and isinstance(meta.get("generateName"), str):
            meta["name"] = meta["generateName"] + "".join(secrets.choice(_SUFFIX) for _ in range(5))
        if not isinstance(meta.get("name"), str) or not meta["name"]:
            raise _Refused(422, f"{self.resource.kind}: metadata.name: Required value", "Invalid")
        for assigned in ("resourceVersion", "uid", "creationTimestamp"):  # the server's to give
            meta.pop(assigned, None)
        try:
            return self.store.put(obj, "create")
        except Conflict:
            message = f'{self.qualified} "{meta["name"]}" already exists'
            raise _Refused(409, message, "AlreadyExists") from None

    def _replace(self) -> Obj:
        obj = self._object()
        if obj["metadata"].get("name") not in (None, self.target.name):
            raise _Refused(400, "the name of the object does not match the name on the URL", "BadRequest")
        obj["metadata"]["name"] = self.target.name

        def replaced(current: Obj) -> Obj:
            for kept in ("uid", "creationTimestamp"):  # immutable: an update cannot change them
                obj["metadata"][kept] = current["metadata"].get(kept)
            return obj

        return self.store.write(
            self.resource.group, self.resource.kind, self.namespace, self.target.name or "", replaced
        )[1]

    def _patch(self) -> Obj:
        kind = self.content_type.split(";")[0].strip().lower()
        if kind not in (*MERGE_TYPES, JSON_PATCH):
            raise _Refused(415, f"the content type {kind or '(none)'!r} is not a patch type this server takes",
                           "UnsupportedMediaType")  # fmt: skip
        patch = self._json_body()

        def patched(current: Obj) -> Obj:
            before = current["metadata"].get("resourceVersion")
            try:
                result = merge_patch(current, patch) if kind in MERGE_TYPES else json_patch(current, patch)
            except PatchError as error:
                raise _Refused(422, str(error), "Invalid") from None
            if not isinstance(result, dict) or not isinstance(result.get("metadata"), dict):
                raise _Refused(422, "the patch leaves no object", "Invalid")
            meta = result["metadata"]
            if meta.get("name") != current["metadata"].get("name"):
                raise _Refused(422, "a patch cannot change metadata.name", "Invalid")
            # A patch that does not name a resourceVersion applies to whatever is stored.
            meta["resourceVersion"] = meta.get("resourceVersion") or before
            return result

        return self.store.write(
            self.resource.group, self.resource.kind, self.namespace, self.target.name or "", patched
        )[1]

    def _delete(self) -> Obj:
        expected: str | None = None
        if self.body.strip():
            options = self._json_body()
            preconditions = options.get("preconditions") if isinstance(options, dict) else None
            if isinstance(preconditions, dict) and preconditions.get("resourceVersion"):
                expected = str(preconditions["resourceVersion"])
        return self.store.remove(
            self.resource.group, self.resource.kind, self.namespace, self.target.name or "", expected
        )
