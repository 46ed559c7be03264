"""WL: kernel confinement (seccomp, AppArmor) and resource limits of containers."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.pss.facts import windows_pod
from stockade.rules._pod import container_patch, effective, mapping
from stockade.rules.base import Scope, Violation, rule

PRIVS = "container-privileges"
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"


@rule(
    id="WL-012",
    name="seccomp-unconfined",
    title="Container runs without a seccomp profile",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.CONTAINER,
    frameworks={
        "cis-1.10": ["5.7.2"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Set securityContext.seccompProfile.type: RuntimeDefault in the pod securityContext.",
)
def seccomp_unconfined(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container runs without a seccomp profile.

    ## What it does
    Flags containers whose effective seccomp profile (container, then pod `securityContext`, then
    the legacy annotations) is unset or `Unconfined`. Unconfined is high severity. Windows pods
    need no profile (seccomp is Linux-only, and Pod Security restricted exempts them), but an
    explicit `Unconfined` is flagged on them too.

    ## Why is this bad?
    Without seccomp every system call reaches the kernel, including the rarely used ones that most
    kernel privilege-escalation exploits go through. `RuntimeDefault` blocks them at no cost to
    ordinary applications.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1
          securityContext:
            seccompProfile: {type: Unconfined}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      securityContext:
        seccompProfile: {type: RuntimeDefault}
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Remediation
    Set `seccompProfile: {type: RuntimeDefault}` in the pod securityContext (or a `Localhost`
    profile made for the application).

    ## References
    - https://kubernetes.io/docs/tutorials/security/seccomp/
    """
    profile, source = effective(container, "seccompProfile")
    kind = mapping(profile).get("type") if profile is not None else None
    if kind is None:
        annotations = container.pod.annotations
        legacy = annotations.get(SECCOMP_CONTAINER_ANNOTATION + container.name) or annotations.get(
            SECCOMP_POD_ANNOTATION
        )
        if isinstance(legacy, str):
            kind = "Unconfined" if legacy == "unconfined" else "RuntimeDefault"
    if kind in ("RuntimeDefault", "Localhost"):
        return
    if kind != "Unconfined" and windows_pod(container.pod.spec):
        return
    fix = container_patch(container, {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}})
    if kind == "Unconfined":
        yield Violation(
            f'container "{container.name}" runs with seccomp Unconfined (set on the {source})',
            container.path,
            severity=Severity.HIGH,
            remediation=fix,
        )
    else:
        yield Violation(f'container "{container.name}" has no seccomp profile', container.path, remediation=fix)


