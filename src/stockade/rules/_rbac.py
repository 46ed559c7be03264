"""What the RB rules share: one RBAC analysis per Inventory, and the way a risky grant becomes a finding.

`rbac_scan` builds the index (with the default ClusterRoles assumed, so manifests that bind
``edit`` are judged by what ``edit`` grants), the exposures and, on first use, the privileged
review; 17 rules then read the same objects.

Where a finding goes: to the rule of the role that declares the power (path ``rules[i]``), since
that is what a person narrows, with the subjects and bindings that receive it in the message.
When the declaring role is Kubernetes' own (``edit``, ``cluster-admin``, ``system:*``), nobody
edits it; the finding goes to the binding instead (path ``roleRef.name``). A custom role that
declares a power nobody is granted yet is reported at low severity: a latent grant.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from stockade.model.finding import Severity
from stockade.model.inventory import Inventory
from stockade.model.resource import Resource
from stockade.rbac.danger import Classifier, Danger, DangerMatch
from stockade.rbac.exposure import Exposure, Exposures, RoleClassifier, find_exposures, is_all_access
from stockade.rbac.index import IndexedBinding, RbacIndex
from stockade.rbac.model import ObjectRef, Subject
from stockade.rbac.objects import RbacObjects
from stockade.rbac.review import PrivilegedReview, review_privileged
from stockade.rules.base import Outcome, Path, RuleContext, Violation

SHOWN = 3  # subjects or bindings named in a message before "and N more"
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("ClusterRoleBinding", "RoleBinding")


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


class RbacScan:
    """The RBAC analysis of one Inventory, built once and shared by every RB rule."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.index = RbacIndex.build(inventory, assume_defaults=True)
        self.objects = RbacObjects(inventory)
        self.role_dangers = RoleClassifier(Classifier())
        self.exposures: Exposures = find_exposures(self.index, self.objects, self.role_dangers)
        self.bindings: dict[ObjectRef, IndexedBinding] = {b.ref: b for b in self.index.bindings()}
        self.custom_roles: tuple[CustomRole, ...] = tuple(self._custom_roles())
        self.custom_bindings: tuple[tuple[IndexedBinding, Resource, tuple[Subject, ...]], ...] = tuple(
            self._custom_bindings()
        )
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

    def _custom_bindings(self) -> Iterator[tuple[IndexedBinding, Resource, tuple[Subject, ...]]]:
        """Bindings with a subject that is not a stock grant (or no subject at all), and those subjects."""
        for ref, resource in self.objects.by_ref.items():
            binding = self.bindings.get(ref)
            if binding is None:
                continue
            chosen = tuple(s for s in binding.subjects if not self.objects.is_stock_grant(ref, s))
            if chosen or not binding.subjects:
                yield binding, resource, chosen

    @cached_property
    def review(self) -> PrivilegedReview:
        return review_privileged(self.inventory, self.index, self.objects)

    @cached_property
    def by_binding(self) -> dict[ObjectRef, tuple[Exposure, ...]]:
        grouped: dict[ObjectRef, list[Exposure]] = defaultdict(list)
        for exposure in self.exposures.items:
            grouped[exposure.binding].append(exposure)
        return {ref: tuple(items) for ref, items in grouped.items()}

    def grants_everything(self, ref: ObjectRef) -> bool:
        """Whether a rule of the role allows every verb on every resource (a cluster-admin copy)."""
        found = self._all_access.get(ref)
        if found is None:
            role = self.index.role(ref)
            found = role is not None and any(is_all_access(m) for m in self.role_dangers(role, False))
            self._all_access[ref] = found
        return found

    def severity(self, match: DangerMatch, namespace: str | None) -> Severity:
        """How bad holding ``match`` is where it is held (see DangerInfo)."""
        info = match.info
        if namespace is None:
            return info.cluster
        if info.takes_identities and namespace in self.review.privileged_namespaces:
            return Severity.CRITICAL
        return info.namespaced or Severity.LOW


def rbac_scan(ctx: RuleContext) -> RbacScan:
    """The RBAC analysis of the scan, built once."""
    return ctx.analyses.get(RbacScan)


# -- messages --------------------------------------------------------------------------------
def some(items: Sequence[object]) -> str:
    """The first few items, then how many more."""
    shown = ", ".join(str(i) for i in items[:SHOWN])
    rest = len(items) - SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown


def where(exposures: Iterable[Exposure]) -> str:
    """``cluster-wide through ClusterRoleBinding/x; in namespace a through RoleBinding/a/b``."""
    bindings = list(dict.fromkeys(e.binding for e in exposures))
    cluster = [b for b in bindings if b.namespace is None]
    namespaced = [b for b in bindings if b.namespace is not None]
    parts = []
    if cluster:
        parts.append(f"cluster-wide through {some(cluster)}")
    if namespaced:
        namespaces = list(dict.fromkeys(str(b.namespace) for b in namespaced))
        label = "namespace" if len(namespaces) == 1 else "namespaces"
        parts.append(f"in {label} {some(namespaces)} through {some(namespaced)}")
    return "; ".join(parts)


