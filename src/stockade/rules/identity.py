"""SA and NS: which identity a workload runs as, and which namespace an object lives in."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping

from stockade.model.finding import Severity, Stage
from stockade.model.inventory import DEFAULT_NAMESPACE, Inventory
from stockade.model.podspec import PodTemplate
from stockade.model.resource import Resource
from stockade.rules._pod import mapping, pod_patch
from stockade.rules.base import RuleContext, Scope, Violation, is_false, is_true, rule

DEFAULT_SA = "default"


def service_account_name(pod: PodTemplate) -> str:
    """The ServiceAccount a pod runs as: serviceAccountName, the deprecated serviceAccount, or default."""
    for key in ("serviceAccountName", "serviceAccount"):
        value = pod.spec.get(key)
        if isinstance(value, str) and value:
            return value
    return DEFAULT_SA


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


def _namespace(ctx: RuleContext, resource: Resource) -> str:
    return ctx.inventory.effective_namespace(resource) or DEFAULT_NAMESPACE


@rule(
    id="SA-001",
    name="default-service-account",
    title="Workload runs as the namespace's default ServiceAccount",
    severity=Severity.MEDIUM,
    area="service-accounts",
    stage=Stage.CRAWL,
    scope=Scope.POD,
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
    namespace = _namespace(ctx, pod.carrier)
    explicit = any(pod.spec.get(key) == DEFAULT_SA for key in ("serviceAccountName", "serviceAccount"))
    how = "sets serviceAccountName: default" if explicit else "sets no serviceAccountName"
    path = (*pod.spec_path, "serviceAccountName") if "serviceAccountName" in pod.spec else pod.spec_path
    carrier = pod.carrier.name or "app"
    fix = f"kubectl create serviceaccount {carrier} -n {namespace} && " + pod_patch(
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


@rule(
    id="SA-002",
    name="service-account-token-automount",
    title="Pod mounts a ServiceAccount token it may not need",
    severity=Severity.MEDIUM,
    area="service-accounts",
    stage=Stage.WALK,
    scope=Scope.POD,
    frameworks={
        "cis-1.10": ["5.1.6"],
        "nsa-cisa": ["pod-security.sa-tokens"],
        "owasp-k8s-2022": ["K01", "K03"],
        "owasp-k8s-2025": ["K01", "K02"],
        "mitre-attack": ["T1528", "T1552.007"],
    },
    remediation="Set automountServiceAccountToken: false on the pod (or its ServiceAccount) unless it calls the API.",
)
def service_account_token_automount(ctx: RuleContext, pod: PodTemplate) -> Iterator[Violation]:
    """Pod mounts a ServiceAccount token it may not need.

    ## What it does
    Flags pods that get an API token mounted: `automountServiceAccountToken` is not false on the
    pod and, when the pod leaves it unset, not false on its ServiceAccount either. The pod's own
    field wins when set, as in the kubelet: `true` on the pod mounts the token whatever the
    ServiceAccount says. When the ServiceAccount is not part of the scan only the pod is judged.

    ## Why is this bad?
    The token at `/var/run/secrets/kubernetes.io/serviceaccount/token` is the pod's identity
    towards the API server. Most applications never call the API, but anyone who gets code
    execution in the pod (or reads its file system) can use the token with every permission the
    ServiceAccount has.

    ## Example
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: web, namespace: shop}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop}
    spec:
      serviceAccountName: web
      containers:
        - {name: web, image: registry.example.com/shop/web:3.2}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: web, namespace: shop}
    automountServiceAccountToken: false
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop}
    spec:
      serviceAccountName: web
      containers:
        - {name: web, image: registry.example.com/shop/web:3.2}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: batch, namespace: shop}
    spec:
      serviceAccountName: batch
      automountServiceAccountToken: false
      containers:
        - {name: batch, image: registry.example.com/shop/batch:1.0}
    ```

    ## Remediation
    Set `automountServiceAccountToken: false` on the ServiceAccount and opt in with `true` on the
    few pods that call the API (or mount a short-lived projected token where they need it).

    ## References
    - https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting
    """
    pod_value = pod.spec.get("automountServiceAccountToken")
    fix = pod_patch(pod, {"automountServiceAccountToken": False})
    field_path = (*pod.spec_path, "automountServiceAccountToken")
    if is_false(pod_value):
        return
    if is_true(pod_value):
        yield Violation("pod sets automountServiceAccountToken: true", field_path, remediation=fix)
        return
    name = service_account_name(pod)
    namespace = _namespace(ctx, pod.carrier)
    account = ctx.inventory.get("ServiceAccount", namespace, name)
    if account is None:
        yield Violation(
            f'pod does not set automountServiceAccountToken: false (ServiceAccount "{name}" is not in the scan,'
            " so its setting is unknown)",
            pod.spec_path,
            remediation=fix,
        )
    elif not is_false(account.raw.get("automountServiceAccountToken")):
        yield Violation(
            f'neither the pod nor its ServiceAccount "{name}" sets automountServiceAccountToken: false',
            pod.spec_path,
            remediation=fix,
        )


@rule(
    id="SA-003",
    name="service-account-automount-enabled",
    title="ServiceAccount lets pods mount its token by default",
    severity=Severity.LOW,
    area="service-accounts",
    stage=Stage.WALK,
    scope=Scope.OBJECT,
    kinds={"ServiceAccount"},
    frameworks={
        "cis-1.10": ["5.1.5", "5.1.6"],
        "nsa-cisa": ["pod-security.sa-tokens"],
        "owasp-k8s-2022": ["K03"],
        "owasp-k8s-2025": ["K02"],
        "mitre-attack": ["T1528"],
    },
    remediation="Set automountServiceAccountToken: false on the ServiceAccount; pods that need a token opt in.",
)
def service_account_automount_enabled(ctx: object, account: Resource) -> Iterator[Violation]:
    """ServiceAccount lets pods mount its token by default.

    ## What it does
    Flags ServiceAccount objects that do not set `automountServiceAccountToken: false`.

    ## Why is this bad?
    The ServiceAccount's setting is the default for every pod that runs as it. Turning automount off
    at the account means a new workload gets no token unless it asks for one, instead of each pod
    having to remember to opt out. It matters most for each namespace's `default` account.

    ## Example
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: default, namespace: shop}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: default, namespace: shop}
    automountServiceAccountToken: false
    ```

    ## Remediation
    `kubectl patch serviceaccount default -n shop -p '{"automountServiceAccountToken": false}'`,
    and set `automountServiceAccountToken: true` on the pods that really call the API.

    ## References
    - https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting
    """
    value = account.raw.get("automountServiceAccountToken")
    if is_false(value):
        return
    how = (
        "sets automountServiceAccountToken: true"
        if is_true(value)
        else "does not set automountServiceAccountToken: false"
    )
    namespace = f" -n {account.namespace}" if account.namespace else ""
    patch = json.dumps({"automountServiceAccountToken": False})
    yield Violation(
        f'ServiceAccount "{account.name}" {how}',
        ("automountServiceAccountToken",) if value is not None else (),
        remediation=f"kubectl patch serviceaccount {account.name}{namespace} -p '{patch}'",
    )


# Namespaced application objects (and every built-in pod carrier) that NS-001 looks at.
NAMESPACED_APP_KINDS = frozenset(
    {
        "Pod",
        "PodTemplate",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "CronJob",
        "Rollout",
        "Service",
        "ConfigMap",
        "Secret",
        "Ingress",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "PersistentVolumeClaim",
    }
)

# Objects Kubernetes itself creates in the default namespace: nobody can move them.
_BUILT_IN_DEFAULT_OBJECTS = frozenset(
    {("Service", "kubernetes"), ("ServiceAccount", DEFAULT_SA), ("ConfigMap", "kube-root-ca.crt")}
)


def _built_in(resource: Resource) -> bool:
    if (resource.kind, resource.name) in _BUILT_IN_DEFAULT_OBJECTS:
        return True
    # The legacy token Secret of the default ServiceAccount, created by the token controller.
    return (
        resource.kind == "Secret"
        and resource.raw.get("type") == "kubernetes.io/service-account-token"
        and resource.annotations.get("kubernetes.io/service-account.name") == DEFAULT_SA
    )


def _owner_in_scan(inventory: Inventory, resource: Resource, namespace: str) -> bool:
    owners = resource.metadata.get("ownerReferences")
    if not isinstance(owners, list):
        return False
    for owner in owners:
        owner = mapping(owner)
        kind, name = owner.get("kind"), owner.get("name")
        if (
            owner.get("controller") is True
            and isinstance(kind, str)
            and isinstance(name, str)
            and inventory.get(kind, namespace, name) is not None
        ):
            return True
    return False


@rule(
    id="NS-001",
    name="default-namespace",
    title="Object lives in the default namespace",
    severity=Severity.LOW,
    area="namespaces",
    stage=Stage.CRAWL,
    scope=Scope.OBJECT,
    kinds=NAMESPACED_APP_KINDS,
    frameworks={
        "cis-1.10": ["5.7.1", "5.7.4"],
        "nsa-cisa": ["network.namespaces"],
        "owasp-k8s-2022": ["K07"],
        "owasp-k8s-2025": ["K05"],
    },
    remediation="Create a namespace for the application and deploy the object there (metadata.namespace).",
)
def default_namespace(ctx: RuleContext, resource: Resource) -> Iterator[Violation]:
    """Object lives in the default namespace.

    ## What it does
    Flags workloads (every built-in kind that carries a pod template, and Argo Rollouts), Services,
    ConfigMaps, Secrets, Ingresses, ServiceAccounts, Roles, RoleBindings and
    PersistentVolumeClaims whose namespace is `default`, or unset: a manifest without
    `metadata.namespace` lands in `default` unless it is applied with `-n`. Objects that Kubernetes
    itself creates there (the `kubernetes` Service, the `default` ServiceAccount and its token,
    `kube-root-ca.crt`) are not reported, nor objects whose controlling owner is in the scan (the
    owner is reported instead).

    ## Why is this bad?
    Namespaces are the unit of RBAC, NetworkPolicy, quotas and Pod Security admission. Everything
    in `default` shares one set of those, usually the loosest one, and anyone granted access to
    `default` for one application reaches all of them.

    ## Example
    ```yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, namespace: default}
    spec:
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - {name: api, image: registry.example.com/shop/api:2.3.1}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: api-settings}
    data: {LOG_LEVEL: info}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
    ---
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
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: api-settings, namespace: shop}
    data: {LOG_LEVEL: info}
    ```

    ## Remediation
    Create a namespace per application or team (`kubectl create namespace shop`), set
    `metadata.namespace` in the manifests (or `namespace:` in kustomization.yaml), and re-create the
    objects there; an object cannot be moved between namespaces.

    ## References
    - https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
    """
    if ctx.inventory.effective_namespace(resource) != DEFAULT_NAMESPACE or _built_in(resource):
        return
    if _owner_in_scan(ctx.inventory, resource, DEFAULT_NAMESPACE):
        return
    if resource.namespace is None:
        yield Violation(
            f"{resource.kind} has no namespace set; it lands in the default namespace unless applied with -n",
            ("metadata",),
        )
    else:
        # The same path whether the namespace is explicit or defaulted: a manifest and the object a
        # cluster returns for it must give the same fingerprint.
        yield Violation(f"{resource.kind} is in the default namespace", ("metadata",))
