"""Every pod and pod template of an inventory at the Pod Security policy admission would apply to it.

With a fixed policy every pod is evaluated at it. Without one each pod gets the level and version
its namespace enforces, read from the Namespace objects of the inventory as the admission plugin
reads their labels; a namespace without an enforce label, or whose Namespace object is not in the
inventory, gets the default (privileged:latest unless told otherwise, as for a cluster without an
admission configuration). The audit and warn labels are evaluated too, at their own level and
version, and reported beside the verdict without changing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stockade.model.inventory import Inventory
from stockade.model.podspec import PodTemplate
from stockade.pss.model import Level, PolicyVersion, PssResult
from stockade.pss.namespaces import Default, NamespacePolicy, namespace_policies
from stockade.pss.registry import evaluate_pod


@dataclass(frozen=True, slots=True)
class Policy:
    """The level and version a pod is evaluated at, and why (``source``, said to people)."""

    level: Level
    version: PolicyVersion
    source: str


@dataclass(frozen=True, slots=True)
class Verdict:
    pod: PodTemplate
    namespace: str | None
    policy: Policy
    result: PssResult
    # What the namespace's audit and warn labels would record or print, as (mode, policy, result);
    # only for labelled modes, and never with a fixed policy.
    modes: tuple[tuple[str, Policy, PssResult], ...] = ()

    @property
    def allowed(self) -> bool:
        return self.result.allowed


@dataclass(frozen=True, slots=True)
class Evaluation:
    verdicts: tuple[Verdict, ...]
    default: Default
    # Namespaces of evaluated pods whose Namespace object is not in the inventory (they got the default).
    missing_namespaces: frozenset[str] = frozenset()

    @property
    def denied(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.allowed)


class _PolicyChooser:
    """Picks each pod's policy: the fixed one, else its namespace's enforce label, else the default."""

    def __init__(self, inventory: Inventory, fixed: Policy | None, default: Default) -> None:
        self.fixed = fixed
        self.default = default
        self.policies: Mapping[str, NamespacePolicy] = namespace_policies(
            ((ns.name, ns.labels) for ns in inventory.of_kind("Namespace")), default
        )
        self.missing: set[str] = set()

    def choose(self, namespace: str | None) -> Policy:
        if self.fixed is not None:
            return self.fixed
        default = f"default ({self.default.level}"
        if namespace is None:
            return Policy(self.default.level, self.default.version, f"{default}: not in a namespace)")
        policy = self.policies.get(namespace)
        if policy is None:
            self.missing.add(namespace)
            return Policy(
                self.default.level, self.default.version, f"{default}: namespace {namespace} not in the input)"
            )
        enforce = policy.enforce
        if not enforce.labelled:
            return Policy(enforce.level, enforce.version, f"{default}: no enforce label)")
        return Policy(enforce.level, enforce.version, f"namespace {namespace} label")

    def other_modes(self, namespace: str | None) -> list[tuple[str, Policy]]:
        """The audit and warn policies a namespace labels (none with a fixed policy)."""
        if self.fixed is not None or namespace is None or namespace not in self.policies:
            return []
        policy = self.policies[namespace]
        return [
            (mode.mode, Policy(mode.level, mode.version, f"namespace {namespace} label"))
            for mode in (policy.audit, policy.warn)
            if mode.labelled
        ]


def evaluate_inventory(inventory: Inventory, fixed: Policy | None = None, default: Default | None = None) -> Evaluation:
    """Every pod template of ``inventory`` at ``fixed``, or at the policy its namespace enforces."""
    chooser = _PolicyChooser(inventory, fixed, default or Default())
    verdicts = []
    for pod in inventory.pod_templates:
        namespace = inventory.effective_namespace(pod.carrier)
        policy = chooser.choose(namespace)
        result = evaluate_pod(pod.metadata, pod.spec, policy.level, policy.version)
        modes = tuple(
            (mode, other, evaluate_pod(pod.metadata, pod.spec, other.level, other.version))
            for mode, other in chooser.other_modes(namespace)
        )
        verdicts.append(Verdict(pod, namespace, policy, result, modes))
    return Evaluation(tuple(verdicts), chooser.default, frozenset(chooser.missing))
