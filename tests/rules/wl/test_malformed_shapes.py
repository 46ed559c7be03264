"""Malformed shapes never pass a WL rule, and the WL rules judge them as Pod Security does.

A WL rule that must read a field of the wrong type gives an ``error`` finding naming the field
(from the carrier's root); the PSS check it restates denies the same pod at the same field.
"""

from __future__ import annotations

from typing import Any

import pytest

from stockade.model.finding import Finding, Status
from tests.helpers import scan_objects, scan_text

CONTEXT = [{"privileged": True}]
WHERE = "spec.template.spec.containers[0].securityContext"


def _deployment(container: dict[str, Any], **pod: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "registry.example.com/shop/web:1.0", **container}]}
                | pod,
            },
        },
    }


def _only(findings: list[Finding], rule_id: str) -> Finding:
    (found,) = [f for f in findings if f.rule_id == rule_id]
    return found


# Each WL container rule that reads the securityContext, and the PSS check rule it restates (if any).
READERS = [
    ("WL-001", "PSS-002"),
    ("WL-002", "PSS-014"),
    ("WL-003", "PSS-015"),
    ("WL-004", "PSS-003"),
    ("WL-005", "PSS-018"),
    ("WL-011", None),
    ("WL-012", "PSS-017"),
    ("WL-013", "PSS-006"),
]


@pytest.mark.parametrize(("wl", "pss"), READERS, ids=[wl for wl, _ in READERS])
def test_a_security_context_written_as_a_list_is_an_error_where_pod_security_denies(wl: str, pss: str | None) -> None:
    result = scan_objects([_deployment({"securityContext": CONTEXT})], [wl, *([pss] if pss else [])])
    error = _only(result.findings, wl)
    assert error.status is Status.ERROR
    assert (
        error.message == f"could not evaluate: MalformedField: {WHERE} must be an object, not [{{'privileged': True}}]"
    )
    assert wl not in result.passes.by_rule
    if pss is not None:
        denied = _only(result.findings, pss)
        assert denied.status is Status.FAIL
        assert denied.path == WHERE
        assert f"malformed: {WHERE.removeprefix('spec.template.')} must be an object" in denied.message


def test_only_the_malformed_container_is_an_error() -> None:
    good = {"name": "good", "image": "registry.example.com/shop/good:1.0", "securityContext": {"privileged": True}}
    result = scan_objects([_deployment({"securityContext": CONTEXT}, initContainers=[good])], ["WL-001"])
    statuses = sorted((f.status.value, f.path) for f in result.findings)
    assert statuses == [
        ("error", ""),
        ("fail", "spec.template.spec.initContainers[0].securityContext.privileged"),
    ]


def test_a_pod_security_context_that_is_not_an_object_is_an_error_for_containers_that_inherit_from_it() -> None:
    own = {"securityContext": {"runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}}
    result = scan_objects(
        [
            _deployment({}, securityContext="restricted"),
            _deployment(own, securityContext="restricted") | {"metadata": {"name": "own", "namespace": "shop"}},
        ],
        ["WL-003", "WL-012"],
    )
    errors = {(f.resource.name, f.rule_id, f.message) for f in result.findings if f.status is Status.ERROR}
    problem = (
        "could not evaluate: MalformedField: spec.template.spec.securityContext must be an object, not 'restricted'"
    )
    assert errors == {("web", "WL-003", problem), ("web", "WL-012", problem)}
    # A container that sets the fields itself does not read the pod's: it is judged.
    assert result.passes.by_rule == {"WL-003": 1, "WL-012": 1}


@pytest.mark.parametrize(
    ("rule_id", "container", "pod", "fails"),
    [
        ("WL-001", {"securityContext": {"privileged": "off"}}, {}, False),
        ("WL-001", {"securityContext": {"privileged": "on"}}, {}, True),
        ("WL-002", {"securityContext": {"allowPrivilegeEscalation": "no"}}, {}, False),
        ("WL-002", {"securityContext": {"allowPrivilegeEscalation": "yes"}}, {}, True),
        ("WL-006", {}, {"hostPID": "on"}, True),
        ("WL-006", {}, {"hostPID": "n"}, False),
        ("WL-011", {"securityContext": {"readOnlyRootFilesystem": "yes"}}, {}, False),
    ],
)
def test_yaml_11_boolean_words_are_read_as_the_booleans_they_spell(
    rule_id: str, container: dict[str, Any], pod: dict[str, Any], fails: bool
) -> None:
    # kubectl's YAML decoder reads `yes`/`off` as booleans; a YAML 1.2 reader sees strings.
    result = scan_objects([_deployment(container, **pod)], [rule_id])
    assert [f.status for f in result.findings] == ([Status.FAIL] if fails else [])
    assert result.passes.by_rule.get(rule_id, 0) == (0 if fails else 1)


def test_a_malformed_entry_does_not_hide_a_dangerous_one() -> None:
    caps = {"securityContext": {"capabilities": {"add": [7, "SYS_ADMIN"]}}}
    result = scan_objects([_deployment(caps)], ["WL-004"])
    (finding,) = result.findings
    assert (finding.status, finding.path) == (Status.FAIL, f"{WHERE}.capabilities.add[1]")
    alone = scan_objects([_deployment({"securityContext": {"capabilities": {"add": [7]}}})], ["WL-004"])
    (error,) = alone.findings
    assert error.status is Status.ERROR
    assert error.message.endswith(f"{WHERE}.capabilities.add[0] must be a string, not 7")


SHAPES = """\
apiVersion: v1
kind: Pod
metadata: {name: string, namespace: shop}
spec:
  containers: "oops"
---
apiVersion: v1
kind: Pod
metadata: {name: mapping, namespace: shop}
spec:
  containers: {name: web, image: registry.example.com/shop/web:1.0}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: entry, namespace: shop}
spec:
  template:
    spec:
      containers:
        - 5
        - {name: ok, image: registry.example.com/shop/ok:1.0}
---
apiVersion: batch/v1
kind: Job
metadata: {name: spec-list, namespace: shop}
spec: [1, 2]
"""


def test_shapes_that_hide_containers_are_input_problems_naming_file_line_and_field() -> None:
    result = scan_text(SHAPES, ["WL-001"])
    problems = sorted((p.line, p.object, p.message) for p in result.errors)
    assert problems == [
        (5, "Pod/shop/string", "spec.containers must be a list of objects, not 'oops'; no rule checks what it holds"),
        (
            11,
            "Pod/shop/mapping",
            "spec.containers must be a list of objects, not {'name': 'web', 'image': 'registry.ex...; no rule checks"
            " what it holds",
        ),
        (
            20,
            "Deployment/shop/entry",
            "spec.template.spec.containers[0] must be an object, not 5; no rule checks what it holds",
        ),
        (26, "Job/shop/spec-list", "spec must be an object, not [1, 2]; no rule checks what it holds"),
    ]
    assert {p.source for p in result.errors} == {"<stdin>"}
    assert result.gate("none") == 3
    # The well-formed container next to the malformed entry is still checked.
    assert result.passes.by_rule == {"WL-001": 1}


def test_a_security_context_list_is_still_judged_by_the_rules_not_hidden() -> None:
    result = scan_objects([_deployment({"securityContext": CONTEXT})], ["WL-001"])
    assert result.errors == []
    assert [f.status for f in result.findings] == [Status.ERROR]
    assert result.gate("none") == 3
