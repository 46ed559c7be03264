"""EW-006: an Istio ALLOW policy that lets every caller in."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import is_list, is_map
from stockade.model.resource import Resource
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import ISTIO_SECURITY, mesh_scan, spec_of


def _narrows(items: object, key: str) -> bool:
    """Whether a ``from`` (``source``) or ``to`` (``operation``) list narrows anything: every item
    must (the items are alternatives, and an empty one matches every request)."""
    if not is_list(items) or not items:
        return False
    return all(is_map(item) and is_map(item.get(key)) and any(item[key].values()) for item in items)


def matches_everything(rule: object) -> bool:
    if not is_map(rule):
        return True
    when = rule.get("when")
    return not (
        _narrows(rule.get("from"), "source") or _narrows(rule.get("to"), "operation") or (is_list(when) and when)
    )


def _judge(policy: Resource, i: int, rule: object) -> Iterator[Violation]:
    if matches_everything(rule):
        yield Violation(
            f'AuthorizationPolicy "{policy.name}" rule {i + 1} matches every request: the policy allows every caller',
            ("spec", "rules", i),
        )
        return
    assert is_map(rule)
    sources = rule.get("from")
    for j, item in enumerate(sources if is_list(sources) else ()):
        source = item.get("source") if is_map(item) else None
        for field in ("principals", "namespaces"):
            values = source.get(field) if is_map(source) else None
            if is_list(values) and "*" in values:
                yield Violation(
                    f'AuthorizationPolicy "{policy.name}" rule {i + 1} allows {field} "*": every caller with a mesh '
                    "identity",
                    ("spec", "rules", i, "from", j, "source", field),
                )


@inventory_rule(
    id="EW-006",
    reads={READS_ANY},
    name="authorization-allows-everyone",
    title="Mesh authorization policy allows every caller",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.RUN,
    frameworks={"nsa-cisa": ["network.policies"], "owasp-k8s-2025": ["K05"], "mitre-attack": ["T1046"]},
    remediation='Name the callers in every ALLOW rule: from.source.principals (or namespaces), without a bare "*".',
)
def authorization_allows_everyone(ctx: RuleContext) -> Iterator[Outcome]:
    """Mesh authorization policy allows every caller.

    ## What it does
    Flags Istio `ALLOW` AuthorizationPolicies (the default action) with a rule that matches every
    request: `rules: [{}]`, or a rule whose `from` and `to` lists each hold an empty item (items
    are alternatives, and an empty `source` or `operation` matches anything) and that has no
    `when`. Flags too every source whose `principals` or `namespaces` list a bare `*`, which
    matches any caller with a mesh identity. A policy with no rules at all (`spec: {}`) is the
    allow-nothing policy and passes; `DENY`, `AUDIT` and `CUSTOM` policies are not judged.

    ## Why is this bad?
    ALLOW policies are alternatives: a request allowed by any rule of any of them gets in. One
    empty rule therefore switches every workload the policy selects from "only the callers named"
    to "anyone", including callers without a mesh identity, and it overrides a mesh-wide
    allow-nothing default for them. A `*` principal or namespace admits every workload with a mesh
    identity, which is what having no policy meant.

    ## Example
    ```yaml
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: cart-callers, namespace: shop}
    spec:
      selector: {matchLabels: {app: cart}}
      rules:
        - {}
    ---
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: orders-callers, namespace: shop}
    spec:
      selector: {matchLabels: {app: orders}}
      rules:
        - from: [{source: {principals: ["*"]}}]
    ```

    ## Use instead
    ```yaml
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: cart-callers, namespace: shop}
    spec:
      selector: {matchLabels: {app: cart}}
      rules:
        - from: [{source: {principals: [cluster.local/ns/shop/sa/frontend]}}]
    ---
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: orders-callers, namespace: shop}
    spec:
      selector: {matchLabels: {app: orders}}
      rules:
        - from: [{source: {namespaces: [shop]}}]
          to: [{operation: {methods: [GET]}}]
    ```

    ## Remediation
    Name the principals (or namespaces) that call the workload. A workload that really serves
    everyone, such as a public front end behind a gateway, is better named in an exception with a
    reason and an expiry than left open without one.

    ## References
    - https://istio.io/latest/docs/reference/config/security/authorization-policy/
    - https://istio.io/latest/docs/concepts/security/#allow-nothing-deny-all-and-allow-all-policy
    """
    mesh = ctx.analyses.get(mesh_scan)
    if mesh.istio is None:
        return
    for policy in ctx.inventory.of_kind("AuthorizationPolicy"):
        if policy.group != ISTIO_SECURITY:
            continue
        spec = spec_of(policy)
        if str(spec.get("action") or "ALLOW").upper() != "ALLOW":
            continue
        rules = spec.get("rules")
        yield Outcome(
            policy, tuple(v for i, rule in enumerate(rules if is_list(rules) else ()) for v in _judge(policy, i, rule))
        )
