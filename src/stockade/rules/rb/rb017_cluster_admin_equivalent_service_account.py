"""RB-017: ServiceAccounts that are cluster-admin-equivalent, directly or one step away."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.rbac.model import Subject
from stockade.rbac.review import Route
from stockade.rules.base import Outcome, Path, RuleContext, Violation, inventory_rule
from stockade.rules.rb._messages import subject_path
from stockade.rules.rb._scan import REVIEW_READS, rbac_scan


@inventory_rule(
    id="RB-017",
    reads=REVIEW_READS | {"ServiceAccount"},
    name="cluster-admin-equivalent-service-account",
    title="ServiceAccount is cluster-admin-equivalent",
    severity=Severity.CRITICAL,
    area=Area.RBAC,
    stage=Stage.WALK,
    frameworks={
        "nsa-cisa": ["authn.rbac"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1528", "T1078"],
        "cis-1.10": ["5.1.1"],
    },
    remediation="Give the ServiceAccount only what its workload or pipeline does, in the namespaces it works in.",
)
def cluster_admin_equivalent_service_account(ctx: RuleContext) -> Iterator[Outcome]:
    """ServiceAccount is cluster-admin-equivalent.

    ## What it does
    Reports every ServiceAccount that the privileged-access review (`stockade rbac privileged`)
    finds cluster-admin-equivalent: it holds every verb on everything cluster-wide, or is one step
    from it (it can bind cluster-admin, escalate ClusterRoles, impersonate an admin, run or exec
    into pods as an admin ServiceAccount, or read or mint an admin ServiceAccount's token). The
    finding is attached to the ServiceAccount object when it is scanned, else to the binding.
    Kubernetes' own controllers in `kube-system` are not reported.

    ## Why is this bad?
    A ServiceAccount's token lives in its pods, its CI system's variables and its deploy logs. One
    leak, one exec into one pod, and the cluster belongs to whoever holds it.

    ## Example
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: deployer, namespace: payments}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: payments-deployer-admin}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: payments}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: deployer, namespace: payments}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: deployer, namespace: payments}
    rules:
      - apiGroups: [apps]
        resources: [deployments, statefulsets]
        verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: deployer, namespace: payments}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
    subjects:
      - {kind: ServiceAccount, name: deployer, namespace: payments}
    ```

    ## Remediation
    Bind a Role with the verbs the account uses in the namespaces it deploys to. For a pipeline,
    prefer an in-cluster GitOps controller, whose permissions never leave the cluster.

    ## References
    - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
    - https://kubernetes.io/docs/concepts/security/service-accounts/
    """
    scan = rbac_scan(ctx)
    holders = {h.subject: h for h in scan.review.holders if h.subject.kind == "ServiceAccount" and not h.system}
    reported: set[Subject] = set()
    for account in ctx.inventory.of_kind("ServiceAccount"):
        namespace = ctx.inventory.effective_namespace(account) or "default"
        subject = Subject.service_account(namespace, account.name)
        holder = holders.get(subject)
        if holder is None:
            yield Outcome(account)
            continue
        reported.add(subject)
        yield Outcome(account, (_holder_violation(holder.subject, holder.routes, ()),))
    for subject, holder in holders.items():
        if subject in reported:
            continue
        grant = next((g for route in holder.routes for g in route.grants), None)
        resource = scan.objects.get(grant.binding) if grant is not None else None
        if grant is None or resource is None:
            continue
        path = subject_path(resource, grant.subject, grant.binding.namespace)
        yield Outcome(resource, (_holder_violation(subject, holder.routes, path),))


def _holder_violation(subject: Subject, routes: tuple[Route, ...], path: Path) -> Violation:
    how = "; ".join(route.detail for route in routes)
    return Violation(f"{subject} is cluster-admin-equivalent: {how}", path)
