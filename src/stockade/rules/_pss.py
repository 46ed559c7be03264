"""Shared by the PSS and WL rules: the evaluator's output (dotted fields, pod patches) turned into
paths from the carrier's root and fix commands for the carrier."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from stockade.model.podspec import PodTemplate
from stockade.pss import CheckViolation
from stockade.rules._kubectl import is_builtin, kubectl_target
from stockade.rules.base import Path


def field_path(dotted: str) -> Path:
    """``spec.containers[0].securityContext`` → ``("spec", "containers", 0, "securityContext")``.

    Bracketed parts are list indexes when they are digits and map keys otherwise (annotation keys
    keep their dots and slashes: ``metadata.annotations[container.apparmor…/app]``).
    """
    out: list[str | int] = []
    i, n = 0, len(dotted)
    while i < n:
        if dotted[i] == "[":
            end = dotted.find("]", i)
            if end < 0:
                end = n
            inner = dotted[i + 1 : end]
            out.append(int(inner) if inner.isdigit() else inner)
            i = end + 1
        elif dotted[i] == ".":
            i += 1
        else:
            end = i
            while end < n and dotted[end] not in ".[":
                end += 1
            out.append(dotted[i:end])
            i = end
    return tuple(out)


def violation_path(pod: PodTemplate, violation: CheckViolation) -> Path:
    """Where the first offending field is, from the carrier's root (the pod spec when none is named)."""
    if violation.fields:
        return (*pod.path, *field_path(violation.fields[0]))
    return pod.spec_path


# Kinds kubectl can strategic-merge; custom resources only take JSON merge patches, which would
# replace whole container lists.
_STRATEGIC_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "PodTemplate"}
)


def carrier_patch(pod: PodTemplate, pod_patch: Mapping[str, Any]) -> dict[str, Any]:
    """A patch for the pod (``{"metadata": …, "spec": …}``) nested at the template's place in its carrier."""
    nested: dict[str, Any] = dict(pod_patch)
    for key in reversed(pod.path):
        nested = {key: nested}
    return nested


def remediation_text(pod: PodTemplate, remediation: str) -> str | None:
    """The evaluator's pod patch as a fix for the carrying object: a ``kubectl patch`` command for
    built-in workload kinds, else the strategic-merge patch to apply to the manifest."""
    if not remediation:
        return None
    patch = json.dumps(carrier_patch(pod, json.loads(remediation)), separators=(",", ":"))
    carrier = pod.carrier
    # A custom kind may share a built-in kind's name (Knative's Service): only Kubernetes' own merge.
    if carrier.kind in _STRATEGIC_KINDS and is_builtin(carrier):
        return f"kubectl patch {kubectl_target(carrier)} --type=strategic -p {shlex.quote(patch)}"
    if carrier.kind == "Pod":
        return f"a Pod's spec cannot be patched in place; apply this strategic-merge patch to the manifest and recreate the Pod: {patch}"
    where = ".".join(pod.path) or "the object root"
    return f"apply this strategic-merge patch to the {carrier.kind} manifest (pod template at {where}): {patch}"


# Strategic-merge keys of the lists the evaluator's patches touch.
_MERGE_KEYS: Mapping[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "ports": "containerPort",
}


def _merge(into: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        merge_key = _MERGE_KEYS.get(key)
        old = into.get(key)
        if merge_key is not None and isinstance(value, list) and isinstance(old, list):
            for item in value:
                same = next((o for o in old if isinstance(o, dict) and o.get(merge_key) == item.get(merge_key)), None)
                if same is None:
                    old.append(json.loads(json.dumps(item)))
                else:
                    _merge(same, item)
        elif isinstance(value, Mapping) and isinstance(old, dict):
            _merge(old, value)
        else:
            into[key] = json.loads(json.dumps(value))


def merged_remediation(violations: Sequence[CheckViolation]) -> str:
    """One pod patch that clears every violation: the evaluator's patches, merged as the API server
    would merge them one after the other (containers and volumes by name, ports by containerPort)."""
    merged: dict[str, Any] = {}
    for violation in violations:
        if violation.remediation:
            _merge(merged, json.loads(violation.remediation))
    return json.dumps(merged, separators=(",", ":")) if merged else ""
