"""Pod builders and a small strategic-merge-patch applier for the PSS tests."""

from __future__ import annotations

import copy
import json
from typing import Any

from stockade.pss import CheckViolation, Level, PssResult, evaluate_pod, parse_version

MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "ports": "containerPort",
}


def hardened() -> dict[str, Any]:
    """A pod that every level and version allows."""
    container_sc = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    return {
        "metadata": {"name": "web", "annotations": {"team": "a"}},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "initContainers": [{"name": "init", "image": "busybox", "securityContext": copy.deepcopy(container_sc)}],
            "containers": [
                {
                    "name": "app",
                    "image": "nginx",
                    "ports": [{"containerPort": 8080}],
                    "securityContext": copy.deepcopy(container_sc),
                },
                {"name": "sidecar", "image": "envoy", "securityContext": copy.deepcopy(container_sc)},
            ],
            "volumes": [{"name": "cache", "emptyDir": {}}],
        },
    }


def evaluate(pod: dict[str, Any], level: Level, version: str = "latest") -> PssResult:
    return evaluate_pod(pod.get("metadata") or {}, pod["spec"], level, parse_version(version))


def checks(pod: dict[str, Any], level: Level, version: str = "latest") -> list[str]:
    return [v.check for v in evaluate(pod, level, version).violations]


def only(pod: dict[str, Any], level: Level, version: str = "latest") -> CheckViolation:
    violations = evaluate(pod, level, version).violations
    assert len(violations) == 1, [v.message for v in violations]
    return violations[0]


def apply_patch(target: object, patch: object) -> Any:
    """Apply a strategic-merge patch as the API server would for the keys a remediation uses."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif key in MERGE_KEYS and isinstance(value, list):
            out[key] = _merge_list(out.get(key), value, MERGE_KEYS[key])
        elif isinstance(value, dict):
            out[key] = apply_patch(out.get(key), value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_list(target: object, patch: list[Any], merge_key: str) -> list[Any]:
    items = list(target) if isinstance(target, list) else []
    for entry in patch:
        key = entry[merge_key]
        index = next((i for i, item in enumerate(items) if isinstance(item, dict) and item.get(merge_key) == key), None)
        if entry.get("$patch") == "delete":
            if index is not None:
                del items[index]
        elif index is None:
            items.append(apply_patch({}, entry))
        else:
            items[index] = apply_patch(items[index], entry)
    return items


def remediate(pod: dict[str, Any], violation: CheckViolation) -> dict[str, Any]:
    assert violation.remediation, violation
    result = apply_patch(pod, json.loads(violation.remediation))
    assert isinstance(result, dict)
    return result