def subjects_of(exposures: Iterable[Exposure]) -> list[Subject]:
    return list(dict.fromkeys(s for e in exposures for s in e.subjects))


def describe(matches: Iterable[DangerMatch]) -> str:
    """``read Secrets (get,list,watch secrets); create pods or workloads (create pods)``, one entry per danger."""
    merged: dict[Danger, DangerMatch] = {}
    for match in matches:
        known = merged.get(match.danger)
        if known is None:
            merged[match.danger] = match
        else:
            allows = tuple(dict.fromkeys((*known.allows, *match.allows)))
            names = tuple(dict.fromkeys((*known.names, *match.names))) if known.names and match.names else ()
            merged[match.danger] = DangerMatch(match.danger, allows, names)
    return "; ".join(f"{m.info.summary} ({m})" for m in merged.values())


def worst(severities: Iterable[Severity]) -> Severity:
    return max(severities, key=lambda s: s.rank)


# -- the shared outcome builder of the danger rules -------------------------------------------
Keep = Callable[[RbacScan, DangerMatch, str | None], bool]
Rate = Callable[[RbacScan, Exposure], Severity]


def danger_outcomes(
    scan: RbacScan,
    dangers: tuple[Danger, ...],
    *,
    keep: Keep | None = None,
    rate: Rate | None = None,
    include_all_access: bool = False,
) -> Iterator[Outcome]:
    """Outcomes for custom roles (findings on their rules) and custom bindings of stock roles.

    Rules that grant every verb on everything are left to RB-001/RB-002 unless
    ``include_all_access``: a cluster-admin copy is one finding, not fourteen.
    """

    def wanted(match: DangerMatch, namespace: str | None, everything: bool) -> bool:
        if everything and not include_all_access:
            return False
        return keep is None or keep(scan, match, namespace)

    def rated(exposure: Exposure) -> Severity:
        return rate(scan, exposure) if rate is not None else scan.severity(exposure.match, exposure.namespace)

    by_source: dict[tuple[ObjectRef, int], list[Exposure]] = defaultdict(list)
    by_binding: dict[ObjectRef, list[Exposure]] = defaultdict(list)
    for exposure in scan.exposures.of(*dangers):
        if not wanted(exposure.match, exposure.namespace, exposure.all_access):
            continue
        source = exposure.source
        if scan.objects.get(source) is not None and not scan.objects.is_stock_role(source):
            by_source[(source, exposure.source_index)].append(exposure)
        else:
            by_binding[exposure.binding].append(exposure)

    for custom in scan.custom_roles:
        if not custom.declared:
            yield Outcome(custom.resource)
            continue
        yield Outcome(custom.resource, tuple(_role_violations(custom, dangers, by_source, wanted, rated)))
    for binding, resource, _subjects in scan.custom_bindings:
        role = binding.role_ref
        if role is None or scan.index.role(role) is None:
            continue
        if scan.objects.get(role) is not None and not scan.objects.is_stock_role(role):
            continue  # findings go to the custom role's rules
        found = by_binding.get(binding.ref, [])
        yield Outcome(resource, (_binding_violation(binding, found, rated),) if found else ())


def _role_violations(
    custom: CustomRole,
    dangers: tuple[Danger, ...],
    by_source: dict[tuple[ObjectRef, int], list[Exposure]],
    wanted: Callable[[DangerMatch, str | None, bool], bool],
    rated: Callable[[Exposure], Severity],
) -> Iterator[Violation]:
    ref = custom.ref
    for declared_rule in custom.declared:
        declared = declared_rule.matches
        path: Path = ("rules", declared_rule.manifest_position)
        granted = by_source.get((ref, declared_rule.position))
        if granted:
            what = describe(e.match for e in granted)
            holders = subjects_of(granted)
            yield Violation(
                f"{ref} rules[{path[1]}] lets {some(holders)} {what}, {where(granted)}",
                path,
                severity=worst(rated(e) for e in granted),
            )
            continue
        everything = is_all_access(declared)
        latent = [m for m in declared if m.danger in dangers and wanted(m, ref.namespace, everything)]
        if latent:
            yield Violation(
                f"{ref} rules[{path[1]}] would let its holders {describe(latent)}; no binding in the scanned "
                "objects grants it where it takes effect yet, so it is a latent grant",
                path,
                severity=Severity.LOW,
            )


def _binding_violation(
    binding: IndexedBinding, exposures: list[Exposure], rated: Callable[[Exposure], Severity]
) -> Violation:
    what = describe(e.match for e in exposures)
    rules = []
    for exposure in exposures:
        text = f"{exposure.role} rules[{exposure.rule_index}]"
        if exposure.source != exposure.role:
            text += f" (from {exposure.source} rules[{exposure.source_index}])"
        rules.append(text)
    scope = "cluster-wide" if binding.ref.namespace is None else f"in namespace {binding.ref.namespace}"
    return Violation(
        f"{binding.ref} lets {some(subjects_of(exposures))} {what} {scope}, through {some(list(dict.fromkeys(rules)))}",
        ("roleRef", "name"),
        severity=worst(rated(e) for e in exposures),
    )
