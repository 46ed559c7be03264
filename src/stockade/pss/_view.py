"""The helpers checks report through: messages, patches, and what was malformed.

Checks read the typed pod view (:class:`~stockade.model.podspec.PodView`), which never raises: a
value of the wrong type is *malformed*, and a check that reads a malformed value denies the pod (the
API server would refuse to decode it, so treating it as unset would let a broken pod through).
``None`` (YAML ``null``) always means "unset", as it does for the API server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from stockade.model.podspec import ContainerView
from stockade.pss.model import CheckViolation, Malformed


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

    def ctr(self, ctr: ContainerView, keys: Sequence[str], value: object) -> None:
        if ctr.malformed or not ctr.named:
            return  # no merge key to address it by
        self._ops.append((_CTR, ctr.list_name, ctr.name, keys, value))

    def ctr_item(
        self, ctr: ContainerView, list_key: str, merge_key: str, merge_value: object, key: str, value: object
    ) -> None:
        """Set ``key`` on one keyed list item inside a container (e.g. a port by containerPort)."""
        if ctr.malformed or not ctr.named:
            return
        self._ops.append((_CTR_ITEM, ctr.list_name, ctr.name, list_key, merge_key, merge_value, key, value))

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
        # Ordered sets: a pod with thousands of containers must not make each addition a scan.
        self.containers: dict[str, None] = {}
        self.fields: dict[str, None] = {}
        self.malformed: list[Malformed] | None = None
        self.patch = Patch()
        self.reason = ""
        self.detail: Detail = ""
        self._message: str | None = None
        self._remediation: str | None = None

    def ctr(self, ctr: ContainerView) -> None:
        self.containers[ctr.name] = None

    def field(self, path: str) -> None:
        self.fields[path] = None

    def bad(self, path: str, expected: str, value: object = None) -> None:
        """Record a malformed value: it denies, and the message says what was expected."""
        self.field(path)
        if self.malformed is None:
            self.malformed = []
        self.malformed.append(Malformed.of(path, expected, value))

    def violation(self, check: str, reason: str, detail: Detail) -> CheckViolation:
        """``detail`` may be a function: it then runs only if the message is read."""
        self.reason = reason
        self.detail = detail
        malformed = tuple(self.malformed) if self.malformed else ()
        return CheckViolation.deferred(check, tuple(self.containers), tuple(self.fields), self, malformed)

    def message(self) -> str:
        text = self._message
        if text is None:
            detail = self.detail if isinstance(self.detail, str) else self.detail()
            parts = [detail] if detail else []
            if self.malformed:
                parts.append("malformed: " + "; ".join(str(m) for m in self.malformed))
            text = self._message = f"{self.reason} ({'; '.join(parts)})"
        return text

    def remediation(self) -> str:
        text = self._remediation
        if text is None:
            text = self._remediation = self.patch.dumps()
        return text


def malformed_context(h: Hits | None, c: ContainerView, key: str, fix: object) -> Hits:
    """A container whose securityContext is not an object: every check that reads ``key`` from it
    reports it as malformed, and its patch sets ``key`` to ``fix``."""
    h = h or Hits()
    h.ctr(c)
    h.bad(*c.security_context_problem())
    h.patch.ctr(c, ("securityContext", key), fix)
    return h
