"""SA-001: a workload that runs as its namespace's default ServiceAccount."""

from __future__ import annotations

import shlex
from collections import defaultdict
from collections.abc import Iterator, Mapping

from stockade.model.finding import Area, Severity, Stage
from stockade.model.inventory import Inventory
from stockade.model.podspec import PodTemplate
from stockade.rules._pod import mapping, pod_patch
from stockade.rules.base import RuleContext, Violation, pod_rule
from stockade.rules.sa._accounts import DEFAULT_SA, namespace_of, service_account_name


def _default_sa_bindings(inventory: Inventory) -> Mapping[str, tuple[str, ...]]:
    """Namespace → the bindings in the inventory that grant something to its default ServiceAccount."""
    found: dict[str, list[str]] = defaultdict(list)
    for binding in inventory.of_kind("RoleBinding", "ClusterRoleBinding"):
        subjects = binding.raw.get("subjects")
        if not isinstance(subjects, list):
            continue
        for subject in subjects:
            subject = mapping(subject)
            kind, name = subject.get("kind"), subject.get("name")
            if kind == "ServiceAccount" and name == DEFAULT_SA:
                namespace = subject.get("namespace") or binding.namespace
                if isinstance(namespace, str):
                    found[namespace].append(binding.display)
            elif kind == "Group" and isinstance(name, str) and name.startswith("system:serviceaccounts:"):
                found[name.removeprefix("system:serviceaccounts:")].append(f"{binding.display} (group {name})")
    return {ns: tuple(dict.fromkeys(items)) for ns, items in found.items()}


@pod_rule(
    id="SA-001",
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
    namespace's default ServiceAccount (by name, or through the group
    `system:serviceaccounts:<namespace>`), the finding is high severity and names the binding.

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
    fix = f"kubectl create serviceaccount {shlex.quote(carrier)} -n {shlex.quote(namespace)} && " + pod_patch(
        pod, {"serviceAccountName": carrier}
    )
    bindings = ctx.analyses.get(_default_sa_bindings).get(namespace, ())
    if bindings:
        shown = ", ".join(bindings[:3]) + (f" and {len(bindings) - 3} more" if len(bindings) > 3 else "")
        yield Violation(
            f'pod {how}, so it runs as the default ServiceAccount of namespace "{namespace}",'
            f" which is granted permissions by {shown}",
            path,
            severity=Severity.HIGH,
            remediation=fix,
        )
    else:
        yield Violation(
            f'pod {how}, so it runs as the default ServiceAccount of namespace "{namespace}"',
            path,
            remediation=fix,
        )
