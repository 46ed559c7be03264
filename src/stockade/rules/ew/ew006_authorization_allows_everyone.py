"""EW-006: an Istio ALLOW policy that lets every caller in."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.mesh import ISTIO_SECURITY
from stockade.model.podspec import is_list, is_map
from stockade.rules.base import READS_ANY, Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.ew._mesh import membership

NARROWING = ("from", "to", "when")


@inventory_rule(
    id="EW-006",
    reads={READS_ANY},
    name="authorization-allows-everyone",
    title="Mesh authorization policy allows every caller",
    severity=Severity.MEDIUM,
    area=Area.EAST_WEST,
    stage=Stage.RUN,
    frameworks={"nsa-cisa": ["network.policies"], "owasp-k8s-2025": ["K05"]},
    remediation='Name the callers: from.source.principals (or namespaces) without a bare "*", and give every '
    "ALLOW rule a from, to or when.",
)
def authorization_allows_everyone(ctx: RuleContext) -> Iterator[Outcome]:
    """Mesh authorization policy allows every caller.

    ## What it does
    Flags Istio `ALLOW` AuthorizationPolicies with a rule that narrows nothing (`rules: [{}]`, or a
    rule with none of `from`, `to`, `when`), and sources whose `principals` or `namespaces` list a
    bare `*`. A policy with no rules at all (`spec: {}`) is the allow-nothing policy and passes.

    ## Why is this bad?
    An empty rule matches every request, so the policy switches the workload from "only the callers
    named" to "anyone", often by a template's mistake. A `*` principal matches every workload with
    a mesh identity; it turns the policy into "any meshed workload", which is what having no
    policy meant.

    ## Example
    ```yaml
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: cart-callers, namespace: shop}
    spec:
      selector: {matchLabels: {app: cart}}
      rules:
        - {}
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
    ```

    ## Remediation
    Name the principals (or namespaces) that call the workload. A workload that really serves
    everyone, such as a public front end behind a gateway, is better named in an exception with a
    reason and an expiry than left open without one.

    ## References
    - https://istio.io/latest/docs/reference/config/security/authorization-policy/
    """
    mesh = ctx.analyses.get(membership)
    if not mesh.view.istio:
        return
    for policy in ctx.inventory.of_kind("AuthorizationPolicy"):
        if policy.group != ISTIO_SECURITY:
            continue
        spec = policy.raw.get("spec")
        spec = spec if is_map(spec) else {}
        if str(spec.get("action") or "ALLOW").upper() != "ALLOW":
            continue
        rules = spec.get("rules")
        violations = []
        for i, rule in enumerate(rules if is_list(rules) else ()):
            if not is_map(rule) or not any(rule.get(k) for k in NARROWING):
                violations.append(
                    Violation(
                        f'AuthorizationPolicy "{policy.name}" rule {i + 1} matches every request', ("spec", "rules", i)
                    )
                )
                continue
            sources = rule.get("from")
            for j, item in enumerate(sources if is_list(sources) else ()):
                source = item.get("source") if is_map(item) else None
                for field in ("principals", "namespaces"):
                    values = source.get(field) if is_map(source) else None
                    if is_list(values) and "*" in values:
                        violations.append(
                            Violation(
                                f'AuthorizationPolicy "{policy.name}" rule {i + 1} allows {field} "*": every meshed caller',
                                ("spec", "rules", i, "from", j, "source", field),
                            )
                        )
        yield Outcome(policy, tuple(violations))
