"""SA-001: a workload that runs as its namespace's default ServiceAccount."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from stockade.model.finding import Area, Severity, Stage
from stockade.model.inventory import Inventory
from stockade.model.podspec import PodTemplate
from stockade.rbac.model import Subject
from stockade.rules._pod import pod_patch
from stockade.rules.base import RuleContext, Violation, pod_rule
from stockade.rules.rb._messages import some
from stockade.rules.rb._scan import RBAC_READS, RbacScan, rbac_scan
from stockade.rules.sa._accounts import DEFAULT_SA, namespace_of, service_account_name


@dataclass(frozen=True, slots=True)
class DefaultAccountGrants:
    """The bindings that reach one namespace's default ServiceAccount, Kubernetes' own left out."""

    granting: tuple[str, ...]  # bindings whose role is in the scan and grants something
    unknown_role: tuple[str, ...]  # bindings to a role not in the scan: what they grant is unknown


class _GrantsByNamespace:
    """Per-scan memo of `DefaultAccountGrants` by namespace (many pods share a namespace)."""

    def __init__(self, inventory: Inventory) -> None:  # built by Analyses.get, which passes the inventory
        self._found: dict[str, DefaultAccountGrants] = {}

    def of(self, scan: RbacScan, namespace: str) -> DefaultAccountGrants:
        found = self._found.get(namespace)
        if found is None:
            found = self._found[namespace] = _default_account_grants(scan, namespace)
        return found


def _default_account_grants(scan: RbacScan, namespace: str) -> DefaultAccountGrants:
    """Resolved as the authorizer does (by name, as a User, through its groups); bootstrap grants excepted."""
    granting: list[str] = []
    unknown: list[str] = []
    account = Subject.service_account(namespace, DEFAULT_SA)
    for binding, subjects in scan.index.bindings_of(account):
        chosen = [s for s in subjects if not scan.objects.is_stock_grant(binding.ref, s)]
        if not chosen or binding.role_ref is None:
            continue
        shown = f"{binding.ref}{_through(chosen[0])}"
        role = scan.index.role(binding.role_ref)
        if role is None:
            unknown.append(f"{shown} to {binding.role_ref}")
        elif role.rules:
            granting.append(shown)
    return DefaultAccountGrants(tuple(dict.fromkeys(granting)), tuple(dict.fromkeys(unknown)))


def _through(subject: Subject) -> str:
    """How the binding reaches the account, when it does not name it as a ServiceAccount."""
    if subject.kind == "Group":
        return f" (group {subject.name})"
    if subject.kind == "User":
        return f" (as user {subject.name})"
    return ""


@pod_rule(
    id="SA-001",
    reads=RBAC_READS,
    name="default-service-account",
    title="Workload runs as the namespace's default ServiceAccount",
    severity=Severity.MEDIUM,
    area=Area.SERVICE_ACCOUNTS,
    stage=Stage.CRAWL,
    frameworks={
        "cis-1.10": ["5.1.5"],
        "nsa-cisa": ["authn.rbac", "pod-security.sa-tokens"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1078.001", "T1528"],
    },
    remediation="Create a ServiceAccount for the workload and set spec.serviceAccountName to it.",
)
def default_service_account(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Workload runs as the namespace's default ServiceAccount.

    ## What it does
    Flags pod templates whose `serviceAccountName` (or the deprecated `serviceAccount`) is unset or
    `default`. When a RoleBinding or ClusterRoleBinding in the scan grants permissions to that
    namespace's default ServiceAccount, the finding is high severity and names the binding. A
    binding reaches the account as the API server decides it: by name, as the User
    `system:serviceaccount:<namespace>:default`, or through the groups every ServiceAccount is in
    (`system:serviceaccounts:<namespace>`, `system:serviceaccounts`, `system:authenticated`).
    Kubernetes' own bootstrap bindings (such as `system:basic-user` for `system:authenticated`),
    recognised by exact name, role and subjects, do not count. A binding to a role that is not in
    the scan is named as an unknown role without raising the severity: what it grants is unknown
    (RB-016 reports the binding itself).

    ## Why is this bad?
    Every pod in a namespace that does not choose an identity shares the default one. Any
    permission granted to it for one workload is granted to all of them, and audit logs cannot tell
    the workloads apart. Auditing default ServiceAccount use is the crawl stage of service accounts.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: api, namespace: shop}
    automountServiceAccountToken: false
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: shop}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          serviceAccountName: api
          containers:
            - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Remediation
    Create one ServiceAccount per workload (`kubectl create serviceaccount api -n shop`), set
    `spec.serviceAccountName`, bind only the permissions that workload needs, and remove any
    bindings to `default`.

    ## References
    - https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/
    - https://kubernetes.io/docs/concepts/security/service-accounts/
    """
    if service_account_name(pod) != DEFAULT_SA:
        return
    namespace = namespace_of(ctx, pod.carrier)
    explicit = any(pod.spec.get(key) == DEFAULT_SA for key in ("serviceAccountName", "serviceAccount"))
    how = "sets serviceAccountName: default" if explicit else "sets no serviceAccountName"
    path = (*pod.spec_path, "serviceAccountName") if "serviceAccountName" in pod.spec else pod.spec_path
    carrier = pod.carrier.name or "app"
    patch = pod_patch(pod, {"serviceAccountName": carrier})

    def fix() -> str:
        return f"kubectl create serviceaccount {shlex.quote(carrier)} -n {shlex.quote(namespace)} && " + patch()

    grants = ctx.analyses.get(_GrantsByNamespace).of(rbac_scan(ctx), namespace)
    runs_as = f'pod {how}, so it runs as the default ServiceAccount of namespace "{namespace}"'
    unknown = (
        f"; it is also bound to roles not in the scan by {some(grants.unknown_role)} (unknown role:"
        " what they grant cannot be judged)"
        if grants.unknown_role
        else ""
    )
    if grants.granting:
        yield Violation(
            f"{runs_as}, which is granted permissions by {some(grants.granting)}{unknown}",
            path,
            severity=Severity.HIGH,
            remediation=fix,
        )
    else:
        yield Violation(f"{runs_as}{unknown}", path, remediation=fix)
