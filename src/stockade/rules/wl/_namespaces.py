"""Shared by WL-006/007/008: a pod in one of the node's namespaces (the Pod Security
``hostNamespaces`` check decides)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.podspec import PodTemplate
from stockade.rules._pod import pod_patch
from stockade.rules.base import RuleContext, Violation
from stockade.rules.wl._verdict import verdict


def host_namespace(ctx: RuleContext, pod: PodTemplate, field: str, what: str) -> Iterator[Violation]:
    """A violation when ``spec.<field>`` is true (a YAML 1.1 word counts); an error when it is malformed."""
    denied = verdict(ctx, pod, "hostNamespaces")
    dotted = f"spec.{field}"
    if denied is not None and denied.flags(dotted) and denied.boolean(dotted, pod.spec.get(field)):
        yield Violation(
            f"pod shares the host's {what} ({field}: true)",
            (*pod.spec_path, field),
            remediation=pod_patch(pod, {field: False}),
        )
