"""RB-014: bindings to anonymous, every authenticated identity or every ServiceAccount."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.model import (
    ANONYMOUS_USER,
    AUTHENTICATED_GROUP,
    SERVICE_ACCOUNTS_GROUP,
    UNAUTHENTICATED_GROUP,
    Subject,
)
from stockade.rules.base import Outcome, RuleContext, Violation, inventory_rule
from stockade.rules.rb._messages import subject_path, summaries
from stockade.rules.rb._scan import RBAC_READS, rbac_scan

# Who a catch-all subject is, and how bad granting it a harmless role is.
_EVERYONE: Mapping[Subject, tuple[str, Severity]] = {
    Subject.user(ANONYMOUS_USER): ("every unauthenticated request", Severity.HIGH),
    Subject.group(UNAUTHENTICATED_GROUP): ("every unauthenticated request", Severity.HIGH),
    Subject.group(AUTHENTICATED_GROUP): (
        "every authenticated identity, every ServiceAccount included",
        Severity.MEDIUM,
    ),
    Subject.group(SERVICE_ACCOUNTS_GROUP): ("every ServiceAccount of every namespace", Severity.MEDIUM),
}


@inventory_rule(
    id="RB-014",
    reads=RBAC_READS,
    name="grant-to-all-users",
    title="Binding grants permissions to anonymous or all users",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.CRAWL,
    frameworks={
        "nsa-cisa": ["authn.rbac", "authn.authentication"],
        "owasp-k8s-2022": ["K03", "K06"],
        "owasp-k8s-2025": ["K02", "K09"],
        "mitre-attack": ["T1078", "T1078.001"],
    },
    remediation="Bind the role to the groups or ServiceAccounts that need it, not to everyone.",
)
def grant_to_all_users(ctx: RuleContext) -> Iterator[Outcome]:
    """Binding grants permissions to anonymous or all users.

    ## What it does
    Flags custom bindings whose subjects include the user `system:anonymous` or the groups
    `system:unauthenticated`, `system:authenticated` or `system:serviceaccounts`. Critical when the
    bound role carries a dangerous permission (any of RB-002 to RB-012); otherwise high for
    anonymous access and medium for all authenticated users. Kubernetes' own discovery bindings
    (`system:discovery`, `system:basic-user`, `system:public-info-viewer`, kubeadm's cluster-info
    binding) are not reported.

    ## Why is this bad?
    `system:unauthenticated` is anyone who can reach the API server over the network.
    `system:authenticated` is every identity the cluster accepts: every ServiceAccount of every
    pod, and on some managed platforms any account of the cloud provider.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: everyone-can-view}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
    subjects:
      - {kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: developers-can-view}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
    subjects:
      - {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Replace the catch-all subject by the groups that need the access. Review bindings of
    `system:unauthenticated` first: the API server may be reachable by more networks than expected.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#periodic-review
    - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles
    """
    scan = rbac_scan(ctx)
    yield from scan.malformed_binding_outcomes()
    for custom in scan.custom_bindings:
        broad = [s for s in custom.subjects if s in _EVERYONE]
        if not broad:
            if custom.subjects:
                yield Outcome(custom.resource)
            continue
        binding = custom.binding
        dangers = scan.dangers_through(binding.ref)
        violations = []
        for subject in broad:
            who, severity = _EVERYONE[subject]
            role = binding.role_ref or "a role it cannot resolve"
            message = f"{binding.ref} grants {role} to {subject}: {who}"
            if dangers:
                message += f", including {summaries(dangers)}"
                severity = Severity.CRITICAL
            violations.append(
                Violation(message, subject_path(custom.resource, subject, binding.ref.namespace), severity)
            )
        yield Outcome(custom.resource, tuple(violations))
