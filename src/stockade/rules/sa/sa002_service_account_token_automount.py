"""SA-002: a pod that gets an API token mounted although neither it nor its ServiceAccount opts out."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import PodTemplate
from stockade.rules._pod import pod_patch
from stockade.rules.base import RuleContext, Violation, is_false, is_true, pod_rule
from stockade.rules.sa._accounts import namespace_of, service_account_name


@pod_rule(
    id="SA-002",
    reads={"ServiceAccount"},
    name="service-account-token-automount",
    title="Pod mounts a ServiceAccount token it may not need",
    severity=Severity.MEDIUM,
    area=Area.SERVICE_ACCOUNTS,
    stage=Stage.WALK,
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
    namespace = namespace_of(ctx, pod.carrier)
    # Declared more than once in the manifests: the token is mounted unless every copy opts out.
    accounts = ctx.inventory.get_all("ServiceAccount", namespace, name)
    if not accounts:
        yield Violation(
            f'pod does not set automountServiceAccountToken: false (ServiceAccount "{name}" is not in the scan,'
            " so its setting is unknown)",
            pod.spec_path,
            remediation=fix,
        )
    elif not all(is_false(account.raw.get("automountServiceAccountToken")) for account in accounts):
        yield Violation(
            f'neither the pod nor its ServiceAccount "{name}" sets automountServiceAccountToken: false',
            pod.spec_path,
            remediation=fix,
        )
