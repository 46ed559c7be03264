"""Which ServiceAccount a pod runs as, and in which namespace."""

from __future__ import annotations

from stockade.model.inventory import DEFAULT_NAMESPACE
from stockade.model.podspec import PodTemplate
from stockade.model.resource import Resource
from stockade.rules.base import RuleContext

DEFAULT_SA = "default"


def service_account_name(pod: PodTemplate) -> str:
    """The ServiceAccount a pod runs as: serviceAccountName, the deprecated serviceAccount, or default."""
    for key in ("serviceAccountName", "serviceAccount"):
        value = pod.spec.get(key)
        if isinstance(value, str) and value:
            return value
    return DEFAULT_SA


def namespace_of(ctx: RuleContext, resource: Resource) -> str:
    """The namespace an object lands in; a cluster-scoped carrier (a CRD of its own) counts as default."""
    return ctx.inventory.effective_namespace(resource) or DEFAULT_NAMESPACE
