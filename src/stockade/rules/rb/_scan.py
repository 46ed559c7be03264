"""The RBAC analysis of one scan, built once through ``ctx.analyses`` and read by every RB rule.

`RbacScan` builds the index (with the default ClusterRoles assumed, so manifests that bind
``edit`` are judged by what ``edit`` grants), the exposures and, on first use, the privileged
review. Which rules are dangerous is decided in one place, `stockade.rbac.danger`, which
``stockade rbac explain`` uses too.

Kubernetes' own bindings (the bootstrap policy's and kubeadm's, recognised by exact name, role and
subjects) are neither failed nor passed: they are how the control plane works, and a stock cluster
must scan clean. See `stockade.rbac.objects`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from stockade.model.finding import Severity
from stockade.model.inventory import Inventory, defined_times
from stockade.model.resource import Resource
from stockade.rbac.danger import Classifier, DangerMatch
from stockade.rbac.exposure import Exposure, Exposures, RoleClassifier, find_exposures, is_all_access
from stockade.rbac.index import IndexedBinding, IndexedRole, RbacIndex
from stockade.rbac.model import ObjectRef, RbacProblem, Subject
from stockade.rbac.objects import RbacObjects
from stockade.rbac.review import PrivilegedReview, review_privileged
from stockade.rules.base import READS_PLACEMENT, Outcome, RuleContext

ROLE_KINDS = ("Role", "ClusterRole")
# What the RBAC index and objects read: every RB rule reads these.
RBAC_READS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
# What a rule reads when it asks the privileged review (`RbacScan.review`, e.g. through the severity
# of a danger that takes identities): the ServiceAccount token Secrets, and the placement of every
# object (the namespaces in use, which service accounts pods run as, whatever kind carries them).
REVIEW_READS = RBAC_READS | {"Secret", READS_PLACEMENT}


@dataclass(frozen=True, slots=True)
class DeclaredRule:
    """A dangerous rule a custom role declares: its index, its place in the manifest, its dangers."""

    position: int
    manifest_position: int
    matches: tuple[DangerMatch, ...]


@dataclass(frozen=True, slots=True)
class CustomRole:
    """A role the cluster's owners wrote, with its dangerous declared rules (often none)."""

    ref: ObjectRef
    resource: Resource
    declared: tuple[DeclaredRule, ...]


@dataclass(frozen=True, slots=True)
class CustomBinding:
    """A binding with a subject that is not a stock grant (or no subject at all), and those subjects."""

    binding: IndexedBinding
    resource: Resource
    subjects: tuple[Subject, ...]


