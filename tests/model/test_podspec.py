"""The one typed view of a pod: never raises, and tells a malformed value from an unset one."""

from __future__ import annotations

from typing import Any

import pytest

from stockade.model.podspec import PodView
from tests.helpers import inventory_from_raw


def test_a_security_context_that_is_not_an_object_is_malformed_not_unset() -> None:
    view = PodView(
        {},
        {
            "securityContext": ["runAsNonRoot"],
            "containers": [
                {"name": "listed", "securityContext": [{"privileged": True}]},
                {"name": "unset"},
                {"name": "null", "securityContext": None},
                {"name": "set", "securityContext": {"privileged": True}},
            ],
        },
    )
    assert view.security_context_malformed and view.security_context == {}
    listed, unset, null, set_ = view.containers
    assert (listed.security_context, listed.security_context_malformed) == (None, True)
    assert listed.security_context_problem() == ("spec.containers[0].securityContext", "an object")
    assert (unset.security_context, unset.security_context_malformed) == (None, False)
    assert (null.security_context, null.security_context_malformed) == (None, False)
    assert (set_.security_context, set_.security_context_malformed) == ({"privileged": True}, False)


def test_entries_and_lists_of_the_wrong_shape_are_kept_and_marked() -> None:
    view = PodView(None, {"initContainers": "busybox", "containers": [5, {"name": 7}], "ephemeralContainers": None})
    whole, five, named = view.containers
    assert (whole.list_name, whole.index, whole.malformed, whole.field) == (
        "initContainers",
        -1,
        True,
        "spec.initContainers",
    )
    assert whole.security_context_problem() == ("spec.initContainers", "a list of objects")
    assert (five.malformed, five.security_context_malformed, five.spec) == (True, True, {})
    assert five.security_context_problem() == ("spec.containers[0]", "an object")
    assert (named.name, named.named, named.field) == ("7", False, "spec.containers[1]")


@pytest.mark.parametrize(
    ("spec", "windows", "user_namespace"),
    [
        ({"os": {"name": "windows"}, "hostUsers": False}, True, True),
        ({"os": {"name": "linux"}, "hostUsers": True}, False, False),
        ({"os": "windows", "hostUsers": "false"}, False, False),  # malformed values earn no relaxation
        ({}, False, False),
    ],
)
def test_relaxing_facts_count_only_when_explicit(spec: dict[str, Any], windows: bool, user_namespace: bool) -> None:
    view = PodView({}, spec)
    assert (view.windows, view.user_namespace) == (windows, user_namespace)


def test_annotations_that_are_not_an_object_are_malformed() -> None:
    assert PodView({"annotations": ["a"]}, {}).annotations_malformed
    assert PodView("web", {}).annotations_malformed
    assert not PodView({"annotations": None}, {}).annotations_malformed
    assert PodView({"annotations": {"a": "b"}}, {}).annotations == {"a": "b"}


def test_a_template_reads_its_pod_once_and_its_rules_see_that_view() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [5, {"image": "x"}, {"name": "b", "securityContext": "x"}]}}},
    }
    (pod,) = inventory_from_raw([deployment]).pod_templates
    assert pod.view is pod.view
    containers = list(pod.containers())
    # An entry that is not an object has nothing a container rule could read.
    assert [c.view for c in containers] == pod.view.containers[1:]
    unnamed, named = containers
    assert (unnamed.name, unnamed.path) == ("containers[1]", ("spec", "template", "spec", "containers", 1))
    assert (named.name, named.view.security_context_malformed) == ("b", True)
