"""RB-007: who can impersonate users, groups or ServiceAccounts."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.danger import Danger
from stockade.rbac.exposure import Exposure
from stockade.rbac.model import MASTERS_GROUP
from stockade.rules.base import Outcome, RuleContext, inventory_rule
from stockade.rules.rb._outcomes import danger_outcomes
from stockade.rules.rb._scan import REVIEW_READS, RbacScan, rbac_scan


def _impersonate_rate(scan: RbacScan, exposure: Exposure) -> Severity:
    """Impersonating named identities is as bad as those identities, compared as full identities:
    the user ``deployer`` is not the ServiceAccount ``payments/deployer``."""
    match = exposure.match
    if not match.names:
        return scan.severity(match, exposure.namespace)
    privileged: set[tuple[str, str, str | None]] = {("groups", MASTERS_GROUP, None)}
    for holder in scan.review.holders:
        subject = holder.subject
        if subject.kind == "Group":
            privileged.add(("groups", subject.name, None))
        elif subject.username is not None:
            privileged.add(("users", subject.username, None))
            if subject.kind == "ServiceAccount":
                privileged.add(("serviceaccounts", subject.name, subject.namespace))
    resources = {allowed.partition(" ")[2] for allowed in match.allows}
    for name in match.names:
        for resource in resources:
            if resource == "serviceaccounts":
                # A RoleBinding reaches the ServiceAccounts of its namespace; a cluster binding, all.
                if any(
                    (kind, held) == (resource, name) and exposure.namespace in (None, namespace)
                    for kind, held, namespace in privileged
                ):
                    return Severity.CRITICAL
            elif (resource, name, None) in privileged:
                return Severity.CRITICAL
    return Severity.HIGH if exposure.namespace is None else Severity.MEDIUM


@inventory_rule(
    id="RB-007",
    reads=REVIEW_READS,
    name="impersonate-identities",
    title="Subjects can impersonate other identities",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1078", "T1098.006"],
        "cis-1.10": ["5.1.8"],
    },
    remediation="Remove the impersonate verb; where needed, limit it with resourceNames to harmless identities.",
)
def impersonate_identities(ctx: RuleContext) -> Iterator[Outcome]:
    """Subjects can impersonate other identities.

    ## What it does
    Flags role rules that allow `impersonate` on `users`, `groups`, `serviceaccounts`, or on
    `uids` and `userextras` of `authentication.k8s.io`. Unrestricted impersonation of users or
    groups is critical (it reaches `system:masters`); impersonating named identities is critical
    when one of them is cluster-admin-equivalent, high otherwise. Through a RoleBinding only the
    namespace's ServiceAccounts can be impersonated (medium, as `edit` allows it).

    ## Why is this bad?
    An impersonating request is authorized as the impersonated identity: `kubectl --as=x --as-group
    =system:masters` is a superuser request, whatever the caller's own roles are.

    ## Example
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: support-impersonator}
    rules:
      - apiGroups: [""]
        resources: [users, groups]
        verbs: [impersonate]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: support-impersonator}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: support-impersonator}
    subjects:
      - {kind: Group, name: support, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Use instead
    ```yaml
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: support-reader}
    rules:
      - apiGroups: [""]
        resources: [namespaces, events]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: support-reader}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: support-reader}
    subjects:
      - {kind: Group, name: support, apiGroup: rbac.authorization.k8s.io}
    ```

    ## Remediation
    Remove `impersonate`. Tools that need it (an authenticating proxy) should get it with
    `resourceNames` listing exactly the users and groups they may assume, never `system:masters`.

    ## References
    - https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#impersonate-verb
    """
    yield from danger_outcomes(rbac_scan(ctx), (Danger.IMPERSONATE,), rate=_impersonate_rate)