@rule(
    id="WL-013",
    name="apparmor-unconfined",
    title="Container runs without AppArmor confinement",
    severity=Severity.LOW,
    area=PRIVS,
    stage=Stage.RUN,
    scope=Scope.CONTAINER,
    frameworks={
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Set securityContext.appArmorProfile.type: RuntimeDefault (Kubernetes 1.30+).",
)
def apparmor_unconfined(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container runs without AppArmor confinement.

    ## What it does
    Flags containers whose AppArmor profile (the `appArmorProfile` field of the container or pod
    securityContext, or the beta annotation) is `Unconfined` (medium) or unset (low). On nodes
    without AppArmor the field has no effect; Windows pods are not checked.

    ## Why is this bad?
    The runtime's default AppArmor profile denies writes to `/proc` and `/sys` and mounts, which
    blocks several known container escapes.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: api
      namespace: shop
      annotations:
        container.apparmor.security.beta.kubernetes.io/api: unconfined
    spec:
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      securityContext:
        appArmorProfile: {type: RuntimeDefault}
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Remediation
    Set `appArmorProfile: {type: RuntimeDefault}` in the pod securityContext.

    ## References
    - https://kubernetes.io/docs/tutorials/security/apparmor/
    """
    os_name = mapping(container.pod.spec.get("os")).get("name")
    if os_name == "windows":
        return
    profile, _ = effective(container, "appArmorProfile")
    kind = mapping(profile).get("type") if profile is not None else None
    if kind is None:
        legacy = container.pod.annotations.get(APPARMOR_ANNOTATION + container.name)
        if isinstance(legacy, str):
            kind = "Unconfined" if legacy == "unconfined" else "RuntimeDefault"
    if kind in ("RuntimeDefault", "Localhost"):
        return
    fix = container_patch(container, {"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}})
    if kind == "Unconfined":
        yield Violation(
            f'container "{container.name}" runs AppArmor-unconfined',
            container.path,
            severity=Severity.MEDIUM,
            remediation=fix,
        )
    else:
        yield Violation(f'container "{container.name}" sets no AppArmor profile', container.path, remediation=fix)


def _resource_rule(container: ContainerRef, section: str, resource: str) -> Iterator[Violation]:
    resources = mapping(container.spec.get("resources"))
    values = mapping(resources.get(section))
    if values.get(resource) in (None, "", 0, "0"):
        yield Violation(
            f'container "{container.name}" sets no {resource} {section[:-1]}',
            (*container.path, "resources"),
        )


@rule(
    id="WL-014",
    name="missing-memory-limit",
    title="Container has no memory limit",
    severity=Severity.MEDIUM,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.CONTAINER,
    frameworks={
        "nsa-cisa": ["network.resource-policies"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1499", "T1496"],
    },
    remediation="Set resources.limits.memory (or a LimitRange default for the namespace).",
)
def missing_memory_limit(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container has no memory limit.

    ## What it does
    Flags containers without `resources.limits.memory`.

    ## Why is this bad?
    One leaking or hijacked container can take all of a node's memory; the kernel's OOM killer
    then ends other tenants' pods. Limits also bound what crypto-mining costs you.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
    ```

    ## Remediation
    Set `resources.limits.memory` from observed usage, or give the namespace a LimitRange default.

    ## References
    - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
    """
    return _resource_rule(container, "limits", "memory")


@rule(
    id="WL-015",
    name="missing-cpu-limit",
    title="Container has no CPU limit",
    severity=Severity.LOW,
    area=PRIVS,
    stage=Stage.CRAWL,
    scope=Scope.CONTAINER,
    frameworks={
        "nsa-cisa": ["network.resource-policies"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1496.001"],
    },
    remediation="Set resources.limits.cpu (or a LimitRange default for the namespace).",
)
def missing_cpu_limit(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container has no CPU limit.

    ## What it does
    Flags containers without `resources.limits.cpu`.

    ## Why is this bad?
    Without a limit a hijacked container (crypto-mining is the common case) can use every core of
    its node and starve its neighbours.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1
          resources:
            limits: {cpu: 500m, memory: 256Mi}
    ```

    ## Remediation
    Set `resources.limits.cpu`, or give the namespace a LimitRange default.

    ## References
    - https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
    """
    return _resource_rule(container, "limits", "cpu")


@rule(
    id="WL-016",
    name="missing-resource-requests",
    title="Container requests no CPU or memory",
    severity=Severity.LOW,
    area=PRIVS,
    stage=Stage.WALK,
    scope=Scope.CONTAINER,
    frameworks={
        "nsa-cisa": ["network.resource-policies"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
    },
    remediation="Set resources.requests.cpu and resources.requests.memory.",
)
def missing_resource_requests(ctx: object, container: ContainerRef) -> Iterator[Violation]:
    """Container requests no CPU or memory.

    ## What it does
    Flags containers that set neither `resources.requests.cpu` nor `resources.requests.memory`, nor
    limits (a limit alone implies an equal request).

    ## Why is this bad?
    Pods without requests are "BestEffort": scheduled anywhere, evicted first, and invisible to
    capacity planning, which makes resource-exhaustion attacks on neighbours easier.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - {name: api, image: registry.example.com/shop/api:2.3.1}
    ```

    ## Use instead
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata: {name: api, namespace: shop}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:2.3.1
          resources:
            requests: {cpu: 100m, memory: 128Mi}
    ```

    ## Remediation
    Set requests from observed usage.

    ## References
    - https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/
    """
    resources = mapping(container.spec.get("resources"))
    requests = mapping(resources.get("requests"))
    limits = mapping(resources.get("limits"))
    missing = [r for r in ("cpu", "memory") if requests.get(r) in (None, "") and limits.get(r) in (None, "")]
    if missing:
        yield Violation(
            f'container "{container.name}" requests no {" or ".join(missing)}',
            (*container.path, "resources") if resources else container.path,
            remediation=container_patch(container, {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}),
        )
