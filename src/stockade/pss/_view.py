"""The per-call view of a pod that every check reads, and the helpers checks report through.

Manifests arrive as plain YAML/JSON values, so any field may hold the wrong type. The view never
raises: a value of the wrong type is *malformed*, and a check that reads a malformed value denies
the pod (the API server would refuse to decode it, so treating it as unset would let a broken pod
through). ``None`` (YAML ``null``) always means "unset", as it does for the API server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeGuard

import orjson

from stockade.pss.facts import user_namespace, windows_pod
from stockade.pss.model import CheckViolation

CONTAINER_KINDS: Final = ("initContainers", "containers", "ephemeralContainers")
_EMPTY: Final[Mapping[str, Any]] = {}


def is_map(value: object) -> TypeGuard[Mapping[str, Any]]:
    return type(value) is dict or isinstance(value, Mapping)


def is_list(value: object) -> TypeGuard[Sequence[Any]]:
    return type(value) is list or isinstance(value, tuple)


class Ctr:
    """One container, init container or ephemeral container, in visiting order."""

    __slots__ = ("_path", "bad", "data", "index", "kind", "name", "named", "sc", "sc_bad")

    def __init__(self, kind: str, index: int, item: object) -> None:
        self.kind = kind
        self.index = index
        # ``bad``: the entry (or its whole list, index -1) is not an object.
        self.bad = not is_map(item)
        self.data: Mapping[str, Any] = _EMPTY if self.bad else item  # type: ignore[assignment]
        name = self.data.get("name")
        self.named = isinstance(name, str)
        self.name: str = name if isinstance(name, str) else ("" if name is None else str(name))
        sc = self.data.get("securityContext")
        self.sc_bad = self.bad or not (sc is None or is_map(sc))
        self.sc: Mapping[str, Any] | None = sc if (sc is not None and not self.sc_bad) else None
        self._path: str | None = None

    @property
    def path(self) -> str:
        path = self._path
        if path is None:
            path = self._path = f"spec.{self.kind}[{self.index}]" if self.index >= 0 else f"spec.{self.kind}"
        return path

    def sc_problem(self) -> tuple[str, str]:
        """The malformed value that hides this container's securityContext."""
        if self.bad:
            return self.path, "a list of objects" if self.index < 0 else "an object"
        return self.path + ".securityContext", "an object"