class RbacScan:
    """The RBAC analysis of one Inventory, built once and shared by every RB rule."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.index = RbacIndex.build(inventory, assume_defaults=True)
        self.objects = RbacObjects(inventory)
        self.role_dangers = RoleClassifier(Classifier())
        self.exposures: Exposures = find_exposures(self.index, self.objects, self.role_dangers)
        self.bindings: dict[ObjectRef, IndexedBinding] = {b.ref: b for b in self.index.bindings()}
        # Shapes the API server rejects (a string where a list or an object belongs): not judged, so
        # every rule that reads roles (or bindings) reports them as errors rather than passing them.
        self.malformed_rules = _messages(self.index.problems, "malformed-rule")
        self.malformed_bindings = _messages(self.index.problems, "malformed-binding")
        self.custom_roles: tuple[CustomRole, ...] = tuple(self._custom_roles())
        self.custom_bindings: tuple[CustomBinding, ...] = tuple(self._custom_bindings())
        self._all_access: dict[ObjectRef, bool] = {}

    def _custom_roles(self) -> Iterator[CustomRole]:
        for ref, resource in self.objects.by_ref.items():
            if ref.kind not in ROLE_KINDS or self.objects.is_stock_role(ref):
                continue
            role = self.index.role(ref)
            declared = []
            if role is not None:
                for position, matches in enumerate(self.role_dangers(role, ref.kind == "Role")):
                    # Rules of an aggregated role are declared (and reported) in their source roles.
                    if matches and role.source(position) == (ref, position):
                        declared.append(DeclaredRule(position, role.manifest_position(position), matches))
            yield CustomRole(ref, resource, tuple(declared))

    def _custom_bindings(self) -> Iterator[CustomBinding]:
        for ref, resource in self.objects.by_ref.items():
            binding = self.bindings.get(ref)
            if binding is None or ref in self.malformed_bindings:
                continue
            chosen = tuple(s for s in binding.subjects if not self.objects.is_stock_grant(ref, s))
            if chosen or not binding.subjects:
                yield CustomBinding(binding, resource, chosen)

    def malformed_binding_outcomes(self) -> Iterator[Outcome]:
        """An error for each binding whose roleRef or subjects the API server would reject (a
        ``roleRef: cluster-admin`` string): no rule may pass it, none can judge it."""
        for ref, messages in self.malformed_bindings.items():
            resource = self.objects.get(ref)
            if resource is not None:
                yield Outcome(resource, error=f"{ref}: {'; '.join(messages)}")

    @cached_property
    def review(self) -> PrivilegedReview:
        return review_privileged(self.inventory, self.index, self.objects)

    @cached_property
    def by_binding(self) -> dict[ObjectRef, tuple[Exposure, ...]]:
        grouped: dict[ObjectRef, list[Exposure]] = defaultdict(list)
        for exposure in self.exposures.items:
            grouped[exposure.binding].append(exposure)
        return {ref: tuple(items) for ref, items in grouped.items()}

    def dangers_through(self, binding: ObjectRef) -> list[DangerMatch]:
        """The dangerous permissions a binding hands out, each once."""
        return list(dict.fromkeys(e.match for e in self.by_binding.get(binding, ())))

    def grants_everything(self, ref: ObjectRef) -> bool:
        """Whether a rule of the role allows every verb on every resource (a cluster-admin copy)."""
        return self.all_access_definition(ref) is not None

    def all_access_definition(self, ref: ObjectRef) -> IndexedRole | None:
        """The first definition of the role ``ref`` names that grants everything, if one does."""
        for role in self.index.candidates(ref):
            found = self._all_access.get(role.ref)
            if found is None:
                found = self._all_access[role.ref] = any(is_all_access(m) for m in self.role_dangers(role, False))
            if found:
                return role
        return None

    def definitions_note(self, ref: ObjectRef, verdict: ObjectRef | None = None) -> str:
        """For an object declared more than once, ``; ClusterRole/x is defined 2 times (a.yaml:1,
        b.yaml:9), this verdict from a.yaml:1``, so the reader knows which one was judged; else ""."""
        declared = self.objects.definitions_of(ref)
        if len(declared) < 2:
            return ""
        note = f"; {ref.identity} is {defined_times([r.origin for r in declared])}"
        chosen = self.objects.get(verdict) if verdict is not None else None
        return f"{note}, this verdict from {chosen.origin.place}" if chosen is not None else note

    def severity(self, match: DangerMatch, namespace: str | None) -> Severity:
        """How bad holding ``match`` is where it is held (see DangerInfo)."""
        info = match.info
        if namespace is None:
            return info.cluster
        if info.takes_identities and namespace in self.review.privileged_namespaces:
            return Severity.CRITICAL
        return info.namespaced or Severity.LOW


def _messages(problems: Iterable[RbacProblem], code: str) -> dict[ObjectRef, tuple[str, ...]]:
    """The messages of the problems with ``code``, by the object they concern."""
    found: dict[ObjectRef, list[str]] = defaultdict(list)
    for problem in problems:
        if problem.code == code:
            found[problem.object].append(problem.message)
    return {ref: tuple(messages) for ref, messages in found.items()}


def rbac_scan(ctx: RuleContext) -> RbacScan:
    """The RBAC analysis of the scan, built on first use and kept for the scan."""
    return ctx.analyses.get(RbacScan)
