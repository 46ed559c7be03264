"""NP-005 against a naive reading of NetworkPolicy selection, on random policies and pods."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.model.finding import Status
from tests.helpers import scan_objects

_labels = st.dictionaries(st.sampled_from(["app", "tier", "env"]), st.sampled_from(["a", "b"]), max_size=3)
_namespaces = st.sampled_from(["shop", "billing"])


def _selected(policies: list[tuple[str, dict[str, str]]], namespace: str, labels: dict[str, str]) -> bool:
    """A pod is selected when some policy of its namespace asks only for labels it has."""
    return any(ns == namespace and wanted.items() <= labels.items() for ns, wanted in policies)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(_namespaces, _labels), max_size=3),
    st.lists(st.tuples(_namespaces, _labels), min_size=1, max_size=4),
)
def test_np005_fails_exactly_the_pods_no_policy_of_their_namespace_selects(
    policies: list[tuple[str, dict[str, str]]], pods: list[tuple[str, dict[str, str]]]
) -> None:
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"p{i}", "namespace": ns},
            "spec": {"podSelector": {"matchLabels": wanted}},
        }
        for i, (ns, wanted) in enumerate(policies)
    ]
    objects += [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"pod{i}", "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "registry.example.com/c:1"}]},
        }
        for i, (ns, labels) in enumerate(pods)
    ]
    result = scan_objects(objects, ["NP-005"], include_passed=True)
    failed = {f.resource.name for f in result.findings if f.status is Status.FAIL}
    expected = {f"pod{i}" for i, (ns, labels) in enumerate(pods) if not _selected(policies, ns, labels)}
    assert failed == expected
    assert result.passes.by_rule.get("NP-005", 0) == len(pods) - len(expected)