class PodView:
    """Normalised access to a pod's annotations, spec, pod securityContext and containers."""

    __slots__ = (
        "annotations",
        "annotations_bad",
        "ctrs",
        "pod_sc",
        "pod_sc_bad",
        "spec",
        "user_ns",
        "windows",
    )

    def __init__(self, metadata: object, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        annotations: object = None
        if is_map(metadata):
            annotations = metadata.get("annotations")
            self.annotations_bad = not (annotations is None or is_map(annotations))
        else:
            self.annotations_bad = metadata is not None
        self.annotations: Mapping[str, Any] = (
            annotations if (annotations is not None and not self.annotations_bad) else _EMPTY  # type: ignore[assignment]
        )
        sc = spec.get("securityContext")
        self.pod_sc_bad = not (sc is None or is_map(sc))
        self.pod_sc: Mapping[str, Any] = _EMPTY if (sc is None or self.pod_sc_bad) else sc
        ctrs: list[Ctr] = []
        for kind in CONTAINER_KINDS:
            items = spec.get(kind)
            if items is None:
                continue
            if is_list(items):
                for index, item in enumerate(items):
                    ctrs.append(Ctr(kind, index, item))
            else:
                ctrs.append(Ctr(kind, -1, items))
        self.ctrs = ctrs
        self.user_ns = user_namespace(spec)
        self.windows = windows_pod(spec)


def pluralize(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def join_quote(items: Sequence[str]) -> str:
    return '"' + '", "'.join(items) + '"' if items else ""


def containers_phrase(names: Sequence[str]) -> str:
    return f"{pluralize('container', 'containers', len(names))} {join_quote(names)}"


def setters_phrase(pod: bool, names: Sequence[str]) -> str:
    parts = ["pod"] if pod else []
    if names:
        parts.append(containers_phrase(names))
    return " and ".join(parts)


def describe(value: object) -> str:
    """A short rendering of a malformed value for messages (never the whole object)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Patch:
    """A strategic-merge patch for the pod: containers merge by name, volumes by name, ports by
    containerPort, ``null`` deletes a field and ``{"$patch": "delete"}`` drops a list item.

    Checks only record what to set; the nested patch is built and serialised when the remediation
    is first read (most callers never read it).
    """

    __slots__ = ("_ops",)

    def __init__(self) -> None:
        self._ops: list[tuple[Any, ...]] = []

    def spec(self, keys: Sequence[str], value: object) -> None:
        self._ops.append((_SPEC, keys, value))

    def annotation(self, key: str, value: object) -> None:
        self._ops.append((_ANNOTATION, key, value))

    def ctr(self, ctr: Ctr, keys: Sequence[str], value: object) -> None:
        if ctr.bad or not ctr.named:
            return  # no merge key to address it by
        self._ops.append((_CTR, ctr.kind, ctr.name, keys, value))

    def ctr_item(self, ctr: Ctr, list_key: str, merge_key: str, merge_value: object, key: str, value: object) -> None:
        """Set ``key`` on one keyed list item inside a container (e.g. a port by containerPort)."""
        if ctr.bad or not ctr.named:
            return
        self._ops.append((_CTR_ITEM, ctr.kind, ctr.name, list_key, merge_key, merge_value, key, value))

    def delete_volume(self, name: str) -> None:
        self._ops.append((_DELETE_VOLUME, name))

    def build(self) -> dict[str, Any]:
        root: dict[str, Any] = {}
        for op in self._ops:
            tag = op[0]
            if tag == _SPEC:
                _put(root, ("spec", *op[1]), op[2])
            elif tag == _ANNOTATION:
                _put(root, ("metadata", "annotations", op[1]), op[2])
            elif tag == _CTR:
                _put(_list_item(root, op[1], "name", op[2]), op[3], op[4])
            elif tag == _CTR_ITEM:
                entry = _list_item(root, op[1], "name", op[2])
                items: list[dict[str, Any]] = entry.setdefault(op[3], [])
                item = next((i for i in items if i.get(op[4]) == op[5]), None)
                if item is None:
                    item = {op[4]: op[5]}
                    items.append(item)
                item[op[6]] = op[7]
            else:
                _list_item(root, "volumes", "name", op[1])["$patch"] = "delete"
        return root

    def dumps(self) -> str:
        return orjson.dumps(self.build()).decode() if self._ops else ""


_SPEC, _ANNOTATION, _CTR, _CTR_ITEM, _DELETE_VOLUME = range(5)


def _put(target: dict[str, Any], keys: Sequence[str], value: object) -> None:
    for key in keys[:-1]:
        nxt = target.get(key)
        if not isinstance(nxt, dict):
            nxt = target[key] = {}
        target = nxt
    target[keys[-1]] = value


def _list_item(root: dict[str, Any], list_key: str, merge_key: str, merge_value: str) -> dict[str, Any]:
    spec = root.setdefault("spec", {})
    items: list[dict[str, Any]] = spec.setdefault(list_key, [])
    for item in items:
        if item.get(merge_key) == merge_value:
            return item
    item = {merge_key: merge_value}
    items.append(item)
    return item


Detail = str | Callable[[], str]


class Hits:
    """What one check found while it ran; created only once something is wrong.

    It is also the violation's deferred text: the message (``reason (detail; malformed: …)``) and
    the remediation are rendered from it on first use and then kept.
    """

    __slots__ = ("_message", "_remediation", "containers", "detail", "fields", "malformed", "patch", "reason")

    def __init__(self) -> None:
        self.containers: list[str] = []
        self.fields: list[str] = []
        self.malformed: list[str] | None = None
        self.patch = Patch()
        self.reason = ""
        self.detail: Detail = ""
        self._message: str | None = None
        self._remediation: str | None = None

    def ctr(self, ctr: Ctr) -> None:
        if ctr.name not in self.containers:
            self.containers.append(ctr.name)

    def field(self, path: str) -> None:
        if path not in self.fields:
            self.fields.append(path)

    def bad(self, path: str, expected: str, value: object = None) -> None:
        """Record a malformed value: it denies, and the message says what was expected."""
        self.field(path)
        shown = "" if value is None else f", not {describe(value)}"
        if self.malformed is None:
            self.malformed = []
        self.malformed.append(f"{path} must be {expected}{shown}")

    def violation(self, check: str, reason: str, detail: Detail) -> CheckViolation:
        """``detail`` may be a function: it then runs only if the message is read."""
        self.reason = reason
        self.detail = detail
        return CheckViolation.deferred(check, tuple(self.containers), tuple(self.fields), self)

    def message(self) -> str:
        text = self._message
        if text is None:
            detail = self.detail if isinstance(self.detail, str) else self.detail()
            parts = [detail] if detail else []
            if self.malformed:
                parts.append("malformed: " + "; ".join(self.malformed))
            text = self._message = f"{self.reason} ({'; '.join(parts)})"
        return text

    def remediation(self) -> str:
        text = self._remediation
        if text is None:
            text = self._remediation = self.patch.dumps()
        return text


def malformed_context(h: Hits | None, c: Ctr, key: str, fix: object) -> Hits:
    """A container whose securityContext is not an object: every check that reads ``key`` from it
    reports it as malformed, and its patch sets ``key`` to ``fix``."""
    h = h or Hits()
    h.ctr(c)
    h.bad(*c.sc_problem())
    h.patch.ctr(c, ("securityContext", key), fix)
    return h
