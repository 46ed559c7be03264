"""Where a risky grant becomes a finding, for the rules that look for one kind of danger.

The finding goes to the rule of the role that declares the power (path ``rules[i]``), since that
is what a person narrows, with the subjects and bindings that receive it in the message. When the
declaring role is Kubernetes' own (``edit``, ``cluster-admin``, ``system:*``), nobody edits it;
the finding goes to the binding instead (path ``roleRef.name``). A custom role that declares a
power nobody is granted yet is reported at low severity: a latent grant. A rule that grants
everything grants every danger, so each danger rule reports it on its own: what a rule finds does
not depend on which other rules are selected.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from stockade.model.finding import Severity
from stockade.rbac.danger import Danger
from stockade.rbac.exposure import Exposure
from stockade.rbac.index import IndexedBinding
from stockade.rbac.model import ObjectRef
from stockade.rules.base import Outcome, Path, Violation
from stockade.rules.rb._messages import describe, some, subjects_of, where, worst
from stockade.rules.rb._scan import CustomRole, RbacScan

Rate = Callable[[RbacScan, Exposure], Severity]
Rated = Callable[[Exposure], Severity]


def danger_outcomes(
    scan: RbacScan,
    dangers: tuple[Danger, ...],
    *,
    rate: Rate | None = None,
) -> Iterator[Outcome]:
    """Outcomes for custom roles (findings on their rules) and custom bindings of stock roles."""

    def rated(exposure: Exposure) -> Severity:
        return rate(scan, exposure) if rate is not None else scan.severity(exposure.match, exposure.namespace)

    by_source: dict[tuple[ObjectRef, int], list[Exposure]] = defaultdict(list)
    by_binding: dict[ObjectRef, list[Exposure]] = defaultdict(list)
    for exposure in scan.exposures.of(*dangers):
        source = exposure.source
        if scan.objects.get(source) is not None and not scan.objects.is_stock_role(source):
            by_source[(source, exposure.source_index)].append(exposure)
        else:
            by_binding[exposure.binding].append(exposure)

    for custom in scan.custom_roles:
        violations = tuple(_role_violations(scan, custom, dangers, by_source, rated)) if custom.declared else ()
        malformed = scan.malformed_rules.get(custom.ref)
        if malformed:
            if violations:
                yield Outcome(custom.resource, violations)
            yield Outcome(custom.resource, error=f"{custom.ref}: {'; '.join(malformed)}")
            continue
        yield Outcome(custom.resource, violations)
    yield from scan.malformed_binding_outcomes()
    for custom_binding in scan.custom_bindings:
        binding = custom_binding.binding
        role = binding.role_ref
        if role is None or scan.index.role(role) is None:
            continue
        if scan.objects.get(role) is not None and not scan.objects.is_stock_role(role):
            continue  # findings go to the custom role's rules
        found = by_binding.get(binding.ref, [])
        yield Outcome(custom_binding.resource, (_binding_violation(scan, binding, found, rated),) if found else ())


def _role_violations(
    scan: RbacScan,
    custom: CustomRole,
    dangers: tuple[Danger, ...],
    by_source: dict[tuple[ObjectRef, int], list[Exposure]],
    rated: Rated,
) -> Iterator[Violation]:
    ref = custom.ref
    note = scan.definitions_note(ref, ref)
    for declared_rule in custom.declared:
        declared = declared_rule.matches
        path: Path = ("rules", declared_rule.manifest_position)
        granted = by_source.get((ref, declared_rule.position))
        if granted:
            what = describe(e.match for e in granted)
            holders = subjects_of(granted)
            yield Violation(
                f"{ref} rules[{path[1]}] lets {some(holders)} {what}, {where(granted)}{note}",
                path,
                severity=worst(rated(e) for e in granted),
            )
            continue
        latent = [m for m in declared if m.danger in dangers]
        if latent:
            yield Violation(
                f"{ref} rules[{path[1]}] would let its holders {describe(latent)}; no binding in the scanned "
                f"objects grants it where it takes effect yet, so it is a latent grant{note}",
                path,
                severity=Severity.LOW,
            )


def _binding_violation(scan: RbacScan, binding: IndexedBinding, exposures: list[Exposure], rated: Rated) -> Violation:
    # Worst first: with a role declared more than once, the most dangerous definition leads.
    exposures = sorted(exposures, key=lambda e: -rated(e).rank)
    what = describe(e.match for e in exposures)
    rules = []
    for exposure in exposures:
        text = f"{exposure.role} rules[{exposure.rule_index}]"
        if exposure.source != exposure.role:
            text += f" (from {exposure.source} rules[{exposure.source_index}])"
        rules.append(text)
    scope = "cluster-wide" if binding.ref.namespace is None else f"in namespace {binding.ref.namespace}"
    assert binding.role_ref is not None  # exposures come only from bindings with a role
    note = scan.definitions_note(binding.role_ref, exposures[0].role)
    return Violation(
        f"{binding.ref} lets {some(subjects_of(exposures))} {what} {scope}, through {some(list(dict.fromkeys(rules)))}"
        f"{note}",
        ("roleRef", "name"),
        severity=worst(rated(e) for e in exposures),
    )
