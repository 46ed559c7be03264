"""WL-012: a container without a seccomp profile (the Pod Security ``seccompProfile_restricted``
check decides which containers to look at; the legacy annotations confine nothing, as for it)."""

from __future__ import annotations

from collections.abc import Iterator

from stockade.model.finding import Area, Severity, Stage
from stockade.model.podspec import ContainerRef
from stockade.pss.baseline import SECCOMP_CONTAINER_ANNOTATION_PREFIX, SECCOMP_POD_ANNOTATION
from stockade.rules._pod import container_patch
from stockade.rules.base import RuleContext, Violation, container_rule
from stockade.rules.wl._shape import container_context, pod_context
from stockade.rules.wl._verdict import verdict

POD_FIELD = "spec.securityContext.seccompProfile"
# The kubelet stopped reading the alpha annotations in Kubernetes 1.27 (kubernetes#114947).
IGNORED_ANNOTATION_NOTE = "the seccomp.security.alpha.kubernetes.io annotation is ignored since Kubernetes 1.27"


@container_rule(
    id="WL-012",
    name="seccomp-unconfined",
    title="Container runs without a seccomp profile",
    severity=Severity.MEDIUM,
    area=Area.CONTAINER_PRIVILEGES,
    stage=Stage.WALK,
    frameworks={
        "cis-1.10": ["5.7.2"],
        "nsa-cisa": ["pod-security.hardening"],
        "owasp-k8s-2022": ["K01"],
        "owasp-k8s-2025": ["K01"],
        "mitre-attack": ["T1611"],
    },
    remediation="Set securityContext.seccompProfile.type: RuntimeDefault in the pod securityContext.",
)
def seccomp_unconfined(ctx: RuleContext, container: ContainerRef) -> Iterator[Violation]:
    """Container runs without a seccomp profile.

    ## What it does
    Flags containers whose effective seccomp profile (container, then pod `securityContext`) is
    unset or `Unconfined`. Unconfined is high severity. The legacy
    `seccomp.security.alpha.kubernetes.io/pod` and `container.seccomp.security.alpha.kubernetes.io/*`
    annotations do not count as a profile: the kubelet ignores them since Kubernetes 1.27, and
    Pod Security restricted does not accept them either. Windows pods need no profile (seccomp is
    Linux-only, and Pod Security restricted exempts them), but an explicit `Unconfined` is flagged
    on them too.

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
    denied = verdict(ctx, container.pod, "seccompProfile_restricted")  # Windows pods: only explicit types
    if denied is None:
        return
    own = container_context(container).get("seccompProfile")
    own_field = f"{container.view.field}.securityContext.seccompProfile"
    if own is not None:
        if not (denied.flags(own_field) or denied.flags(own_field + ".type")):
            return
        profile, source, field = own, "container", own_field
    else:
        profile = pod_context(container.pod).get("seccompProfile")
        if not (denied.flags(own_field) or denied.flags(POD_FIELD) or denied.flags(POD_FIELD + ".type")):
            return
        source, field = ("pod" if profile is not None else "unset"), POD_FIELD
    kind = None
    if profile is not None:
        denied.require_well_formed(field)
        denied.require_well_formed(field + ".type")
        kind = profile.get("type")
    if kind in ("RuntimeDefault", "Localhost"):
        return
    if kind != "Unconfined" and container.pod.view.windows:
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
        message = f'container "{container.name}" has no seccomp profile'
        if _legacy_annotation(container):
            message += f" ({IGNORED_ANNOTATION_NOTE})"
        yield Violation(message, container.path, remediation=fix)


def _legacy_annotation(container: ContainerRef) -> bool:
    annotations = container.pod.annotations
    return (
        SECCOMP_CONTAINER_ANNOTATION_PREFIX + container.name
    ) in annotations or SECCOMP_POD_ANNOTATION in annotations
